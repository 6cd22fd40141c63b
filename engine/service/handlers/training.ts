// training.*: the fine-tuning wizard's sessions. A session is a folder under <data>/training/<id>/:
//   session.json   name, base model, the stages' queue jobs and settings, what it was saved as
//   clips/         accepted clips (the folder clip preparation reads)    heldout/  the clip kept for Compare
//   refused/       clips the quick check refused (kept so the list can say why)
//   thumbs/        <clip>.png thumbnails and <clip>.json check results
//   dataset/       the prepared clips     sft/, dpo/  the run folders     compare/  before/after previews
// The stages run as queue jobs of kind 'training' (engine/jobs/train-job.ts) beside exports, one at a
// time, paused, cancelled, retried and resumed after a restart like any job. Charts read metrics.jsonl.
import { existsSync } from 'node:fs';
import { appendFile, cp, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write.js';
import type { GenerateJobParams } from '../../jobs/studio-jobs.js';
import type { TrainJobParams } from '../../jobs/train-job.js';
import { runFfmpeg } from '../../media/ffmpeg-run.js';
import { readManifest, resolveArchitecture, resolveReFreeConfig, writeManifest } from '../../model/package/manifest.js';
import { REFREE_5B, REFREE_TINY } from '../../model/refree/config.js';
import { packageDefaults } from '../../pipeline/defaults.js';
import { estimateTrainStep } from '../../train/estimate.js';
import { readDataset } from '../../train/prepare/index.js';
import { readMetrics } from '../../train/run-folder.js';
import { DPO_DEFAULTS, SFT_DEFAULTS } from '../../train/settings.js';
import type { Handlers, TrainingClip, TrainingComparison, TrainingEstimate, TrainingPreset, TrainingSession, TrainingStageInfo } from '../contract.js';
import { DEFAULT_GENERATION, MAX_UPLOAD_BYTES } from '../contract.js';
import type { ServiceContext } from '../context.js';
import { queryNvidiaGpusAsync } from '../device.js';
import { ServiceError } from '../errors.js';
import type { ClipCheckResult } from '../training-clips.js';
import { checkTrainingClip } from '../training-clips.js';

type TrainingHandlers = Pick<
  Handlers,
  | 'training.listRuns' | 'training.create' | 'training.get' | 'training.setModel' | 'training.addClip' | 'training.uploadClip' | 'training.removeClip' | 'training.setHeldOut'
  | 'training.presets' | 'training.estimate' | 'training.start' | 'training.metrics' | 'training.compare' | 'training.compareResult' | 'training.save'
>;

type Stage = 'sft' | 'dpo';

interface SessionFile {
  version: 1;
  id: string;
  name: string;
  model: string;
  createdAt: string;
  stages: Partial<Record<Stage, { jobId: string; settings: Record<string, unknown> }>>;
  savedAs: string | null;
  compare: { clip: string; before: string; after: string } | null;
}

/** Largest clip accepted (a phone's few minutes of 4K); longer clips are cut to two minutes anyway. */
const MAX_CLIP_BYTES = 4 * 1024 ** 3;
export const VIDEO_EXTS = ['.mp4', '.mov', '.mkv', '.webm', '.m4v', '.avi'];
const ACTIVE = new Set(['queued', 'running', 'paused']);

/** Presets by memory: what fits, measured by the estimate rather than promised. */
const PRESETS: { id: TrainingPreset['id']; label: string; description: string; rank: number; frames: number; steps: number; dpoSteps: number; batch: number; recompute: boolean; gb: number | null }[] = [
  { id: 'cpu', label: 'CPU demo', description: 'No graphics card: a few steps to see the whole flow work (minutes on the built-in demo model).', rank: 2, frames: 5, steps: 30, dpoSteps: 4, batch: 1, recompute: false, gb: null },
  { id: 'gb8', label: '8 GB graphics card', description: 'A small adapter with short windows and activation recomputation.', rank: 8, frames: 5, steps: 600, dpoSteps: 100, batch: 1, recompute: true, gb: 8 },
  { id: 'gb12', label: '12 GB graphics card', description: 'A medium adapter; longer windows.', rank: 16, frames: 9, steps: 800, dpoSteps: 150, batch: 1, recompute: true, gb: 12 },
  { id: 'gb16', label: '16 GB graphics card', description: 'The paper-sized adapter; two windows per step.', rank: 16, frames: 13, steps: 1000, dpoSteps: 200, batch: 2, recompute: true, gb: 16 },
  { id: 'gb24', label: '24 GB graphics card or more', description: 'A larger adapter and the longest windows.', rank: 32, frames: 21, steps: 1500, dpoSteps: 200, batch: 2, recompute: false, gb: 24 },
];

const stamp = (): string => new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 30) || 'training';

function cleanClipName(name: string): string {
  const base = path.basename(name.replace(/\\/g, '/'));
  const ext = path.extname(base).toLowerCase();
  if (!VIDEO_EXTS.includes(ext)) throw new ServiceError('bad-input', `${base} is not a video file the studio trains on; use ${VIDEO_EXTS.join(', ')}.`);
  const stem = base.slice(0, -ext.length).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+/, '').slice(0, 80) || 'clip';
  return `${stem}${ext}`;
}

export function trainingHandlers(ctx: ServiceContext): TrainingHandlers {
  const root = path.join(ctx.dataDir, 'training');
  const folder = (id: string): string => path.join(root, id);
  const sessionFile = (id: string): string => path.join(folder(id), 'session.json');

  async function readSession(id: string): Promise<SessionFile> {
    const text = await readFile(sessionFile(id), 'utf8').catch(() => null);
    if (text === null) throw new ServiceError('not-found', `There is no training session "${id}"; it may have been deleted. Start a new one.`);
    return JSON.parse(text) as SessionFile;
  }
  const writeSession = (s: SessionFile): Promise<void> => writeFileAtomic(sessionFile(s.id), `${JSON.stringify(s, null, 2)}\n`);

  async function modelDir(name: string): Promise<string> {
    return (await ctx.models.find(name)).path;
  }

  async function clipEntries(s: SessionFile): Promise<TrainingClip[]> {
    const dir = folder(s.id);
    const prepared = await readDataset(path.join(dir, 'dataset')).catch(() => null);
    const prepRefused = new Map((prepared?.clips ?? []).filter((c) => c.status === 'refused').map((c) => [path.resolve(c.source), c.reason ?? 'refused']));
    const out: TrainingClip[] = [];
    for (const sub of ['clips', 'heldout', 'refused'] as const) {
      const names = (await readdir(path.join(dir, sub)).catch(() => [] as string[])).filter((n) => VIDEO_EXTS.includes(path.extname(n).toLowerCase())).sort();
      for (const name of names) {
        const file = path.join(dir, sub, name);
        const check = JSON.parse(await readFile(path.join(dir, 'thumbs', `${name}.json`), 'utf8').catch(() => 'null')) as ClipCheckResult | null;
        const thumb = path.join(dir, 'thumbs', `${name}.png`);
        let accepted = sub !== 'refused' && (check?.accepted ?? true);
        let reason = check?.reason ?? null;
        let fix = check?.fix ?? null;
        const late = prepRefused.get(path.resolve(file));
        if (accepted && late) {
          // Preparation looks at every frame; what it refuses is left out of the run, which goes on.
          accepted = false;
          reason = `Left out when the clips were prepared: ${late.replaceAll(file, name)}.`.replace(/\.\.$/, '.');
          fix = 'The run went on without it. Replace it with a clip where your face is in view and you talk the whole time.';
        }
        out.push({
          name,
          path: file,
          url: ctx.urlFor(file),
          thumbnailUrl: existsSync(thumb) ? ctx.urlFor(thumb) : null,
          seconds: check?.seconds ?? null,
          fps: check?.fps ?? null,
          width: check?.width ?? null,
          height: check?.height ?? null,
          accepted,
          heldOut: sub === 'heldout',
          checks: check?.checks ?? { face: { ok: false, detail: 'not checked' }, speech: { ok: false, detail: 'not checked' }, length: { ok: false, detail: 'not checked' }, fps: { ok: false, detail: 'not checked' } },
          reason,
          fix,
        });
      }
    }
    return out;
  }

  function stageInfo(s: SessionFile, stage: Stage): TrainingStageInfo | null {
    const st = s.stages[stage];
    if (!st) return null;
    const run = path.join(folder(s.id), stage);
    const job = ctx.queue.list().find((j) => j.id === st.jobId) ?? null;
    return { jobId: job ? job.id : null, run, settings: st.settings, state: job?.state ?? null, finished: existsSync(path.join(run, 'adapter', 'refree.json')) };
  }

  async function view(s: SessionFile): Promise<TrainingSession> {
    return { id: s.id, name: s.name, model: s.model, createdAt: s.createdAt, folder: folder(s.id), clips: await clipEntries(s), sft: stageInfo(s, 'sft'), dpo: stageInfo(s, 'dpo'), savedAs: s.savedAs };
  }

  function uniqueName(s: SessionFile, wanted: string): string {
    const ext = path.extname(wanted);
    const stem = wanted.slice(0, -ext.length);
    let name = wanted;
    for (let i = 2; ['clips', 'heldout', 'refused'].some((d) => existsSync(path.join(folder(s.id), d, name))); i++) name = `${stem}-${i}${ext}`;
    return name;
  }

  /** Checks the file now in `incoming` and files it as accepted or refused. */
  async function admit(s: SessionFile, incoming: string, name: string): Promise<TrainingClip> {
    const dir = folder(s.id);
    const thumb = path.join(dir, 'thumbs', `${name}.png`);
    if (path.extname(name).toLowerCase() === '.webm') {
      // A browser's recording (MediaRecorder) states no length; a copy through ffmpeg writes it, so the
      // length check and the trainer read the clip like any other. Nothing is re-encoded.
      const fixed = `${incoming}.remux.webm`;
      const r = await runFfmpeg(['-v', 'error', '-y', '-i', incoming, '-c', 'copy', fixed]).catch(() => null);
      if (r?.code === 0) await rename(fixed, incoming);
      else await rm(fixed, { force: true });
    }
    const check = await checkTrainingClip(incoming, thumb);
    const dest = path.join(dir, check.accepted ? 'clips' : 'refused', name);
    await mkdir(path.dirname(dest), { recursive: true });
    await rename(incoming, dest);
    await writeFileAtomic(path.join(dir, 'thumbs', `${name}.json`), JSON.stringify(check));
    return (await clipEntries(s)).find((c) => c.name === name)!;
  }

  function activeStage(s: SessionFile): Stage | null {
    for (const stage of ['sft', 'dpo'] as const) {
      const info = stageInfo(s, stage);
      if (info?.state && ACTIVE.has(info.state)) return stage;
    }
    return null;
  }

  function locate(s: SessionFile, clip: string): string {
    for (const sub of ['clips', 'heldout', 'refused']) {
      const f = path.join(folder(s.id), sub, path.basename(clip));
      if (existsSync(f)) return f;
    }
    throw new ServiceError('not-found', `The session has no clip named "${clip}".`);
  }

  const estimateCache = new Map<string, TrainingEstimate>();
  async function estimate(model: string, stage: Stage, given: Record<string, unknown>): Promise<TrainingEstimate> {
    const pkg = await modelDir(model);
    const { dir, manifest } = await readManifest(pkg);
    const arch = resolveArchitecture(manifest.architecture);
    const refree = manifest.components.refree ? resolveReFreeConfig(manifest.components.refree.config) : arch.name === 'tiny' ? REFREE_TINY : REFREE_5B;
    const size = (await packageDefaults(manifest.adapter ? manifest.adapter.base.dir : dir)).size;
    const d = stage === 'sft' ? SFT_DEFAULTS : DPO_DEFAULTS;
    const s = { ...d, ...given } as typeof d;
    const gpus = (await queryNvidiaGpusAsync()).gpus;
    const backendSetting = ctx.settings.get().backend;
    const onGpu = gpus.length > 0 && backendSetting !== 'cpu';
    const backend = onGpu ? 'cuda' : 'cpu';
    const key = JSON.stringify([dir, stage, backend, s.lora, s.ditGroups, s.frames, s.batch, s.recompute, s.steps, (s as { maskRatios?: number[] }).maskRatios]);
    const hit = estimateCache.get(key);
    if (hit) return hit;
    let e;
    try {
      const dtype = backend === 'cpu' ? 'float32' : 'float16';
      e = estimateTrainStep({ arch, refree, settings: { lora: s.lora ?? null, ditGroups: s.ditGroups ?? [], frames: s.frames, batch: s.batch, recompute: s.recompute }, size, stage, dpoK: ((s as { maskRatios?: number[] }).maskRatios ?? DPO_DEFAULTS.maskRatios).length + 1, backend, baseDtype: dtype, activationDtype: dtype });
    } catch (err) {
      throw new ServiceError('bad-input', `These settings cannot be estimated: ${(err as Error).message}.`);
    }
    const available = onGpu ? gpus[0]!.memoryTotalMiB * 1024 * 1024 : totalmem();
    const device = onGpu ? `${gpus[0]!.name} (${(available / 2 ** 30).toFixed(0)} GB)` : `this computer's processor (${(available / 2 ** 30).toFixed(0)} GB of memory)`;
    const fits = e.peakBytes <= available * 0.9;
    const gb = (b: number): string => `${(b / 1e9).toFixed(b < 1e9 ? 2 : 1)} GB`;
    const out: TrainingEstimate = {
      peakBytes: e.peakBytes,
      secondsPerStep: e.secondsPerStep,
      totalSeconds: e.secondsPerStep * s.steps,
      availableBytes: available,
      device,
      fits,
      warning: fits ? null : `This needs about ${gb(e.peakBytes)} but ${device} has ${gb(available)}: choose a smaller preset, fewer frames or a lower rank.`,
      details: `${stage.toUpperCase()} on ${backend}: peak about ${gb(e.peakBytes)} (model ${gb(e.breakdown.frozenWeights)}, trained part ${gb(e.breakdown.trainable)}, working memory ${gb(e.breakdown.activations)}); ${(e.details.trainableParams / 1e6).toFixed(2)}M trained parameters; ${e.details.latent.frames} latent frames of ${e.details.latent.h}×${e.details.latent.w}.`,
    };
    estimateCache.set(key, out);
    return out;
  }

  async function queueStage(s: SessionFile, stage: Stage, settings: Record<string, unknown>): Promise<string> {
    const dir = folder(s.id);
    const run = path.join(dir, stage);
    let params: TrainJobParams;
    if (stage === 'sft') {
      const clips = (await clipEntries(s)).filter((c) => c.accepted && !c.heldOut);
      if (clips.length === 0) throw new ServiceError('bad-input', 'Add at least one clip that passed its checks before training (a held-out clip is not trained on).');
      // A new SFT replaces the earlier runs of this session (their settings would not match).
      await rm(run, { recursive: true, force: true });
      await rm(path.join(dir, 'dpo'), { recursive: true, force: true });
      delete s.stages.dpo;
      params = { stage, dataset: path.join(dir, 'dataset'), prepareFrom: path.join(dir, 'clips'), model: await modelDir(s.model), run, settings };
    } else {
      const sftAdapter = path.join(dir, 'sft', 'adapter');
      if (!existsSync(path.join(sftAdapter, 'refree.json'))) throw new ServiceError('conflict', 'Run the first training stage (SFT) to the end before DPO: DPO starts from its result.');
      await rm(run, { recursive: true, force: true });
      params = { stage, dataset: path.join(dir, 'dataset'), prepareFrom: null, model: sftAdapter, run, settings };
    }
    const job = await ctx.queue.add({ kind: 'training', title: `Training · ${s.name} · ${stage === 'sft' ? 'SFT' : 'DPO'}`, params });
    s.stages[stage] = { jobId: job.id, settings };
    s.savedAs = null;
    await writeSession(s);
    return job.id;
  }

  /** The held-out clip's first frame and speech, for the before/after previews. */
  async function compareInputs(s: SessionFile, clip: string): Promise<{ portrait: string; audio: string }> {
    const dir = path.join(folder(s.id), 'compare');
    await mkdir(dir, { recursive: true });
    const portrait = path.join(dir, 'portrait.png');
    const audio = path.join(dir, 'speech.wav');
    const a = await runFfmpeg(['-v', 'error', '-y', '-i', clip, '-frames:v', '1', portrait]);
    const b = await runFfmpeg(['-v', 'error', '-y', '-i', clip, '-vn', '-ac', '1', '-ar', '16000', audio]);
    if (a.code !== 0 || b.code !== 0) throw new ServiceError('bad-input', `The held-out clip ${path.basename(clip)} cannot be read for the comparison; choose another clip.`);
    return { portrait, audio };
  }

  /** `refree eval`'s scores of a finished comparison video (cached beside it), or why there are none. */
  async function scores(jobId: string): Promise<{ scores: Record<string, number | null> | null; note: string | null }> {
    const job = ctx.queue.list().find((j) => j.id === jobId);
    if (!job || job.state !== 'done' || !job.output) return { scores: null, note: null };
    const cache = `${job.output}.scores.json`;
    const have = await readFile(cache, 'utf8').catch(() => null);
    if (have) return JSON.parse(have) as { scores: Record<string, number | null> | null; note: string | null };
    const { evaluateVideo } = await import('../../eval/index.js');
    let out: { scores: Record<string, number | null> | null; note: string | null };
    try {
      const r = await evaluateVideo(job.output);
      out = { scores: { syncConfidence: r.sync.confidence, syncOffsetFrames: r.sync.offset, faceFrames: r.faces.found, frames: r.video.frames, motion: r.motion.meanFlow ?? null }, note: r.faces.found === 0 ? 'No face was found in this video, so its lip sync cannot be measured.' : null };
    } catch (e) {
      // A video without a detectable face (an untrained model makes noise) has no lip-sync score.
      // The measures' sentence names the file; here it is the video beside the sentence.
      const why = (e as Error).message.replaceAll(job.output, 'this video').replace(/\.$/, '');
      out = { scores: null, note: `Not scored: ${why}. A model that does not make a face yet (one that is not trained far enough) cannot be scored.` };
    }
    await writeFile(cache, JSON.stringify(out));
    return out;
  }

  return {
    'training.listRuns': async () => {
      const ids = await readdir(root).catch(() => [] as string[]);
      const out: TrainingSession[] = [];
      for (const id of ids) {
        const s = await readSession(id).catch(() => null);
        if (s) out.push(await view(s));
      }
      return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
    },

    'training.create': async ({ name, model }) => {
      await ctx.models.find(model);
      const id = `${slug(name)}-${stamp().toLowerCase()}`.slice(0, 64);
      if (existsSync(folder(id))) throw new ServiceError('conflict', `A training session named "${name}" was started this very second; wait a moment and try again.`);
      await mkdir(folder(id), { recursive: true });
      const s: SessionFile = { version: 1, id, name, model, createdAt: new Date().toISOString(), stages: {}, savedAs: null, compare: null };
      await writeSession(s);
      return view(s);
    },

    'training.get': async ({ id }) => view(await readSession(id)),

    'training.setModel': async ({ id, model }) => {
      const s = await readSession(id);
      await ctx.models.find(model);
      if (s.stages.sft) throw new ServiceError('conflict', 'This session has already trained on its base model; start a new session to train another model.');
      s.model = model;
      await writeSession(s);
      return view(s);
    },

    'training.addClip': async ({ id, path: src }) => {
      const s = await readSession(id);
      const st = await stat(src).catch(() => null);
      if (!st?.isFile()) throw new ServiceError('not-found', `${src} is not a file; choose a video file.`);
      if (st.size > MAX_CLIP_BYTES) throw new ServiceError('bad-input', `${path.basename(src)} is larger than 4 GB; cut it into shorter clips first.`);
      const name = uniqueName(s, cleanClipName(src));
      const incoming = path.join(folder(id), 'incoming', name);
      await mkdir(path.dirname(incoming), { recursive: true });
      await cp(src, incoming);
      return admit(s, incoming, name);
    },

    'training.uploadClip': async ({ id, name: given, dataBase64, offset, final }) => {
      const s = await readSession(id);
      const bytes = Buffer.from(dataBase64, 'base64');
      if (bytes.length === 0) throw new ServiceError('bad-input', `The upload of ${given} is empty.`);
      if (bytes.length > MAX_UPLOAD_BYTES) throw new ServiceError('bad-input', `A part of ${given} is larger than ${MAX_UPLOAD_BYTES / 1024 ** 2} MB; send it in smaller parts.`);
      const clean = cleanClipName(given);
      // Parts collect in incoming/<name>.part, in order; the last one moves the whole file in for its check.
      const part = path.join(folder(id), 'incoming', `${clean}.part`);
      await mkdir(path.dirname(part), { recursive: true });
      const have = offset === 0 ? 0 : ((await stat(part).catch(() => null))?.size ?? -1);
      if (have !== offset) throw new ServiceError('conflict', `The upload of ${given} arrived out of order (expected the part at byte ${Math.max(0, have)}, got ${offset}); add the file again.`);
      if (offset + bytes.length > MAX_CLIP_BYTES) throw new ServiceError('bad-input', `${given} is larger than ${MAX_CLIP_BYTES / 1024 ** 3} GB; cut it into shorter clips first.`);
      if (offset === 0) await writeFile(part, bytes);
      else await appendFile(part, bytes);
      if (!final) return { received: offset + bytes.length, clip: null };
      const name = uniqueName(s, clean);
      const incoming = path.join(folder(id), 'incoming', name);
      await rename(part, incoming);
      return { received: offset + bytes.length, clip: await admit(s, incoming, name) };
    },

    'training.removeClip': async ({ id, clip }) => {
      const s = await readSession(id);
      if (activeStage(s) === 'sft') throw new ServiceError('conflict', 'The clips are in use by the running training; pause or cancel it first.');
      const f = locate(s, clip);
      await rm(f, { force: true });
      await rm(path.join(folder(id), 'thumbs', `${path.basename(f)}.png`), { force: true });
      await rm(path.join(folder(id), 'thumbs', `${path.basename(f)}.json`), { force: true });
      return view(s);
    },

    'training.setHeldOut': async ({ id, clip, heldOut }) => {
      const s = await readSession(id);
      if (activeStage(s) === 'sft') throw new ServiceError('conflict', 'The clips are in use by the running training; wait for it to finish or pause it first.');
      const f = locate(s, clip);
      const sub = path.basename(path.dirname(f));
      if (sub === 'refused') throw new ServiceError('bad-input', `${clip} did not pass its checks, so it cannot be used for the comparison either.`);
      if (heldOut) {
        // One held-out clip: the one asked for; an earlier one goes back to training.
        for (const other of await readdir(path.join(folder(id), 'heldout')).catch(() => [] as string[])) await rename(path.join(folder(id), 'heldout', other), path.join(folder(id), 'clips', other));
      }
      const to = path.join(folder(id), heldOut ? 'heldout' : 'clips', path.basename(f));
      await mkdir(path.dirname(to), { recursive: true });
      if (to !== f) await rename(f, to);
      return view(s);
    },

    'training.presets': async ({ model }) => {
      const pkg = await modelDir(model);
      const size = (await packageDefaults(pkg)).size;
      const out: TrainingPreset[] = [];
      for (const p of PRESETS) {
        const lora = { rank: p.rank, alpha: p.rank, targets: p.id === 'cpu' ? ['q', 'v'] : ['q', 'k', 'v', 'o', 'ffn.0', 'ffn.2'] };
        const sft = { steps: p.steps, warmup: Math.min(50, Math.round(p.steps / 10)), batch: p.batch, frames: p.frames, recompute: p.recompute, lora, checkpointEvery: p.id === 'cpu' ? 5 : 100, sampleEvery: p.id === 'cpu' ? 0 : 200 };
        const dpo = { steps: p.dpoSteps, warmup: Math.min(10, Math.round(p.dpoSteps / 10)), batch: 1, frames: p.frames, recompute: p.recompute, lora, checkpointEvery: p.id === 'cpu' ? 2 : 50, sampleSteps: p.id === 'cpu' ? 2 : 8, windowsPerClip: p.id === 'cpu' ? 1 : 0 };
        let est: TrainingEstimate | null = null;
        let estimateError: string | null = null;
        try {
          est = await estimate(model, 'sft', sft);
        } catch (e) {
          estimateError = (e as Error).message;
        }
        out.push({ id: p.id, label: p.label, description: p.description, sft, dpo, size, estimate: est, estimateError });
      }
      return out;
    },

    'training.estimate': async ({ model, stage, settings }) => estimate(model, stage, settings),

    'training.start': async ({ id, stage, settings }) => {
      const s = await readSession(id);
      const busy = activeStage(s);
      if (busy) throw new ServiceError('conflict', `The ${busy.toUpperCase()} stage of this session is still in the queue; pause or cancel it before starting again.`);
      return { jobId: await queueStage(s, stage, settings) };
    },

    'training.metrics': async ({ id, stage }) => {
      const s = await readSession(id);
      const run = path.join(folder(id), stage);
      const rows = (await readMetrics(run)).map((m) => ({
        step: m.step,
        loss: m.loss,
        lr: m.lr,
        seconds: m.seconds,
        ...(m.accuracy !== undefined ? { accuracy: m.accuracy } : {}),
        ...(m.policyErrGt !== undefined ? { policyErrGt: m.policyErrGt } : {}),
        ...(m.refErrGt !== undefined ? { refErrGt: m.refErrGt } : {}),
      }));
      const given = s.stages[stage]?.settings.steps;
      const steps = typeof given === 'number' ? given : stage === 'sft' ? SFT_DEFAULTS.steps : DPO_DEFAULTS.steps;
      const sampleDir = path.join(run, 'samples');
      const samples = (await readdir(sampleDir).catch(() => [] as string[]))
        .map((n) => /^step-(\d+)\.mp4$/.exec(n))
        .filter((m): m is RegExpExecArray => !!m)
        .map((m) => ({ step: Number(m[1]), path: path.join(sampleDir, m[0]), url: ctx.urlFor(path.join(sampleDir, m[0])) }))
        .sort((a, b) => a.step - b.step);
      return { stage, rows, steps, samples };
    },

    'training.compare': async ({ id }) => {
      const s = await readSession(id);
      const held = (await clipEntries(s)).find((c) => c.heldOut);
      if (!held) throw new ServiceError('bad-input', 'Choose a held-out clip first (in the Clips step): the comparison uses a clip the model did not train on.');
      const after = stageInfo(s, 'dpo')?.finished ? path.join(folder(id), 'dpo', 'adapter') : stageInfo(s, 'sft')?.finished ? path.join(folder(id), 'sft', 'adapter') : null;
      if (!after) throw new ServiceError('conflict', 'Finish a training stage first; there is nothing trained to compare yet.');
      const { portrait, audio } = await compareInputs(s, held.path);
      const base = await modelDir(s.model);
      const dir = path.join(folder(id), 'compare');
      const settings = { ...DEFAULT_GENERATION, steps: 8 };
      const watermark = ctx.settings.get().watermark;
      const mk = (which: string, modelPath: string): GenerateJobParams => ({ mode: 'preview', portrait: { path: portrait, crop: null }, audio: { path: audio, trim: null }, settings, seconds: Math.min(3, held.seconds ?? 3), output: path.join(dir, `${which}-${stamp()}.mp4`), watermark, modelPath });
      const b = await ctx.queue.add({ kind: 'preview', title: `Compare · ${s.name} · before`, params: mk('before', base) });
      const a = await ctx.queue.add({ kind: 'preview', title: `Compare · ${s.name} · after`, params: mk('after', after) });
      s.compare = { clip: held.name, before: b.id, after: a.id };
      await writeSession(s);
      return { jobIds: [b.id, a.id] };
    },

    'training.compareResult': async ({ id }): Promise<TrainingComparison> => {
      const s = await readSession(id);
      if (!s.compare) return { clip: null, before: null, after: null, note: 'No comparison yet.' };
      const side = async (jobId: string): Promise<TrainingComparison['before']> => {
        const job = ctx.queue.list().find((j) => j.id === jobId);
        if (!job) return null;
        const sc = await scores(jobId);
        return { jobId, state: job.state, url: job.output && job.state === 'done' ? ctx.urlFor(job.output) : null, scores: sc.scores, scoreNote: sc.note };
      };
      return { clip: s.compare.clip, before: await side(s.compare.before), after: await side(s.compare.after), note: null };
    },

    'training.save': async ({ id, name }) => {
      const s = await readSession(id);
      const stage = stageInfo(s, 'dpo')?.finished ? 'dpo' : stageInfo(s, 'sft')?.finished ? 'sft' : null;
      if (!stage) throw new ServiceError('conflict', 'There is no finished training to save yet; run SFT to the end first.');
      if ((await ctx.models.list()).some((m) => m.name === name)) throw new ServiceError('conflict', `A model named "${name}" already exists; choose another name.`);
      const out = path.join(ctx.dataDir, 'models', name);
      if (existsSync(out)) throw new ServiceError('conflict', `${out} already exists; choose another name.`);
      await mkdir(path.dirname(out), { recursive: true });
      const tmp = `${out}.saving`;
      await rm(tmp, { recursive: true, force: true });
      await cp(path.join(folder(id), stage, 'adapter'), tmp, { recursive: true });
      const { manifest } = await readManifest(tmp);
      await writeManifest(tmp, { ...manifest, name, notes: [...(manifest.notes ?? []), `saved from the training session "${s.name}" (${stage.toUpperCase()})`] });
      await rename(tmp, out);
      s.savedAs = name;
      await writeSession(s);
      return ctx.models.find(name);
    },
  };
}
