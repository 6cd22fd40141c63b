// The synthetic world: determinism, the truth's shape and ranges, anticipation (the mouth leads the
// sound), a closed mouth in silence, disjoint train / held-out pools, masks, speed, and clips on disk
// that ffprobe reads as H.264 + AAC at 15 fps.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ffprobePath } from '../runtime/ffmpeg.js';
import { AvatarRenderer, CLIP_TRUTH_FORMAT, NEUTRAL_POSE, makeIdentity, makeVoice, planUtterance, rasterizeEllipse, renderClip, renderPortrait, scaleEllipse, wordPool, writeClip } from './index.js';
import type { ClipTruth } from './index.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'refree-synth-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function corr(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((x, y) => x + y, 0) / n;
  const mb = b.reduce((x, y) => x + y, 0) / n;
  let s = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < n; i++) {
    s += (a[i]! - ma) * (b[i]! - mb);
    sa += (a[i]! - ma) ** 2;
    sb += (b[i]! - mb) ** 2;
  }
  return s / Math.sqrt(sa * sb);
}

const bytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test('the same (seed, split, seconds, size) gives identical frames, audio and truth; other seeds and splits differ', () => {
  const a = renderClip({ seed: 7, split: 'train', seconds: 2, size: 64 });
  const b = renderClip({ seed: 7, split: 'train', seconds: 2, size: 64 });
  assert.equal(a.frames.length, 30);
  assert.ok(a.frames.every((f, i) => f.length === 64 * 64 * 3 && Buffer.compare(Buffer.from(f), Buffer.from(b.frames[i]!)) === 0));
  assert.ok(bytes(a.audio).equals(bytes(b.audio)));
  assert.deepEqual(a.truth, b.truth);
  for (const other of [renderClip({ seed: 8, split: 'train', seconds: 2, size: 64 }), renderClip({ seed: 7, split: 'heldout', seconds: 2, size: 64 })]) {
    assert.ok(!bytes(a.audio).equals(bytes(other.audio)), 'audio differs');
    assert.notEqual(Buffer.compare(Buffer.from(a.frames[0]!), Buffer.from(other.frames[0]!)), 0, 'faces differ');
  }
});

test('truth: format, per-frame arrays of `frames` entries, values in range, audio exactly frames / fps long', () => {
  const { truth, audio, frames } = renderClip({ seed: 3, split: 'heldout', seconds: 3, size: 96 });
  assert.equal(truth.format, CLIP_TRUTH_FORMAT);
  assert.deepEqual([truth.frames, truth.fps, truth.sampleRate, truth.size, truth.split, truth.seed], [45, 15, 16000, 96, 'heldout', 3]);
  assert.equal(truth.duration, 3);
  assert.equal(audio.length, 48000);
  let peak = 0;
  for (const x of audio) {
    assert.ok(Number.isFinite(x));
    peak = Math.max(peak, Math.abs(x));
  }
  assert.ok(peak > 0.2 && peak <= 0.95, `audio peak ${peak}`);
  assert.equal(frames.length, 45);
  const pf = truth.perFrame;
  for (const [k, v] of Object.entries(pf)) assert.equal((v as unknown[]).length, 45, `${k} has one entry per frame`);
  const within = (xs: number[], lo: number, hi: number, name: string): void => assert.ok(xs.every((x) => Number.isFinite(x) && x >= lo && x <= hi), `${name} in [${lo}, ${hi}]`);
  within(pf.mouthOpen, 0, 1, 'mouthOpen');
  within(pf.mouthWidth, -1, 1, 'mouthWidth');
  within(pf.mouthRound, 0, 1, 'mouthRound');
  within(pf.brow, 0, 1, 'brow');
  within(pf.blink, 0, 1, 'blink');
  within(pf.envelope, 0, 1, 'envelope');
  for (const k of ['headYaw', 'headPitch', 'headRoll'] as const) within(pf[k], -20, 20, k);
  assert.ok(Math.max(...pf.mouthOpen) > 0.5, 'the mouth opens wide at least once');
  assert.ok(Math.max(...pf.envelope) === 1);
  for (const e of [...pf.lips, ...pf.face]) assert.ok(e.rx > 0 && e.ry > 0 && e.cx > 0 && e.cx < 96 && e.cy > 0 && e.cy < 96);
  // The lips sit in the lower half of the face ellipse.
  assert.ok(pf.lips.every((l, i) => l.cy > pf.face[i]!.cy && l.cy < pf.face[i]!.cy + pf.face[i]!.ry));
  assert.ok(truth.phones.length > 5 && truth.phones.some((p) => p.stressed) && truth.phones[0]!.cls === 'pause');
  assert.ok(truth.phones.every((p, i) => p.end > p.start && (i === 0 || Math.abs(p.start - truth.phones[i - 1]!.end) < 1e-3)), 'phones are contiguous');
  assert.match(truth.identity.id, /^heldout-face-3$/);
  assert.match(truth.voice.id, /^heldout-voice-3$/);
});

test('the mouth leads the sound: mouthOpen correlates best with the envelope 1–2 frames later', () => {
  const lags = [-3, -2, -1, 0, 1, 2, 3];
  const mean = lags.map(() => 0);
  const seeds = [0, 1, 2, 3, 4, 5, 6, 7];
  let inRange = 0;
  for (const seed of seeds) {
    const { truth } = renderClip({ seed, split: 'train', seconds: 8, size: 16 });
    const o = truth.perFrame.mouthOpen;
    const e = truth.perFrame.envelope;
    const rs = lags.map((k) => {
      const idx = o.map((_, i) => i).filter((i) => i + k >= 0 && i + k < o.length);
      return corr(
        idx.map((i) => o[i]!),
        idx.map((i) => e[i + k]!),
      );
    });
    rs.forEach((r, i) => (mean[i] = mean[i]! + r / seeds.length));
    const best = lags[rs.indexOf(Math.max(...rs))]!;
    if (best === 1 || best === 2) inRange++;
  }
  const best = lags[mean.indexOf(Math.max(...mean))]!;
  assert.ok(best === 1 || best === 2, `mean correlation per lag ${mean.map((r) => r.toFixed(2)).join(' ')}: best at ${best}`);
  assert.ok(Math.max(...mean) > 0.6, `peak correlation ${Math.max(...mean).toFixed(2)}`);
  assert.ok(mean[3]! < Math.max(...mean) - 0.1, 'clearly better with the lead than without');
  assert.ok(inRange >= seeds.length - 1, `${inRange}/${seeds.length} clips peak at a lead of 1–2 frames`);
});

test('brows rise and the head nods with pitch accents, starting before the accented vowel', () => {
  let n = 0;
  let browBefore = 0;
  let browAt = 0;
  let nodBefore = 0;
  for (const seed of [0, 1, 2, 3, 4, 5]) {
    const { truth } = renderClip({ seed, split: 'train', seconds: 8, size: 16 });
    const f = (t: number): number => Math.max(0, Math.min(truth.frames - 1, Math.round(t * truth.fps)));
    const accents = truth.phones.filter((p) => p.stressed).map((p) => p.start);
    for (const [k, t] of accents.entries()) {
      // Only accents with no other accent in the second before them, so the baseline is calm.
      if (t < 0.6 || (k > 0 && t - accents[k - 1]! < 1)) continue;
      const base = truth.perFrame.brow[f(t - 0.5)]!;
      n++;
      browBefore += truth.perFrame.brow[f(t - 0.1)]! - base;
      browAt += truth.perFrame.brow[f(t + 0.05)]! - base;
      nodBefore += truth.perFrame.headPitch[f(t - 0.5)]! - truth.perFrame.headPitch[f(t)]!;
    }
  }
  assert.ok(n >= 6, `${n} isolated accents`);
  assert.ok(browBefore / n > 0.05, `brows 100 ms before the accent: +${(browBefore / n).toFixed(3)}`);
  assert.ok(browAt / n > 0.25, `brows at the accent: +${(browAt / n).toFixed(3)}`);
  assert.ok(nodBefore / n > 0.5, `the head nods down by the accent: ${(nodBefore / n).toFixed(2)}°`);
});

test('silence: the mouth is closed and the envelope near zero', () => {
  let checked = 0;
  for (const seed of [0, 1, 2, 3]) {
    const { truth } = renderClip({ seed, split: 'train', seconds: 6, size: 16 });
    const pauses = truth.phones.filter((p) => p.cls === 'pause');
    for (let i = 0; i < truth.frames; i++) {
      const t = i / truth.fps;
      // Frames well inside a pause (the mouth may start moving ~150 ms before speech).
      if (!pauses.some((p) => t >= p.start + 0.1 && t + 0.2 <= p.end)) continue;
      checked++;
      assert.ok(truth.perFrame.mouthOpen[i]! < 0.05, `seed ${seed} frame ${i}: mouthOpen ${truth.perFrame.mouthOpen[i]} in silence`);
      assert.ok(truth.perFrame.envelope[i]! < 0.05, `seed ${seed} frame ${i}: envelope ${truth.perFrame.envelope[i]} in silence`);
    }
  }
  assert.ok(checked >= 8, `only ${checked} silent frames checked`);
});

test('held-out words, sentences, voices and identities never appear in training', () => {
  const train = new Set(wordPool('train').map((w) => w.text));
  const heldout = wordPool('heldout').map((w) => w.text);
  assert.ok(train.size > 1000 && heldout.length > 200);
  assert.ok(heldout.every((w) => !train.has(w)), 'word lists are disjoint');
  const heldSet = new Set(heldout);
  for (let seed = 0; seed < 30; seed++) {
    for (const phrase of planUtterance('heldout', seed, 4, 1).words) assert.ok(phrase.every((w) => heldSet.has(w)));
    for (const phrase of planUtterance('train', seed, 4, 1).words) assert.ok(phrase.every((w) => train.has(w)));
  }
  const key = (o: object): string => JSON.stringify(Object.entries(o).filter(([k]) => k !== 'id'));
  const trainVoices = new Set(Array.from({ length: 300 }, (_, s) => key(makeVoice('train', s))));
  const trainFaces = new Set(Array.from({ length: 300 }, (_, s) => key(makeIdentity('train', s))));
  for (let s = 0; s < 300; s++) {
    assert.ok(!trainVoices.has(key(makeVoice('heldout', s))), `held-out voice ${s} equals a training voice`);
    assert.ok(!trainFaces.has(key(makeIdentity('heldout', s))), `held-out identity ${s} equals a training identity`);
    assert.notEqual(makeVoice('heldout', s).id, makeVoice('train', s).id);
  }
  // And the pools are varied: many hair styles, voices from low to high.
  const styles = new Set(Array.from({ length: 50 }, (_, s) => makeIdentity('train', s).hairStyle));
  assert.ok(styles.size >= 5);
  const f0 = Array.from({ length: 50 }, (_, s) => makeVoice('train', s).f0);
  assert.ok(Math.min(...f0) < 120 && Math.max(...f0) > 180);
});

test('rasterizeEllipse: anti-aliased coverage with the area of the ellipse; scaleEllipse follows a resize', () => {
  const e = { cx: 20.3, cy: 17.8, rx: 9.5, ry: 4.2, angle: 0.6 };
  const m = rasterizeEllipse(e, 40);
  const area = m.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(area - Math.PI * e.rx * e.ry) < 1.5, `area ${area.toFixed(2)} vs ${(Math.PI * e.rx * e.ry).toFixed(2)}`);
  assert.equal(m[18 * 40 + 20], 1);
  assert.equal(m[0], 0);
  assert.ok(m.some((x) => x > 0.05 && x < 0.95), 'edges are fractional');
  // Rotated: the long axis points down-right (clockwise in image axes).
  assert.ok(m[Math.round(e.cy + 5) * 40 + Math.round(e.cx + 6)]! > 0.9);
  assert.equal(m[Math.round(e.cy - 5) * 40 + Math.round(e.cx + 6)], 0);
  const half = scaleEllipse(e, 0.5);
  const area2 = rasterizeEllipse(half, 20).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(area2 - area / 4) < 1);
});

test('the lips ellipse covers what the mouth changes; the face ellipse covers the face; portraits have the mouth closed', () => {
  for (const seed of [5, 6, 7]) {
    const idn = makeIdentity('train', seed);
    const r = new AvatarRenderer(idn, 128);
    const pose = { ...NEUTRAL_POSE, yaw: 4, roll: -3, pitch: 2 };
    const closed = r.render(pose);
    const open = { ...pose, open: 1 };
    const wide = r.render(open);
    const lips = rasterizeEllipse(r.lipEllipse(open), 128);
    const face = rasterizeEllipse(r.faceEllipse(open), 128);
    let inside = 0;
    let outside = 0;
    for (let p = 0; p < 128 * 128; p++) {
      const d = Math.abs(wide[3 * p]! - closed[3 * p]!) + Math.abs(wide[3 * p + 1]! - closed[3 * p + 1]!) + Math.abs(wide[3 * p + 2]! - closed[3 * p + 2]!);
      if (d < 60) continue;
      if (lips[p]! > 0) inside++;
      else outside++;
      assert.ok(face[p]! > 0.5, 'the mouth lies inside the face ellipse');
    }
    assert.ok(inside > 40, `identity ${seed}: ${inside} pixels change inside the lips ellipse`);
    assert.ok(outside <= inside * 0.1, `identity ${seed}: ${outside} changed pixels outside the lips ellipse (${inside} inside)`);
    assert.ok(Buffer.from(renderPortrait(idn, 128)).equals(Buffer.from(r.render(NEUTRAL_POSE))), 'the portrait is the neutral pose');
  }
});

test('speed: a 4 s clip of 60 frames at 128×128 renders in well under a second', () => {
  renderClip({ seed: 11, split: 'train', seconds: 1, size: 128 }); // warm-up (JIT)
  // CPU time of this process, not wall time: the machine running the tests may be busy.
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  renderClip({ seed: 12, split: 'train', seconds: 4, size: 128 });
  const cpu = process.cpuUsage(c0);
  const ms = (cpu.user + cpu.system) / 1000;
  assert.ok(ms < 1000, `${ms.toFixed(0)} ms of CPU (${(performance.now() - t0).toFixed(0)} ms wall)`);
});

test('writeClip: <name>.mp4 that ffprobe reads as H.264 + AAC, 15 fps, 60 frames; <name>.json is the truth', async () => {
  const r = await writeClip(tmp, 'synth-train-4', { seed: 4, split: 'train', seconds: 4, size: 128 });
  assert.equal(r.video, path.join(tmp, 'synth-train-4.mp4'));
  const probe = JSON.parse(execFileSync(ffprobePath(), ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_type,codec_name,avg_frame_rate,nb_read_frames,width,height,sample_rate', '-of', 'json', r.video], { encoding: 'utf8' })) as {
    streams: { codec_type: string; codec_name: string; avg_frame_rate: string; nb_read_frames: string; width?: number; height?: number }[];
  };
  const v = probe.streams.find((s) => s.codec_type === 'video')!;
  const a = probe.streams.find((s) => s.codec_type === 'audio')!;
  assert.deepEqual([v.codec_name, v.avg_frame_rate, v.nb_read_frames, v.width, v.height, a.codec_name], ['h264', '15/1', '60', 128, 128, 'aac']);
  const truth = JSON.parse(readFileSync(r.truthFile, 'utf8')) as ClipTruth;
  assert.deepEqual(truth, r.truth);
  assert.equal(truth.perFrame.mouthOpen.length, 60);
});
