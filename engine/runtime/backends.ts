// Backend choice with an explicit fallback (DESIGN 1): cuda → webgpu → cpu. ORT has no automatic
// fallback, and asking it for a provider whose library is absent prints an error and can abort on
// some builds, so each backend is checked before use and every skipped backend gets a one-line reason
// that says what to do.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Graph } from '../graph/graph.js';
import type { SerializeOptions } from '../graph/onnx/serialize.js';
import { serialize } from '../graph/onnx/serialize.js';
import { add } from '../graph/ops/elementwise.js';
import { matmul } from '../graph/ops/matmul.js';
import { checkExternalData, modelIo, parseModel, readModelProto } from './model-file.js';
import type { Backend, IoSpec, SessionOptions } from './session.js';
import { CompiledGraph } from './session.js';

export const BACKEND_ORDER: readonly Backend[] = ['cuda', 'webgpu', 'cpu'];

export interface BackendStatus {
  backend: Backend;
  works: boolean;
  /** Why it does not work (one line), or a note about how it works (e.g. a software adapter). */
  reason?: string;
  /** Time to open and run the probe session, ms. */
  ms?: number;
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.trim();

/** The folder holding onnxruntime-node's native binding for this platform (bin/napi-v6/<os>/<arch>, any napi version). */
export function ortBinaryDir(): string | null {
  let pkgDir: string;
  try {
    pkgDir = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  } catch {
    return null;
  }
  const bin = path.join(pkgDir, 'bin');
  const napi = existsSync(bin) ? readdirSync(bin).filter((d) => d.startsWith('napi-v')).sort() : [];
  for (const d of napi.reverse()) {
    const dir = path.join(bin, d, process.platform, process.arch);
    if (existsSync(dir)) return dir;
  }
  return null;
}

/** The CUDA provider libraries ORT loads for `executionProviders: ['cuda']`. */
export function cudaProviderLibraries(platform: NodeJS.Platform = process.platform): string[] {
  if (platform === 'win32') return ['onnxruntime_providers_shared.dll', 'onnxruntime_providers_cuda.dll'];
  return ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
}

const INSTALL_HINT =
  'onnxruntime-node downloads them from NuGet at install time on a machine with internet; run `node node_modules/onnxruntime-node/script/install.js --onnxruntime-node-install=cuda12` there';

/** null when the libraries are present; otherwise the one-line reason (without the "cuda:" prefix). */
export function cudaLibraryProblem(binDir: string | null = ortBinaryDir(), platform: NodeJS.Platform = process.platform): string | null {
  if (platform === 'darwin') return 'skipped — CUDA is not available on macOS';
  if (!binDir) return 'skipped — onnxruntime-node is not installed (run `npm ci`)';
  const missing = cudaProviderLibraries(platform).filter((f) => !existsSync(path.join(binDir, f)));
  if (missing.length === 0) return null;
  return `skipped — CUDA provider libraries not installed (${missing.join(', ')} missing in ${binDir}); ${INSTALL_HINT}`;
}

/**
 * Whether this Linux machine exposes a GPU device node. Without one, any WebGPU adapter is a software
 * renderer (Mesa lavapipe), slower than ORT's own CPU kernels, so the automatic order skips it.
 * null where we cannot tell (other platforms).
 */
export function gpuDeviceNodePresent(): boolean | null {
  if (process.platform !== 'linux') return null;
  try {
    if (readdirSync('/dev/dri').some((f) => f.startsWith('renderD'))) return true;
  } catch {
    /* no /dev/dri */
  }
  return existsSync('/dev/nvidia0');
}

/** A tiny MatMul + Add graph whose result is known, to prove a backend really computes. */
function probeGraph(): { bytes: Uint8Array; inputs: IoSpec[]; outputs: IoSpec[]; x: Float32Array; expect: number[] } {
  const g = new Graph('backend_probe');
  const x = g.input('x', 'float32', [2, 3]);
  const wv = [1, -2, 0.5, 3, -1, 4];
  const w = g.constant('float32', [3, 2], wv);
  g.output(add(matmul(x, w), 1), 'y');
  const xv = Float32Array.from([1, 2, 3, -1, 0.5, 2]);
  const expect = [0, 1].flatMap((r) => [0, 1].map((c) => 1 + [0, 1, 2].reduce((s, k) => s + xv[r * 3 + k]! * wv[k * 2 + c]!, 0)));
  const spec = (t: { name: string; dtype: IoSpec['dtype']; shape: readonly number[] }): IoSpec => ({ name: t.name, dtype: t.dtype, shape: [...t.shape] });
  return { bytes: serialize(g), inputs: g.inputs.map(spec), outputs: g.outputs.map(spec), x: xv, expect };
}

function humanReason(backend: Backend, e: unknown): string {
  const msg = firstLine(e);
  if (backend === 'webgpu' && /adapter/i.test(msg)) return `failed — no WebGPU adapter (${msg}); on Linux it needs a Vulkan driver (libvulkan1 and the GPU vendor's driver, or mesa-vulkan-drivers ≥ 25 for a software one)`;
  if (backend === 'cuda' && /shared library|load library/i.test(msg))
    return `failed — onnxruntime could not load the CUDA provider (${msg}); it needs the NVIDIA driver, CUDA 12 and cuDNN 9 libraries on the library path`;
  return `failed — ${msg}`;
}

const probes = new Map<Backend, Promise<BackendStatus>>();

/**
 * Opens the probe session on one backend, runs it and checks the numbers. Cached per process: a
 * backend's availability does not change while the engine runs.
 */
export function probeBackend(backend: Backend): Promise<BackendStatus> {
  let p = probes.get(backend);
  if (!p) {
    p = runProbe(backend);
    probes.set(backend, p);
  }
  return p;
}

async function runProbe(backend: Backend): Promise<BackendStatus> {
  if (backend === 'cuda') {
    const problem = cudaLibraryProblem();
    if (problem) return { backend, works: false, reason: problem };
  }
  const t0 = performance.now();
  let cg: CompiledGraph | null = null;
  try {
    const p = probeGraph();
    cg = await CompiledGraph.fromBytes(p.bytes, p.inputs, p.outputs, { backend, optimization: 'disabled' });
    const y = (await cg.run({ x: p.x })).y as Float32Array;
    const bad = p.expect.findIndex((v, i) => !(Math.abs(y[i]! - v) <= 1e-3 * Math.max(1, Math.abs(v))));
    const ms = Math.round(performance.now() - t0);
    if (bad >= 0) return { backend, works: false, reason: `failed — the probe session ran but computed ${y[bad]} instead of ${p.expect[bad]}`, ms };
    const status: BackendStatus = { backend, works: true, ms };
    if (backend === 'webgpu' && gpuDeviceNodePresent() === false) status.reason = 'works, but on a software adapter (no GPU device node in /dev/dri or /dev/nvidia*)';
    return status;
  } catch (e) {
    return { backend, works: false, reason: humanReason(backend, e), ms: Math.round(performance.now() - t0) };
  } finally {
    await cg?.release().catch(() => undefined);
  }
}

export interface BackendPlan {
  /** Backends to try, in order; all passed their availability check. */
  order: Backend[];
  /** "<backend>: <reason>" for each backend left out. */
  skipped: string[];
}

export interface PlanOptions {
  /** A backend to try first (the rest follow in the default order), or an exact list. Default: cuda, webgpu, cpu. */
  prefer?: Backend | readonly Backend[];
  /** Append the remaining backends of the default order after `prefer` (default true). */
  fallback?: boolean;
}

function candidates(o: PlanOptions): { list: Backend[]; explicit: Set<Backend> } {
  const asked = o.prefer === undefined ? [] : typeof o.prefer === 'string' ? [o.prefer] : [...o.prefer];
  const list = [...new Set(asked)];
  if (o.fallback ?? true) for (const b of BACKEND_ORDER) if (!list.includes(b)) list.push(b);
  return { list, explicit: new Set(asked) };
}

/** null when `b` may be tried now, else its "<backend>: <reason>" line. */
async function usability(b: Backend, explicit: ReadonlySet<Backend>): Promise<string | null> {
  if (b === 'cpu') return null;
  if (b === 'webgpu' && !explicit.has(b) && gpuDeviceNodePresent() === false)
    return 'webgpu: skipped — no GPU device on this machine (/dev/dri/renderD*, /dev/nvidia0), so its WebGPU adapter would be a software renderer slower than cpu; ask for webgpu explicitly to use it anyway';
  const s = await probeBackend(b);
  return s.works ? null : `${b}: ${s.reason}`;
}

/** Decides, for every candidate backend, whether it would be tried (probing each, cached) and why not. */
export async function planBackends(o: PlanOptions = {}): Promise<BackendPlan> {
  const { list, explicit } = candidates(o);
  const plan: BackendPlan = { order: [], skipped: [] };
  for (const b of list) {
    const why = await usability(b, explicit);
    if (why) plan.skipped.push(why);
    else plan.order.push(b);
  }
  return plan;
}

/** The first backend that would be tried, probing no further than needed, with the reasons for those before it. */
export async function firstUsableBackend(o: PlanOptions = {}): Promise<{ backend: Backend | null; skipped: string[] }> {
  const { list, explicit } = candidates(o);
  const skipped: string[] = [];
  for (const b of list) {
    const why = await usability(b, explicit);
    if (!why) return { backend: b, skipped };
    skipped.push(why);
  }
  return { backend: null, skipped };
}

/** What to open: a graph (serialized here), ONNX bytes, or the path of an .onnx file (external data allowed). */
export type ModelSource = Graph | Uint8Array | string;

export interface OpenOptions extends SessionOptions, SerializeOptions, PlanOptions {}

export interface OpenedSession {
  session: CompiledGraph;
  backend: Backend;
  /** "<backend>: <reason>" for each backend before the one that runs, in the order tried. */
  skipped: string[];
}

export interface PreparedModel {
  /** What ORT is given: bytes, or the path (so external data resolves beside it). */
  source: Uint8Array | string;
  inputs: IoSpec[];
  outputs: IoSpec[];
  /** Bytes of the model plus its external data, for cache budgeting. */
  bytes: number;
}

/** Serializes a graph, or reads an ONNX file's I/O and checks its external data. */
export function prepareModel(model: ModelSource, opts: SerializeOptions = {}): PreparedModel {
  const spec = (t: { name: string; dtype: IoSpec['dtype']; shape: readonly number[] }): IoSpec => ({ name: t.name, dtype: t.dtype, shape: [...t.shape] });
  if (model instanceof Graph) {
    const outputs = opts.outputs ?? model.outputs;
    const bytes = serialize(model, { ...opts, outputs });
    return { source: bytes, inputs: model.inputs.map(spec), outputs: outputs.map(spec), bytes: bytes.byteLength };
  }
  if (typeof model === 'string') {
    const proto = readModelProto(model);
    const refs = checkExternalData(model, proto);
    return { source: path.resolve(model), ...modelIo(proto), bytes: statSync(model).size + refs.reduce((s, r) => s + r.length, 0) };
  }
  return { source: model, ...modelIo(parseModel(model)), bytes: model.byteLength };
}

/**
 * Opens a session on the first backend that works, in the preferred order, and reports which one
 * runs and why each earlier one was skipped. A backend that passes its probe but fails to open this
 * particular model (a missing kernel with CPU fallback disabled, out of memory) is skipped too.
 */
export async function openSession(model: ModelSource | PreparedModel, opts: OpenOptions = {}): Promise<OpenedSession> {
  const prepared = isPrepared(model) ? model : prepareModel(model, opts);
  const { list, explicit } = candidates({ prefer: opts.prefer ?? opts.backend, fallback: opts.fallback });
  const skipped: string[] = [];
  // Lazily: a backend after the one that works is never probed.
  for (const backend of list) {
    const why = await usability(backend, explicit);
    if (why) {
      skipped.push(why);
      continue;
    }
    try {
      const session = await CompiledGraph.fromBytes(prepared.source, prepared.inputs, prepared.outputs, { ...opts, backend });
      return { session, backend, skipped };
    } catch (e) {
      skipped.push(`${backend}: failed to open this model — ${firstLine(e)}`);
    }
  }
  throw new Error(`no backend could open the model: ${skipped.join('; ')}`);
}

function isPrepared(m: ModelSource | PreparedModel): m is PreparedModel {
  return typeof m === 'object' && !(m instanceof Graph) && !(m instanceof Uint8Array) && 'source' in m;
}
