// Peak memory and time of one training step, estimated before anything runs (`refree train sft|dpo
// --estimate`). The REAL step graph is built (graphs.ts) with frozen weights that are external
// initializers pointing nowhere, so nothing is allocated; then its execution is simulated in the order
// the serializer emits the nodes (composites lowered): each node's outputs are allocated, each tensor is
// freed after its last consumer, graph inputs, outputs and initializers live through the whole step,
// and view ops (Reshape, Identity, Squeeze, Unsqueeze, Flatten) share their input's buffer as ORT's
// kernels do. The peak of that trace is the estimate. Time is a per-node roofline over assumed (or
// measured) backend rates: max(FLOPs / matmul rate, bytes moved / memory bandwidth).
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { BYTES_PER_ELEMENT } from '../graph/dtype.js';
import { Graph } from '../graph/graph.js';
import type { Node, Tensor } from '../graph/graph.js';
import { emitNodes } from '../graph/onnx/serialize.js';
import type { AttentionImpl } from '../graph/ops/attention.js';
import { matmul } from '../graph/ops/matmul.js';
import { add } from '../graph/ops/elementwise.js';
import type { ModelArchitecture } from '../model/config.js';
import type { ReFreeConfig } from '../model/refree/config.js';
import type { WeightProvider } from '../model/weight-provider.js';
import { CompiledGraph } from '../runtime/session.js';
import type { BuiltTrainGraph } from './graphs.js';
import { buildDpoGraph, buildSftGraph } from './graphs.js';
import type { TrainableSettings } from './trainable.js';
import { TrainSettingsError, trainableSet } from './trainable.js';

// --- the execution simulator ---------------------------------------------------------------------

/** Ops whose ORT kernels alias their first input's buffer instead of allocating one. */
const VIEW_OPS = new Set(['Reshape', 'Identity', 'Squeeze', 'Unsqueeze', 'Flatten']);

export type MemoryClass = 'frozenWeights' | 'trainable' | 'activations';

export interface SimulationOptions {
  /** Graph inputs and outputs that hold trainable state (params, Adam moments, gradients, DPO ref). */
  trainableNames?: ReadonlySet<string>;
  /** Flat trainable vector length: node results of exactly this many elements count as trainable state. */
  trainableSize?: number;
  /**
   * Node names in the order a runtime ran them (ORT's profiler): the simulation follows it, running
   * each node that is not listed (folded or renamed by ORT) just before the first listed node that needs it.
   */
  order?: readonly string[] | 'emitted' | 'ort';
  /** Also list the largest tensors live at the peak (slower). */
  explain?: boolean;
}

export interface Simulation {
  peakBytes: number;
  /** Live bytes by class at the peak. */
  atPeak: Record<MemoryClass, number>;
  /** The node after which the peak occurs (name and op). */
  peakNode: string;
  /** The most activation bytes live at any point (which may be another point than the peak). */
  peakActivations: number;
  /** 2·M·K·N over MatMul, Gemm, FusedMatMul and Conv. */
  flops: number;
  /** Bytes read and written by every non-view node (inputs + outputs). */
  trafficBytes: number;
  nodes: number;
  /** With `explain`: the largest tensors live at the peak, largest first. */
  largestAtPeak: { name: string; producer: string; bytes: number }[];
  /** Per-node FLOPs and bytes, for the roofline time. */
  perNode: { flops: number; bytes: number }[];
}

const bytesOf = (t: Tensor): number => t.size * BYTES_PER_ELEMENT[t.dtype];

/** FLOPs of one node (matrix products and convolutions; everything else counts as memory traffic). */
export function nodeFlops(n: Node): number {
  const out = n.outputs[0];
  if (!out) return 0;
  if (n.opType === 'MatMul' || n.opType === 'FusedMatMul') {
    const a = n.inputs[0]!;
    return 2 * out.size * a.shape[a.rank - 1]!;
  }
  if (n.opType === 'Gemm') {
    const a = n.inputs[0]!;
    const k = n.attrInt('transA', 0) ? a.shape[0]! : a.shape[1]!;
    return 2 * out.size * k;
  }
  if (n.opType === 'Conv') {
    const w = n.inputs[1]!;
    return 2 * out.size * w.shape.slice(1).reduce((x, y) => x * y, 1);
  }
  return 0;
}

/**
 * The order ORT runs a graph in by default (GraphViewer: Graph::ReverseDFSFrom over the leaf nodes with
 * NodeCompare): a stack-based depth-first walk from the nodes nobody reads, in node order, each node's
 * producers pushed in ascending node order (so the last is walked first), each node emitted once all
 * its producers are. It differs from the order the graph was built in: a producer is run only when the
 * walk first reaches it from a consumer, so, e.g., a gradient read only by the final concatenation is
 * computed late and what it reads stays alive until then.
 */
export function ortDefaultOrder(nodes: readonly Node[]): Node[] {
  const index = new Map<Node, number>(nodes.map((n, i) => [n, i]));
  const producer = new Map<number, Node>();
  for (const n of nodes) for (const o of n.outputs) producer.set(o.id, n);
  const hasConsumer = new Set<Node>();
  const inputsOf = (n: Node): Node[] => {
    const s = new Set<Node>();
    for (const t of n.inputs) {
      const p = t ? producer.get(t.id) : undefined;
      if (p) s.add(p);
    }
    return [...s].sort((a, b) => index.get(a)! - index.get(b)!);
  };
  for (const n of nodes) for (const p of inputsOf(n)) hasConsumer.add(p);
  const stack: [Node, boolean][] = nodes.filter((n) => !hasConsumer.has(n)).map((n) => [n, false]);
  const visited = new Set<Node>();
  const out: Node[] = [];
  while (stack.length) {
    const [n, leave] = stack.pop()!;
    if (leave) {
      out.push(n);
      continue;
    }
    if (visited.has(n)) continue;
    visited.add(n);
    stack.push([n, true]);
    for (const p of inputsOf(n)) stack.push([p, false]);
  }
  return out;
}

function reorder(nodes: readonly Node[], order: readonly string[], outputs: readonly Tensor[]): Node[] {
  const rank = new Map(order.map((n, i) => [n, i]));
  const byOutput = new Map<number, Node>();
  for (const n of nodes) for (const o of n.outputs) byOutput.set(o.id, n);
  const done = new Set<Node>();
  const out: Node[] = [];
  const visit = (n: Node): void => {
    const stack: [Node, number][] = [[n, 0]];
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [node, i] = top;
      if (done.has(node)) {
        stack.pop();
        continue;
      }
      if (i < node.inputs.length) {
        top[1]++;
        const t = node.inputs[i];
        const p = t ? byOutput.get(t.id) : undefined;
        if (p && !done.has(p)) stack.push([p, 0]);
        continue;
      }
      done.add(node);
      out.push(node);
      stack.pop();
    }
  };
  [...nodes].filter((n) => rank.has(n.name)).sort((a, b) => rank.get(a.name)! - rank.get(b.name)!).forEach(visit);
  for (const t of outputs) {
    const p = byOutput.get(t.id);
    if (p) visit(p);
  }
  return out;
}

/**
 * Simulates one run of `outputs`' graph in emitted order. Buffers: initializers (frozen), graph inputs
 * and outputs (alive all step), node results (from their producer to their last consumer).
 */
export function simulateGraph(g: Graph, outputs: readonly Tensor[], opts: SimulationOptions = {}): Simulation {
  const emitted = emitNodes(g, outputs);
  const order = opts.order ?? 'ort';
  const nodes = order === 'ort' ? ortDefaultOrder(emitted) : order === 'emitted' ? emitted : reorder(emitted, order, outputs);
  const outputIds = new Set(outputs.map((t) => t.id));
  const trainableNames = opts.trainableNames ?? new Set<string>();
  // Buffer of each tensor (views share their source's), and how many node-inputs read each buffer.
  const bufferOf = new Map<number, number>();
  const bytes: number[] = [];
  const cls: MemoryClass[] = [];
  const pinned: boolean[] = [];
  const uses: number[] = [];
  const firstTensor: Tensor[] = [];
  const newBuffer = (t: Tensor, c: MemoryClass, pin: boolean): number => {
    firstTensor.push(t);
    bytes.push(bytesOf(t));
    cls.push(c);
    pinned.push(pin);
    uses.push(0);
    bufferOf.set(t.id, bytes.length - 1);
    return bytes.length - 1;
  };
  const classOf = (t: Tensor): MemoryClass => {
    if (t.kind === 'initializer') return 'frozenWeights';
    if (trainableNames.has(t.name) || (opts.trainableSize !== undefined && t.size === opts.trainableSize)) return 'trainable';
    return 'activations';
  };
  let live = 0;
  const byClass: Record<MemoryClass, number> = { frozenWeights: 0, trainable: 0, activations: 0 };
  const liveSet = new Set<number>();
  let peakSet: number[] = [];
  const alloc = (b: number): void => {
    if (opts.explain) liveSet.add(b);
    live += bytes[b]!;
    byClass[cls[b]!] += bytes[b]!;
  };
  const free = (b: number): void => {
    liveSet.delete(b);
    live -= bytes[b]!;
    byClass[cls[b]!] -= bytes[b]!;
  };
  // Pass 1: buffers and use counts. Initializers and inputs that a node reads become pinned buffers.
  const ensureLeaf = (t: Tensor): number => {
    const b = bufferOf.get(t.id);
    if (b !== undefined) return b;
    return newBuffer(t, classOf(t), true);
  };
  for (const n of nodes) {
    const seen = new Set<number>();
    for (const t of n.inputs) {
      if (!t) continue;
      const b = ensureLeaf(t);
      if (!seen.has(b)) uses[b]!++;
      seen.add(b);
    }
    n.outputs.forEach((o, i) => {
      const src = i === 0 && VIEW_OPS.has(n.opType) ? n.inputs[0] : null;
      if (src) bufferOf.set(o.id, bufferOf.get(src.id)!);
      else newBuffer(o, classOf(o), outputIds.has(o.id));
    });
  }
  for (const t of outputs) {
    const b = bufferOf.get(t.id) ?? ensureLeaf(t);
    pinned[b] = true;
  }
  // Graph inputs are fed whether or not a node reads them; every initializer is loaded with the session.
  for (const t of g.inputs) ensureLeaf(t);
  const leafBuffers = new Set<number>();
  for (const t of g.inputs) leafBuffers.add(bufferOf.get(t.id)!);
  for (const n of nodes) for (const t of n.inputs) if (t && t.producer === null) leafBuffers.add(bufferOf.get(t.id)!);
  for (const b of leafBuffers) alloc(b);

  // Pass 2: run.
  let peak = live;
  let atPeak = { ...byClass };
  let peakNode = '(inputs)';
  let peakActivations = byClass.activations;
  const perNode: { flops: number; bytes: number }[] = [];
  let flops = 0;
  let traffic = 0;
  const allocated = new Set<number>(leafBuffers);
  for (const n of nodes) {
    const view = VIEW_OPS.has(n.opType);
    for (const o of n.outputs) {
      const b = bufferOf.get(o.id)!;
      if (!allocated.has(b)) {
        allocated.add(b);
        alloc(b);
      }
    }
    if (byClass.activations > peakActivations) peakActivations = byClass.activations;
    if (live > peak) {
      peak = live;
      atPeak = { ...byClass };
      peakNode = `${n.opType} ${n.name}`;
      if (opts.explain) peakSet = [...liveSet];
    }
    const f = nodeFlops(n);
    let moved = 0;
    if (!view) for (const t of [...n.inputs, ...n.outputs]) if (t) moved += bytesOf(t);
    perNode.push({ flops: f, bytes: moved });
    flops += f;
    traffic += moved;
    const seen = new Set<number>();
    for (const t of n.inputs) {
      if (!t) continue;
      const b = bufferOf.get(t.id)!;
      if (seen.has(b)) continue;
      seen.add(b);
      if (--uses[b]! === 0 && !pinned[b]) free(b);
    }
    // Results nobody reads (a node's unused second output) are released at once.
    for (const o of n.outputs) {
      const b = bufferOf.get(o.id)!;
      if (uses[b] === 0 && !pinned[b] && allocated.has(b) && !seen.has(b)) {
        uses[b] = -1;
        free(b);
      }
    }
  }
  const largestAtPeak = peakSet
    .sort((a, b) => bytes[b]! - bytes[a]!)
    .slice(0, 20)
    .map((b) => ({ name: firstTensor[b]!.name, producer: firstTensor[b]!.producer?.opType ?? firstTensor[b]!.kind, bytes: bytes[b]! }));
  return { peakBytes: peak, atPeak, peakNode, peakActivations, flops, trafficBytes: traffic, nodes: nodes.length, perNode, largestAtPeak };
}

// --- backend rates -------------------------------------------------------------------------------

export type EstimateBackend = 'cpu' | 'cuda' | 'webgpu';

export interface BackendRates {
  /** Sustained matrix-product rate, FLOP/s. */
  flopsPerSecond: number;
  /** Sustained memory bandwidth of the other kernels, bytes/s. */
  bytesPerSecond: number;
  /** Fixed cost of running one node (dispatch, kernel launch), seconds. */
  nodeSeconds: number;
  /** Where the numbers come from, as a sentence. */
  source: string;
}

/** Assumed rates where nothing was measured. The CPU default is replaced by `measureCpuRates` in the CLI. */
export function assumedRates(backend: EstimateBackend, dtype: 'float32' | 'float16'): BackendRates {
  if (backend === 'cuda') {
    return dtype === 'float16'
      ? { flopsPerSecond: 400e12, bytesPerSecond: 2.0e12, nodeSeconds: 10e-6, source: 'CUDA: an H100 (989 TFLOP/s dense float16, 3.35 TB/s) at about 40 % of its matrix peak (400 TFLOP/s), 60 % of its bandwidth and 10 µs per node (ORT launches each kernel from the CPU)' }
      : { flopsPerSecond: 160e12, bytesPerSecond: 2.0e12, nodeSeconds: 10e-6, source: 'CUDA: an H100 in float32 with TF32 tensor cores (ORT default) at about 40 % (160 TFLOP/s), 2 TB/s and 10 µs per node' };
  }
  if (backend === 'webgpu') {
    return { flopsPerSecond: dtype === 'float16' ? 20e12 : 10e12, bytesPerSecond: 300e9, nodeSeconds: 30e-6, source: `WebGPU: a desktop GPU at ${dtype === 'float16' ? 20 : 10} TFLOP/s, 300 GB/s and 30 µs per node effective (WebGPU kernels reach a small part of the card's peak)` };
  }
  const cores = availableParallelism();
  return { flopsPerSecond: cores * 30e9, bytesPerSecond: cores * 3e9, nodeSeconds: 10e-6, source: `CPU: assumed ${cores} cores × 30 GFLOP/s (float32 matrix products), ${cores} × 3 GB/s for the other kernels and 10 µs per node (not measured)` };
}

/** Best of 3 timed calls after one warm-up. */
async function bestOf(f: () => Promise<unknown>): Promise<number> {
  await f();
  let b = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await f();
    b = Math.min(b, (performance.now() - t) / 1000);
  }
  return b;
}

/** A chain y ← y + x repeated `n` times over `elems` floats: bandwidth when large, per-node cost when tiny. */
function addChain(elems: number, n: number): { g: Graph; out: Tensor } {
  const g = new Graph('estimate-adds');
  const x = g.input('x', 'float32', [elems]);
  let y = x;
  for (let i = 0; i < n; i++) y = add(y, x);
  return { g, out: g.alias(y, 'y') };
}

/**
 * Measures this machine through ORT's CPU backend: the float32 matrix-product rate (a 1024³ MatMul with
 * its weight as an initializer), the bandwidth of a chain of 8 Adds over 32 MB tensors, and the per-node
 * cost from a chain of 256 Adds over 16 floats; best of 3 each.
 */
export async function measureCpuRates(intraOpThreads = 0): Promise<BackendRates> {
  const n = 1024;
  const g = new Graph('estimate-matmul');
  const a = g.input('a', 'float32', [n, n]);
  const w = g.initializer('w', 'float32', [n, n], { kind: 'inline', data: new Float32Array(n * n).fill(0.001) });
  const so = { optimization: 'disabled' as const, intraOpThreads, backend: 'cpu' as const };
  const mm = await CompiledGraph.fromGraph(g, { ...so, outputs: [g.alias(matmul(a, w), 'p')] });
  // 32 MB tensors: larger than a desktop CPU's last-level cache, as a training step's activations are.
  const big = addChain(1 << 23, 8);
  const tiny = addChain(16, 256);
  const bw = await CompiledGraph.fromGraph(big.g, { ...so, outputs: [big.out] });
  const nodes = await CompiledGraph.fromGraph(tiny.g, { ...so, outputs: [tiny.out] });
  try {
    const mmS = await bestOf(() => mm.run({ a: new Float32Array(n * n).fill(0.5) }));
    const bigX = new Float32Array(1 << 23).fill(1);
    const bwS = await bestOf(() => bw.run({ x: bigX }));
    const tinyX = new Float32Array(16).fill(1);
    const nodeSeconds = (await bestOf(() => nodes.run({ x: tinyX }))) / 256;
    const flopsPerSecond = (2 * n ** 3) / mmS;
    const bytesPerSecond = (8 * 3 * 4 * (1 << 23)) / Math.max(1e-9, bwS - 8 * nodeSeconds);
    return { flopsPerSecond, bytesPerSecond, nodeSeconds, source: `CPU: measured here, ${(flopsPerSecond / 1e9).toFixed(0)} GFLOP/s float32 MatMul, ${(bytesPerSecond / 1e9).toFixed(1)} GB/s elementwise, ${(nodeSeconds * 1e6).toFixed(1)} µs per node` };
  } finally {
    await mm.release();
    await bw.release();
    await nodes.release();
  }
}

/** Seconds of one run: each node takes its fixed cost + max(FLOPs / matmul rate, bytes moved / bandwidth), one after another. */
export function rooflineSeconds(sim: Simulation, r: BackendRates): number {
  let s = 0;
  for (const p of sim.perNode) s += r.nodeSeconds + Math.max(p.flops / r.flopsPerSecond, p.bytes / r.bytesPerSecond);
  return s;
}

// --- the estimate --------------------------------------------------------------------------------

export interface TrainEstimateRequest {
  arch: ModelArchitecture;
  refree: ReFreeConfig;
  /** What is trained, and the window: latent frames (the clean reference frame included) and batch (items; DPO: tuples). */
  settings: TrainableSettings & { frames: number; batch: number; recompute?: boolean };
  /** Video size in pixels (square when one number). */
  size: number | { width: number; height: number };
  stage: 'sft' | 'dpo';
  /** Ranked samples per DPO tuple: the ground truth and the negatives (default 4). */
  dpoK?: number;
  backend: EstimateBackend;
  baseDtype: 'float32' | 'float16';
  activationDtype: 'float32' | 'float16';
  /** Attention form (default: trainAttentionFor(tokens)). */
  attention?: AttentionImpl;
  blockSize?: number;
  /** Backend rates (default: assumedRates). */
  rates?: BackendRates;
  /** Execution order simulated: ORT's (default) or the order the graph was built in. */
  order?: 'ort' | 'emitted';
}

export interface TrainEstimate {
  peakBytes: number;
  breakdown: {
    /** The base model's weights (and the graph's constants). */
    frozenWeights: number;
    /** Trainable state live at the peak: params, gradient, two Adam moments, DPO reference, optimizer temporaries. */
    trainable: number;
    /** Everything else live at the peak: the batch, activations, gradients of activations. */
    activations: number;
  };
  flops: number;
  secondsPerStep: number;
  assumptions: string[];
  details: {
    latent: { frames: number; h: number; w: number };
    tokens: number;
    trainableParams: number;
    attention: AttentionImpl;
    recompute: boolean;
    nodes: number;
    peakNode: string;
    /** The most activation bytes live at any point of the step. */
    peakActivations: number;
    buildSeconds: number;
  };
}

/** How the simulator compared with ORT on CPU (bench/train.ts, docs/TRAINING.md). */
export const CPU_CALIBRATION = 'on CPU training steps of 100–230 MB, ORT\'s measured step memory was the simulated figure plus 35–40 MB, 16 MB of it the JS copies of the fetched outputs';

/** Sequences longer than this train with blockwise attention (naive attention keeps a T×T matrix per head). */
export const BLOCKWISE_FROM_TOKENS = 1024;

export function trainAttentionFor(tokens: number): AttentionImpl {
  return tokens > BLOCKWISE_FROM_TOKENS ? 'blockwise' : 'naive';
}

/** Pixels per latent cell: the VAE's pixel patch times 2 per spatial downsampling stage. */
export function vaeSpatialFactor(arch: ModelArchitecture): number {
  return arch.vae.pixelPatch * 2 ** (arch.vae.dimMult.length - 1);
}

/** Frozen weights as external initializers into a file that is never read: the graph allocates nothing. */
export class PlaceholderWeights implements WeightProvider {
  private offset = 0;
  private readonly made = new Map<Graph, Map<string, Tensor>>();
  constructor(readonly dtype: 'float32' | 'float16') {}
  get(g: Graph, name: string, shape: readonly number[]): Tensor {
    let m = this.made.get(g);
    if (!m) this.made.set(g, (m = new Map()));
    const hit = m.get(name);
    if (hit) return hit;
    const length = shape.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT[this.dtype];
    const t = g.initializer(name, this.dtype, shape, { kind: 'external', location: 'frozen.bin', offset: this.offset, length });
    this.offset += length;
    m.set(name, t);
    return t;
  }
}

const TRAINABLE_IO = ['params', 'adam_m', 'adam_v', 'grad_extra', 'ref_params', 'grad', 'params_out', 'adam_m_out', 'adam_v_out'];

/** The step graph the trainer would build for `r`, with placeholder frozen weights. */
export function buildEstimateGraph(r: TrainEstimateRequest): { built: BuiltTrainGraph; latent: { frames: number; h: number; w: number }; tokens: number; attention: AttentionImpl; params: number } {
  const f = vaeSpatialFactor(r.arch);
  const { width, height } = typeof r.size === 'number' ? { width: r.size, height: r.size } : r.size;
  const [pt, ph, pw] = r.arch.dit.patch;
  const cell = f * Math.max(ph, pw);
  if (width % (f * pw) !== 0 || height % (f * ph) !== 0) throw new TrainSettingsError(`the size ${width}×${height} must be a multiple of ${cell} pixels (the VAE's ${f}× times the DiT's ${ph}×${pw} patch)`);
  const latent = { frames: r.settings.frames, h: height / f, w: width / f };
  const tokens = (latent.frames / pt) * (latent.h / ph) * (latent.w / pw);
  const set = trainableSet(r.arch.dit, r.refree, r.settings);
  const attention = r.attention ?? trainAttentionFor(tokens);
  const model = { dit: r.arch.dit, refree: r.refree, set, frozen: new PlaceholderWeights(r.baseDtype), dtype: r.activationDtype, attention, blockSize: r.blockSize, recompute: r.settings.recompute ?? false };
  const shape = { frames: latent.frames, h: latent.h, w: latent.w };
  const built = r.stage === 'sft' ? buildSftGraph(model, { ...shape, batch: r.settings.batch }) : buildDpoGraph(model, { ...shape, tuples: r.settings.batch, k: r.dpoK ?? 4 }, { beta: 2500 });
  return { built, latent, tokens: tokens * (r.stage === 'sft' ? r.settings.batch : r.settings.batch * (r.dpoK ?? 4)), attention, params: set.layout.size };
}

export function estimateTrainStep(r: TrainEstimateRequest): TrainEstimate {
  const t0 = performance.now();
  const { built, latent, tokens, attention, params } = buildEstimateGraph(r);
  const buildSeconds = (performance.now() - t0) / 1000;
  const order = r.order ?? 'ort';
  const sim = simulateGraph(built.graph, built.outputs, { trainableNames: new Set(TRAINABLE_IO), trainableSize: params, order });
  const rates = r.rates ?? assumedRates(r.backend, r.activationDtype);
  const secondsPerStep = rooflineSeconds(sim, rates);
  const recompute = r.settings.recompute ?? false;
  const assumptions = [
    `memory: the step graph (${sim.nodes} nodes) run in ${order === 'ort' ? "ORT's default order (its depth-first walk from the outputs, reproduced here)" : 'the order it was built in'}, each result freed after its last reader, views sharing their input's buffer`,
    r.backend === 'cpu'
      ? `CPU: process memory adds the runtime itself (about 0.1–0.3 GB), the caller's copies of the fetched outputs and the arena's slack (${CPU_CALIBRATION})`
      : `${r.backend}: device memory adds the runtime's workspace (cuBLAS/cuDNN, a few hundred MB) and allocator fragmentation (budget 10–20 %; ${CPU_CALIBRATION})`,
    'the host keeps its own copies of params and Adam moments (4 × 4 bytes per trainable parameter) outside the device',
    `time: ${rates.source}; each node costs its fixed cost + max(FLOPs / matmul rate, bytes moved / bandwidth)`,
  ];
  if (r.backend === 'cpu' && r.activationDtype === 'float16') assumptions.push('CPU: ORT has few float16 kernels on x86; a float16 step on the CPU backend may not run at all');
  if (!recompute) assumptions.push('no activation recomputation: every block\'s activations are kept for the backward pass');
  return {
    peakBytes: sim.peakBytes,
    breakdown: { frozenWeights: sim.atPeak.frozenWeights, trainable: sim.atPeak.trainable, activations: sim.atPeak.activations },
    flops: sim.flops,
    secondsPerStep,
    assumptions,
    details: { latent, tokens, trainableParams: params, attention, recompute, nodes: sim.nodes, peakNode: sim.peakNode, peakActivations: sim.peakActivations, buildSeconds },
  };
}

const gb = (b: number): string => `${(b / 1e9).toFixed(2)} GB`;

function duration(s: number): string {
  if (s < 1) return `${(s * 1000).toFixed(0)} ms`;
  if (s < 120) return `${s.toFixed(1)} s`;
  return `${(s / 60).toFixed(1)} min`;
}

/** One paragraph for the CLI: peak memory with its parts, time per step, and what it assumes. */
export function formatEstimate(e: TrainEstimate, r: Pick<TrainEstimateRequest, 'stage' | 'backend' | 'baseDtype' | 'activationDtype'>): string {
  const d = e.details;
  const b = e.breakdown;
  return [
    `${r.stage.toUpperCase()} step on ${r.backend}: peak memory about ${gb(e.peakBytes)} (frozen weights ${gb(b.frozenWeights)} in ${r.baseDtype}, trainable state ${gb(b.trainable)} for ${(d.trainableParams / 1e6).toFixed(1)}M parameters, activations ${gb(b.activations)} in ${r.activationDtype}; at most ${gb(d.peakActivations)} during the step),`,
    `${d.latent.frames} latent frames of ${d.latent.h}×${d.latent.w} (${d.tokens} tokens), ${d.attention} attention, ${d.recompute ? 'per-block recomputation' : 'no recomputation'};`,
    `about ${duration(e.secondsPerStep)} per step (${(e.flops / 1e12).toFixed(1)} TFLOP).`,
    `Assumes: ${e.assumptions.join('; ')}.`,
  ].join(' ');
}
