// The metadata layer: container tags saying the video is AI-generated, by which app version and
// which model. Written by the encoder through ffmpeg's -metadata options, read back with ffprobe.
// MP4/MOV keep custom keys (ai_generated, generator, model…) only with `-movflags +use_metadata_tags`;
// Matroska/WebM keep them as they are (and ffprobe shows them upper-cased, hence the
// case-insensitive reading below). Tags are easy to strip, which is why there are two other layers.
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { promisify } from 'node:util';
import { ffprobePath } from '../runtime/ffmpeg.js';
import { payloadHex } from './message.js';

const execFileP = promisify(execFile);

export interface ProvenanceInfo {
  /** ReFree Studio's version (package.json). */
  appVersion: string;
  modelName: string;
  /** The model file's SHA-256 (hex), or any identifying hash. */
  modelHash: string;
  jobId?: string;
  /** The invisible watermark's payload, recorded for cross-checking. */
  payload?: bigint;
  /** ISO 8601; default now. */
  createdAt?: string;
}

export type Container = 'mp4' | 'mov' | 'mkv' | 'webm';

/** The human sentence written to `comment` and `description`. */
export const provenanceSentence = (i: ProvenanceInfo): string => `AI-generated video (ReFree Studio ${i.appVersion}, model ${i.modelName} ${i.modelHash.slice(0, 12)})`;

/** The tags, key → value. */
export function provenanceTags(info: ProvenanceInfo): Record<string, string> {
  const tags: Record<string, string> = {
    comment: provenanceSentence(info),
    description: provenanceSentence(info),
    ai_generated: 'true',
    generator: `ReFree Studio ${info.appVersion}`,
    model: info.modelName,
    model_hash: info.modelHash,
    creation_time: info.createdAt ?? new Date().toISOString(),
  };
  if (info.jobId) tags.job_id = info.jobId;
  if (info.payload !== undefined) tags.watermark_payload = payloadHex(info.payload);
  return tags;
}

/**
 * ffmpeg output options that write the tags. For MP4/MOV they include `-movflags` with
 * +use_metadata_tags; ffmpeg honours only the last -movflags, so pass any other flags you need
 * (e.g. '+faststart') in `movflags` rather than as a separate option.
 */
export function metadataArgs(info: ProvenanceInfo, opts: { container?: Container; movflags?: string[] } = {}): string[] {
  const args: string[] = [];
  for (const [k, v] of Object.entries(provenanceTags(info))) args.push('-metadata', `${k}=${v}`);
  const container = opts.container ?? 'mp4';
  if (container === 'mp4' || container === 'mov') args.push('-movflags', ['+use_metadata_tags', ...(opts.movflags ?? [])].join(''));
  return args;
}

export interface ProvenanceRead {
  /** Every container tag, keys lower-cased. */
  tags: Record<string, string>;
  aiGenerated: boolean;
  generator: string | null;
  model: string | null;
  modelHash: string | null;
  jobId: string | null;
  /** 16 hex digits, as recorded in the tags (not the invisible watermark). */
  payload: string | null;
  comment: string | null;
}

/** Reads the container tags with ffprobe. */
export async function readMetadata(file: string): Promise<ProvenanceRead> {
  try {
    if (!statSync(file).isFile()) throw new Error('not a file');
  } catch (e) {
    throw new Error(`cannot read metadata of ${file}: ${(e as Error).message.includes('ENOENT') ? 'no such file' : (e as Error).message}`, { cause: e });
  }
  let stdout: string;
  try {
    ({ stdout } = await execFileP(ffprobePath(), ['-v', 'error', '-show_entries', 'format_tags:stream_tags', '-of', 'json', file], { maxBuffer: 1 << 22 }));
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`cannot read metadata of ${file}: ${(err.stderr || err.message).trim().split('\n').pop()}`, { cause: e });
  }
  const j = JSON.parse(stdout) as { format?: { tags?: Record<string, string> }; streams?: { tags?: Record<string, string> }[] };
  const tags: Record<string, string> = {};
  // Stream tags first so that format (container-level) tags win.
  for (const s of j.streams ?? []) for (const [k, v] of Object.entries(s.tags ?? {})) tags[k.toLowerCase()] ??= v;
  for (const [k, v] of Object.entries(j.format?.tags ?? {})) tags[k.toLowerCase()] = v;
  const get = (k: string): string | null => tags[k] ?? null;
  const ai = (get('ai_generated') ?? '').toLowerCase() === 'true' || /\bAI-generated\b/i.test(get('comment') ?? '') || /\bAI-generated\b/i.test(get('description') ?? '');
  return { tags, aiGenerated: ai, generator: get('generator'), model: get('model'), modelHash: get('model_hash'), jobId: get('job_id'), payload: get('watermark_payload'), comment: get('comment') };
}
