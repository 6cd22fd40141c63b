// A training run is a folder (DESIGN 13):
//   run.json          stage, settings (+ their hash), seed, base package, dataset, trainable layout hash
//   metrics.jsonl     one JSON object per step (the single source of the CLI's progress, the studio's
//                     charts and the model card's numbers)
//   checkpoints/      step-<n>.safetensors: params, adam_m, adam_v (+ ref_params for DPO); metadata
//                     names the stage, step, settings hash, layout hash and base package hash
//   samples/          sample videos every N steps
//   adapter/          the result: a model package of kind adapter (adapter.ts)
// Every write is atomic (temporary file + rename), so a kill at any moment leaves the last complete
// checkpoint and a metrics file whose lines past that checkpoint are dropped on resume.
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic as writeAtomic } from '../common/atomic-write.js';
import { SafetensorsFile, writeSafetensors } from '../model/weights/safetensors.js';

export const RUN_FILE = 'run.json';
export const METRICS_FILE = 'metrics.jsonl';
export const RUN_FORMAT = 'refree-train-run/1';
export const CHECKPOINT_FORMAT = 'refree-train-checkpoint/1';

export type Stage = 'sft' | 'dpo' | 'vae';

export class RunFolderError extends Error {
  override name = 'RunFolderError';
}

export interface RunRecord {
  format: typeof RUN_FORMAT;
  stage: Stage;
  created: string;
  /** Everything that determines the run's numbers; resuming requires the same. */
  settings: Record<string, unknown>;
  settingsHash: string;
  base: { name: string; dir: string; hash: string };
  dataset: string;
  layoutHash: string;
  trainable: { parameters: number; lora: unknown; ditGroups: string[] };
  /** What the run started from besides the base (DPO: the SFT adapter). */
  init?: { adapter: string } | null;
}

export interface StepMetrics {
  step: number;
  stage: Stage;
  loss: number;
  lr: number;
  /** Wall-clock seconds of this step. */
  seconds: number;
  gradNorm: number;
  /** Mean σ of the batch's noisy frames. */
  sigma?: number;
  /** DPO: implicit accuracy over the ordered pairs, and the policy's / reference's error on the ground truth. */
  accuracy?: number;
  policyErrGt?: number;
  refErrGt?: number;
  [k: string]: unknown;
}

export function settingsHash(settings: Record<string, unknown>): string {
  const canon = (v: unknown): unknown => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, canon(x)])) : v);
  return createHash('sha256').update(JSON.stringify(canon(settings))).digest('hex');
}


export async function readRun(dir: string): Promise<RunRecord | null> {
  const text = await readFile(path.join(dir, RUN_FILE), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    const r = JSON.parse(text) as RunRecord;
    if (r.format !== RUN_FORMAT) throw new Error(`format ${JSON.stringify(r.format)}`);
    return r;
  } catch (e) {
    throw new RunFolderError(`${path.join(dir, RUN_FILE)} is damaged (${(e as Error).message}); start a new run in another folder`);
  }
}

export async function writeRun(dir: string, r: RunRecord): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeAtomic(path.join(dir, RUN_FILE), `${JSON.stringify(r, null, 2)}\n`);
}

/** Names the first setting that differs (for "resuming with other settings"). */
export function settingsDiff(a: Record<string, unknown>, b: Record<string, unknown>): string | null {
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = JSON.stringify(a[k]);
    const y = JSON.stringify(b[k]);
    if (x !== y) return `${k} was ${x ?? 'unset'}, now ${y ?? 'unset'}`;
  }
  return null;
}

/**
 * Opens the run folder for `wanted`: a new folder (or an empty one) gets run.json; a folder holding a
 * run of the same stage, base and settings is resumed; anything else is refused with a sentence and
 * nothing in it is touched.
 */
export async function openRunFolder(dir: string, wanted: RunRecord): Promise<{ resumed: boolean; record: RunRecord }> {
  const st = await stat(dir).catch(() => null);
  if (st && !st.isDirectory()) throw new RunFolderError(`${dir} is a file; give a folder for the training run`);
  const have = await readRun(dir);
  if (!have) {
    const entries = st ? (await readdir(dir)).filter((e) => !e.startsWith('.')) : [];
    if (entries.length > 0) throw new RunFolderError(`${dir} already holds other files (${entries.slice(0, 3).join(', ')}) and no training run: choose an empty or new folder`);
    await writeRun(dir, wanted);
    return { resumed: false, record: wanted };
  }
  if (have.stage !== wanted.stage) throw new RunFolderError(`${dir} holds a ${have.stage.toUpperCase()} run, not ${wanted.stage.toUpperCase()}: use another folder for this stage`);
  if (have.base.hash !== wanted.base.hash) throw new RunFolderError(`${dir} holds a run of the model "${have.base.name}" (${have.base.hash.slice(0, 12)}), not of "${wanted.base.name}" (${wanted.base.hash.slice(0, 12)}): resume with the same --model, or use another folder`);
  if (have.settingsHash !== wanted.settingsHash) {
    throw new RunFolderError(`${dir} holds a run with other settings (${settingsDiff(have.settings, wanted.settings) ?? 'they differ'}): resume it with exactly the same options, or start a new run in another folder`);
  }
  return { resumed: true, record: have };
}

// --- metrics -----------------------------------------------------------------------------------------

export async function appendMetrics(dir: string, m: StepMetrics): Promise<void> {
  await appendFile(path.join(dir, METRICS_FILE), `${JSON.stringify(m)}\n`);
}

export async function readMetrics(dir: string): Promise<StepMetrics[]> {
  const text = await readFile(path.join(dir, METRICS_FILE), 'utf8').catch(() => '');
  const out: StepMetrics[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as StepMetrics);
    } catch {
      // A line cut by a kill mid-write: ignored (the step is redone after resume).
    }
  }
  return out;
}

/** Keeps the metrics of steps ≤ `step` (a resume redoes the later ones). */
export async function truncateMetrics(dir: string, step: number): Promise<void> {
  const keep = (await readMetrics(dir)).filter((m) => m.step <= step);
  await writeAtomic(path.join(dir, METRICS_FILE), keep.map((m) => `${JSON.stringify(m)}\n`).join(''));
}

// --- checkpoints ---------------------------------------------------------------------------------------

export interface CheckpointState {
  step: number;
  params: Float32Array;
  m: Float32Array;
  v: Float32Array;
  /** DPO reference parameters (EMA or frozen). */
  ref?: Float32Array;
}

export interface CheckpointIdentity {
  stage: Stage;
  settingsHash: string;
  layoutHash: string;
  baseHash: string;
}

const ckptName = (step: number): string => `step-${String(step).padStart(7, '0')}.safetensors`;

export async function listCheckpoints(dir: string): Promise<{ step: number; file: string }[]> {
  const cdir = path.join(dir, 'checkpoints');
  const names = await readdir(cdir).catch(() => [] as string[]);
  return names
    .map((n) => /^step-(\d+)\.safetensors$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ step: Number(m[1]), file: path.join(cdir, m[0]) }))
    .sort((a, b) => a.step - b.step);
}

export async function saveCheckpoint(dir: string, id: CheckpointIdentity, s: CheckpointState, keep = 2): Promise<string> {
  const cdir = path.join(dir, 'checkpoints');
  await mkdir(cdir, { recursive: true });
  const file = path.join(cdir, ckptName(s.step));
  const tmp = `${file}.${process.pid}.tmp`;
  const n = s.params.length;
  const tensors = [
    { name: 'params', dtype: 'F32' as const, shape: [n], data: s.params },
    { name: 'adam_m', dtype: 'F32' as const, shape: [n], data: s.m },
    { name: 'adam_v', dtype: 'F32' as const, shape: [n], data: s.v },
    ...(s.ref ? [{ name: 'ref_params', dtype: 'F32' as const, shape: [n], data: s.ref }] : []),
  ];
  await writeSafetensors(tmp, tensors, { metadata: { format: CHECKPOINT_FORMAT, stage: id.stage, step: String(s.step), settings: id.settingsHash, layout: id.layoutHash, base: id.baseHash, rng: `step ${s.step}` } });
  await rename(tmp, file);
  const all = await listCheckpoints(dir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) await rm(old.file, { force: true });
  return file;
}

/** Loads the newest checkpoint, checked against `id`; null when the run has none. */
export async function loadLatestCheckpoint(dir: string, id: CheckpointIdentity, n: number): Promise<(CheckpointState & { file: string }) | null> {
  const list = await listCheckpoints(dir);
  const last = list[list.length - 1];
  if (!last) return null;
  const fix = `delete ${last.file} to resume from the checkpoint before it${list.length > 1 ? '' : ' (it is the only one: the run then starts over)'}, or start a new run in another folder`;
  let st: SafetensorsFile;
  try {
    st = await SafetensorsFile.open(last.file);
  } catch (e) {
    throw new RunFolderError(`the checkpoint ${last.file} is damaged (${(e as Error).message}): ${fix}`);
  }
  try {
    const meta = st.metadata ?? {};
    if (meta.format !== CHECKPOINT_FORMAT) throw new RunFolderError(`${last.file} is not a training checkpoint (format ${JSON.stringify(meta.format)}): ${fix}`);
    if (meta.base !== id.baseHash) throw new RunFolderError(`the checkpoint ${last.file} belongs to another model (${String(meta.base).slice(0, 12)}, this one is ${id.baseHash.slice(0, 12)}): resume with the model it was trained from, or start a new run in another folder`);
    if (meta.layout !== id.layoutHash || meta.stage !== id.stage) throw new RunFolderError(`the checkpoint ${last.file} holds other trainable parameters (another stage, LoRA rank or targets): resume with the run's own settings, or start a new run in another folder`);
    if (meta.settings !== id.settingsHash) throw new RunFolderError(`the checkpoint ${last.file} was made with other settings: resume with the run's own settings, or start a new run in another folder`);
    const get = async (name: string): Promise<Float32Array> => {
      if (!st.has(name)) throw new RunFolderError(`the checkpoint ${last.file} lacks "${name}": ${fix}`);
      const a = Float32Array.from(await st.readF32(name));
      if (a.length !== n) throw new RunFolderError(`the checkpoint ${last.file} has ${a.length} parameters, the run has ${n}: ${fix}`);
      return a;
    };
    const out: CheckpointState & { file: string } = { step: Number(meta.step), params: await get('params'), m: await get('adam_m'), v: await get('adam_v'), file: last.file };
    if (st.has('ref_params')) out.ref = await get('ref_params');
    if (!Number.isInteger(out.step) || out.step < 0) throw new RunFolderError(`the checkpoint ${last.file} records no valid step: ${fix}`);
    return out;
  } catch (e) {
    if (e instanceof RunFolderError) throw e;
    throw new RunFolderError(`the checkpoint ${last.file} cannot be read (${(e as Error).message}): ${fix}`);
  } finally {
    await st.close();
  }
}

export { writeAtomic };
