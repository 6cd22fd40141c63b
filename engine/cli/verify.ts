// `refree verify <video>`: is this a ReFree Studio video? Reads the invisible watermark (and the
// container tags, reported alongside). The first line is exactly
//   watermark found: payload <16 hex digits> (confidence <ρ>)     or     no watermark found
// Exit code 0 when the watermark is found, 3 when it is not (so scripts can branch on it), 1 when
// the file cannot be read, 2 for a bad command line.
import { verdictLine, verifyVideo } from '../watermark/verify.js';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { json } from './output.js';

export const EXIT_NOT_FOUND = 3;

export const verify: Command = {
  name: 'verify',
  summary: 'check a video for the ReFree Studio watermark (invisible payload and metadata)',
  help: `Usage: refree verify <video> [--max-seconds N] [--json]

Looks for the invisible watermark ReFree Studio puts in every exported video and reads the
container's provenance tags. The first line of output is exactly one of
  watermark found: payload <16 hex digits> (confidence <0..1>)
  no watermark found
followed by the payload's job and model halves, the metadata, and how many frames were checked.
Confidence is the share of the watermark signal that agrees with the decoded payload (1 = all).
A payload is reported only when its 32-bit keyed check matches, so an unmarked video is reported
as marked with probability below 2^-32 (docs/WATERMARK.md).

Options:
  --max-seconds N   read at most N seconds of the video (default 60)
  --json            print one JSON object instead

Exit code: 0 watermark found, 3 no watermark found, 1 the file cannot be read, 2 bad usage.`,
  options: { 'max-seconds': { type: 'string' } },
  async run({ positionals, values, json: asJson, io, signal }) {
    if (positionals.length !== 1) throw new UsageError(positionals.length ? `expected one video, got ${positionals.length}` : 'which video? usage: refree verify <video>');
    const ms = values['max-seconds'];
    const maxSeconds = ms === undefined ? undefined : Number(ms);
    if (maxSeconds !== undefined && !(maxSeconds > 0)) throw new UsageError(`--max-seconds must be a positive number, got ${String(ms)}`);
    const r = await verifyVideo(positionals[0]!, { maxSeconds, signal });
    const code = r.watermark.found ? 0 : EXIT_NOT_FOUND;
    if (asJson) {
      io.stdout(json({ ok: true, found: r.watermark.found, payload: r.watermark.payload, confidence: r.watermark.confidence, ...r }));
      return code;
    }
    const lines = [verdictLine(r)];
    if (r.watermark.found) lines.push(`  job ${r.watermark.job}, model ${r.watermark.model} (the payload's two halves)`);
    const m = r.metadata;
    if (m.aiGenerated) {
      lines.push(`metadata: AI-generated${m.generator ? ` by ${m.generator}` : ''}${m.model ? `, model ${m.model}` : ''}${m.modelHash ? ` (${m.modelHash.slice(0, 12)})` : ''}`);
      if (m.payload && r.watermark.payload) lines.push(m.payload === r.watermark.payload ? '  the metadata payload matches the watermark' : `  the metadata payload ${m.payload} differs from the watermark`);
    } else lines.push('metadata: no AI-generated tags');
    lines.push(`checked ${r.watermark.frames} frames (${r.video.width}×${r.video.height}, ${r.video.codec}) in ${r.seconds.toFixed(2)} s`);
    io.stdout(lines.join('\n'));
    return code;
  },
};
