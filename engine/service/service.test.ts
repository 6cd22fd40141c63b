// The studio service through its boundary (`dispatch`), as both hosts call it: validation, projects,
// media import (real ffprobe), settings persistence, generation requests becoming queue jobs, and
// one export run through the real engine process with the studio job module.
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { JobView, MediaInfo, Project, Settings } from './contract.js';
import { METHOD_NAMES, methods } from './contract.js';
import type { DispatchResult } from './service.js';
import { StudioService } from './service.js';
import type { EngineJobRunner } from '../jobs/engine-runner.js';
import { BUILT_IN_MODEL_DIR } from '../pipeline/demo-model.js';

const dirs: string[] = [];
// The demo model package is built on first use into the cache: keep it inside the test's temp folder.
const cache = await mkdtemp(path.join(tmpdir(), 'refree-service-cache-'));
dirs.push(cache);
process.env.REFREE_CACHE_DIR = cache;
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'refree-service-'));
  dirs.push(d);
  return d;
}

function value<T>(r: DispatchResult): T {
  if (!r.ok) assert.fail(`expected success, got ${r.error.code}: ${r.error.message}`);
  return r.value as T;
}
function error(r: DispatchResult): { code: string; message: string } {
  if (r.ok) assert.fail(`expected an error, got ${JSON.stringify(r.value)}`);
  return r.error;
}

/** 0.5 s of a 220 Hz tone, 16 kHz mono 16-bit PCM. */
function wav(): Buffer {
  const n = 8000;
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + n * 2, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(16000, 24);
  b.writeUInt32LE(32000, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / 16000)), 44 + 2 * i);
  return b;
}

test('every contract method has a zod schema and a handler; unknown methods and bad input are refused with sentences', async () => {
  const svc = await StudioService.create({ dataDir: await tempDir(), autoStart: false });
  for (const m of METHOD_NAMES) {
    assert.equal(typeof methods[m].input.safeParse, 'function', m);
    assert.equal(typeof svc.handlers[m], 'function', m);
  }
  assert.deepEqual(Object.keys(svc.handlers).sort(), [...METHOD_NAMES].sort());
  assert.equal(error(await svc.dispatch('nope', {})).code, 'unknown-method');
  const bad = error(await svc.dispatch('jobs.reorder', { id: 'Bad Id!', index: -1 }));
  assert.equal(bad.code, 'bad-input');
  assert.match(bad.message, /^The input of jobs\.reorder is not valid — id: .*; index: .*\.$/);
  const missing = error(await svc.dispatch('jobs.get', { id: 'nope' }));
  assert.equal(missing.code, 'not-found');
  await svc.close();
});

test('models.list puts the built-in refree-mini first, once, and it cannot be removed', async () => {
  const svc = await StudioService.create({ dataDir: await tempDir(), autoStart: false });
  const models = value<{ name: string; builtIn: boolean; files: number; path: string }[]>(await svc.dispatch('models.list', {}));
  assert.ok(models.length >= 1, 'at least the built-in model is listed');
  assert.equal(models[0]!.builtIn, true);
  assert.equal(models[0]!.name, 'refree-mini');
  assert.equal(models[0]!.path, BUILT_IN_MODEL_DIR, 'the package shipped in assets/models/refree-mini');
  assert.equal(models.filter((m) => m.name === 'refree-mini').length, 1);
  assert.ok(models[0]!.files >= 3, `built-in package files: ${models[0]!.files}`);
  assert.equal(error(await svc.dispatch('models.remove', { name: models[0]!.name })).code, 'conflict');
  await svc.close();
});

test('projects: create, save with portrait + crop + speech + trim, reopen; settings survive a new service', async () => {
  const data = await tempDir();
  const svc = await StudioService.create({ dataDir: data, autoStart: false });
  const p = value<Project>(await svc.dispatch('projects.create', { name: 'Talk 1' }));
  assert.equal(p.portrait, null);
  const edited: Project = { ...p, portrait: { path: '/x/face.png', crop: { x: 10, y: 20, size: 300 } }, audio: { path: '/x/s.wav', trim: { start: 1, end: 4.5 } } };
  value(await svc.dispatch('projects.save', { project: edited }));
  const back = value<Project>(await svc.dispatch('projects.open', { path: path.dirname(p.path) }));
  assert.deepEqual(back.portrait, edited.portrait);
  assert.deepEqual(back.audio, edited.audio);
  const badTrim = error(await svc.dispatch('projects.save', { project: { ...edited, audio: { path: '/x/s.wav', trim: { start: 5, end: 2 } } } }));
  assert.match(badTrim.message, /trim end must come after its start/);
  assert.equal(error(await svc.dispatch('projects.open', { path: path.join(data, 'none') })).code, 'not-found');
  const recent = value<{ name: string }[]>(await svc.dispatch('projects.recent', {}));
  assert.equal(recent[0]?.name, 'Talk 1');

  value(await svc.dispatch('settings.update', { theme: 'light', watermark: { visible: false, text: 'Made with AI', position: 'top-left' } }));
  assert.match(error(await svc.dispatch('settings.update', { backend: 'tpu' })).message, /Backend: must be one of "auto", "cuda", "webgpu", "cpu"/);
  await svc.close();
  const svc2 = await StudioService.create({ dataDir: data, autoStart: false });
  const s = value<Settings>(await svc2.dispatch('settings.get', {}));
  assert.equal(s.theme, 'light');
  assert.equal(s.watermark.text, 'Made with AI');
  await svc2.close();
});

test('media.import probes and copies into the project; generation requests become queued jobs', async () => {
  const data = await tempDir();
  const src = await tempDir();
  const png = path.join(src, 'face.png');
  await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 150, b: 120 } } }).png().toFile(png);
  const speech = path.join(src, 'speech.wav');
  await writeFile(speech, wav());
  await writeFile(path.join(src, 'notes.txt'), 'not media at all');

  const svc = await StudioService.create({ dataDir: data, autoStart: false });
  const p = value<Project>(await svc.dispatch('projects.create', { name: 'Imports' }));
  const img = value<MediaInfo>(await svc.dispatch('media.import', { path: png, project: p.path, kind: 'image' }));
  assert.equal(img.kind, 'image');
  assert.equal(img.width, 64);
  assert.equal(img.height, 48);
  assert.equal(path.dirname(img.path), path.join(path.dirname(p.path), 'media'));
  assert.match(img.url!, /^\/media\/data\/projects\/imports-[0-9a-f]+\/media\/[0-9a-f]{16}-face\.png$/);
  const aud = value<MediaInfo>(await svc.dispatch('media.import', { path: speech, project: p.path, kind: 'audio' }));
  assert.equal(aud.kind, 'audio');
  assert.equal(aud.sampleRate, 16000);
  assert.ok(Math.abs(aud.duration! - 0.5) < 0.01);
  const notMedia = error(await svc.dispatch('media.import', { path: path.join(src, 'notes.txt') }));
  assert.equal(notMedia.code, 'bad-input');
  assert.match(notMedia.message, /not an image, audio or video file/);
  const wrongKind = error(await svc.dispatch('media.import', { path: speech, kind: 'image' }));
  assert.match(wrongKind.message, /not a still image/);

  assert.match(error(await svc.dispatch('generate.preview', { project: p })).message, /Add a portrait/);
  const ready: Project = { ...p, portrait: { path: img.path, crop: null }, audio: { path: aud.path, trim: { start: 0, end: 0.5 } } };
  const exp = value<{ jobId: string }>(await svc.dispatch('generate.export', { project: ready }));
  const prev = value<{ jobId: string }>(await svc.dispatch('generate.preview', { project: ready }));
  const jobs = value<JobView[]>(await svc.dispatch('jobs.list', {}));
  assert.deepEqual(jobs.map((j) => j.id), [prev.jobId, exp.jobId], 'a preview goes to the front of the queue');
  assert.equal(jobs[0]!.kind, 'preview');
  assert.equal((jobs[0]!.params as { seconds: number }).seconds, 3);
  assert.match((jobs[1]!.params as { output: string }).output, /outputs\/imports-\d{8}-\d{6}\.mp4$/);
  const reordered = value<JobView[]>(await svc.dispatch('jobs.reorder', { id: exp.jobId, index: 0 }));
  assert.deepEqual(reordered.map((j) => j.id), [exp.jobId, prev.jobId]);
  assert.equal(value<JobView>(await svc.dispatch('jobs.pause', { id: prev.jobId })).state, 'paused');
  assert.equal(error(await svc.dispatch('jobs.openOutput', { id: exp.jobId })).code, 'conflict');
  // Two exports queued in the same second must not share a default file name (one would overwrite).
  const again = value<{ jobId: string }>(await svc.dispatch('generate.export', { project: ready }));
  const outputs = value<JobView[]>(await svc.dispatch('jobs.list', {})).filter((j) => j.kind === 'export').map((j) => (j.params as { output: string }).output);
  assert.equal(new Set(outputs).size, outputs.length, `distinct outputs: ${outputs.join(', ')}`);
  assert.ok(outputs.length === 2 && again.jobId !== exp.jobId, 'both exports are queued');
  await svc.close();
});

const DEMO = fileURLToPath(new URL('../../assets/demo/', import.meta.url));

test('preview and export run through the real engine process and pipeline (demo model); device.info answers', { timeout: 300_000 }, async () => {
  const data = await tempDir();
  const svc = await StudioService.create({ dataDir: data });
  const events: string[] = [];
  const messages = new Set<string>();
  svc.on((e, payload) => {
    events.push(e);
    const m = e === 'job.updated' ? (payload as JobView).progress?.message : undefined;
    if (m) messages.add(m.replace(/\d+ of \d+ frames/, 'N frames'));
  });
  const p = value<Project>(await svc.dispatch('projects.create', { name: 'Engine' }));
  const img = value<MediaInfo>(await svc.dispatch('media.import', { path: path.join(DEMO, 'avatar.png'), project: p.path, kind: 'image' }));
  const aud = value<MediaInfo>(await svc.dispatch('media.import', { path: path.join(DEMO, 'speech.wav'), project: p.path, kind: 'audio' }));
  const ready: Project = {
    ...p,
    portrait: { path: img.path, crop: null },
    audio: { path: aud.path, trim: { start: 0.2, end: 1.4 } },
    settings: { ...p.settings, steps: 2, guidance: 1, width: 128, height: 128, sampler: 'euler' },
  };
  const missing = error(await svc.dispatch('generate.export', { project: { ...ready, settings: { ...ready.settings, model: 'no-such-model' } } }));
  assert.equal(missing.code, 'not-found');
  assert.match(missing.message, /no model package named "no-such-model"/);

  const prev = value<{ jobId: string }>(await svc.dispatch('generate.preview', { project: ready, seconds: 0.6 }));
  const exp = value<{ jobId: string }>(await svc.dispatch('generate.export', { project: ready }));
  const pdone = await svc.queue.settled(prev.jobId, 200_000);
  assert.equal(pdone.state, 'done', JSON.stringify(pdone.error));
  const edone = await svc.queue.settled(exp.jobId, 200_000);
  assert.equal(edone.state, 'done', JSON.stringify(edone.error));
  const pres = pdone.result as { frames: number; duration: number; width: number };
  const eres = edone.result as { frames: number; duration: number; width: number };
  assert.ok(pres.duration < eres.duration, `the preview (${pres.duration} s) is shorter than the export (${eres.duration} s)`);
  assert.equal(eres.width, 128);
  const out = value<{ path: string; url: string | null }>(await svc.dispatch('jobs.openOutput', { id: exp.jobId }));
  assert.ok(out.url?.startsWith('/media/output/'), String(out.url));
  assert.ok((await stat(out.path)).size > 0);
  const view = value<JobView>(await svc.dispatch('jobs.get', { id: prev.jobId }));
  assert.ok(view.previewUrl?.startsWith('/media/data/queue/work/'), `live preview frames are served from the data root (${view.previewUrl})`);
  assert.ok(events.includes('job.preview') && events.includes('engine.state'));
  // Steps are counted from 1 and never past the settings' count; decoding says so.
  assert.ok([...messages].some((m) => /^chunk 1 of \d+ · step 1 of 2 · N frames$/.test(m)), [...messages].join('\n'));
  assert.ok([...messages].some((m) => /· decoding and writing frames ·/.test(m)), [...messages].join('\n'));
  assert.ok(![...messages].some((m) => /step 0 of|step 3 of 2/.test(m)), [...messages].join('\n'));

  const dev = value<{ backends: { backend: string; usable: boolean }[] | null; gpus: unknown[]; gpuNote: string | null }>(await svc.dispatch('device.info', {}));
  assert.ok(dev.backends, 'the engine probed its backends');
  assert.ok(dev.backends.some((b) => b.backend === 'cpu' && b.usable));
  assert.ok(dev.gpus.length > 0 || typeof dev.gpuNote === 'string');
  await svc.close();
});

test('SIGKILL of the engine mid-export: the job resumes from its finished chunks in a new engine and completes', { timeout: 300_000 }, async () => {
  const data = await tempDir();
  const svc = await StudioService.create({ dataDir: data });
  const p = value<Project>(await svc.dispatch('projects.create', { name: 'Crash' }));
  const ready: Project = {
    ...p,
    portrait: { path: path.join(DEMO, 'avatar.png'), crop: null },
    audio: { path: path.join(DEMO, 'speech.wav'), trim: { start: 0, end: 4.5 } },
    settings: { ...p.settings, steps: 2, guidance: 1, width: 128, height: 128, sampler: 'euler' },
  };
  const { jobId } = value<{ jobId: string }>(await svc.dispatch('generate.export', { project: ready }));
  const runner = svc.runner as EngineJobRunner;
  let killed: number | null = null;
  const off = svc.queue.on((e) => {
    if (killed === null && e.type === 'updated' && e.job.id === jobId && /^chunk 2 of [2-9]/.test(e.job.progress?.message ?? '') && runner.pid) {
      killed = runner.pid;
      process.kill(killed, 'SIGKILL');
    }
  });
  const done = await svc.queue.settled(jobId, 250_000);
  off();
  assert.ok(killed, 'the engine was killed during chunk 2');
  assert.equal(done.state, 'done', JSON.stringify(done.error));
  assert.equal(done.recoveries, 1);
  assert.ok(done.history.some((h) => /SIGKILL.*resuming from the last checkpoint/.test(h.message)));
  const r = done.result as { resumedChunks: number; chunks: number };
  assert.ok(r.chunks >= 2);
  assert.ok(r.resumedChunks >= 1, `resumed ${r.resumedChunks} finished chunk(s) instead of redoing them`);
  assert.ok((await stat(done.output!)).size > 0);
  await svc.close();
});

test('pause mid-export stops the pipeline; resume continues from its chunks; cancel leaves no video', { timeout: 300_000 }, async () => {
  const data = await tempDir();
  const svc = await StudioService.create({ dataDir: data });
  const p = value<Project>(await svc.dispatch('projects.create', { name: 'Pause' }));
  const ready: Project = {
    ...p,
    portrait: { path: path.join(DEMO, 'avatar.png'), crop: null },
    audio: { path: path.join(DEMO, 'speech.wav'), trim: { start: 0, end: 4.5 } },
    settings: { ...p.settings, steps: 2, guidance: 1, width: 128, height: 128, sampler: 'euler' },
  };
  const atChunk2 = (id: string): Promise<void> =>
    new Promise((resolve) => {
      const off = svc.queue.on((e) => {
        if (e.type === 'updated' && e.job.id === id && e.job.state === 'running' && /^chunk 2 of/.test(e.job.progress?.message ?? '')) {
          off();
          resolve();
        }
      });
    });
  const a = value<{ jobId: string }>(await svc.dispatch('generate.export', { project: ready }));
  await atChunk2(a.jobId);
  const t0 = performance.now();
  const paused = value<JobView>(await svc.dispatch('jobs.pause', { id: a.jobId }));
  assert.equal(paused.state, 'paused');
  assert.ok(performance.now() - t0 < 20_000, 'the pause took effect between model runs');
  value(await svc.dispatch('jobs.resume', { id: a.jobId }));
  const done = await svc.queue.settled(a.jobId, 250_000);
  assert.equal(done.state, 'done', JSON.stringify(done.error));
  assert.ok((done.result as { resumedChunks: number }).resumedChunks >= 1);

  const b = value<{ jobId: string }>(await svc.dispatch('generate.export', { project: ready }));
  await atChunk2(b.jobId);
  const cancelled = value<JobView>(await svc.dispatch('jobs.cancel', { id: b.jobId }));
  assert.equal(cancelled.state, 'cancelled');
  const out = (svc.queue.get(b.jobId).params as { output: string }).output;
  assert.equal(await stat(out).then(() => true, () => false), false, 'no video is left for a cancelled export');
  await svc.close();
});
