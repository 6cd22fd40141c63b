// Whether a WebGPU session can be opened here at all (an adapter exists: a GPU, or software Vulkan
// such as lavapipe from mesa 25). Tests use it to tell "no WebGPU on this machine" (skip, with the
// reason) apart from "this graph fails on WebGPU" (a real failure).
import { Graph } from '../graph/graph.js';
import { mul } from '../graph/ops/elementwise.js';
import { CompiledGraph } from '../runtime/session.js';

let cached: Promise<string | null> | null = null;

/** null when a one-node graph opens and runs on WebGPU with CPU fallback disabled; else the error. */
export function webgpuUnavailableReason(): Promise<string | null> {
  cached ??= (async () => {
    const g = new Graph('webgpu-probe');
    const a = g.input('a', 'float32', [2]);
    try {
      const s = await CompiledGraph.fromGraph(g, { outputs: [g.alias(mul(a, 2), 'y')], backend: 'webgpu', disableCpuFallback: true });
      const y = (await s.run({ a: Float32Array.of(1, 2) })).y as Float32Array;
      await s.release();
      return y[0] === 2 && y[1] === 4 ? null : `the probe graph returned [${Array.from(y).join(', ')}]`;
    } catch (e) {
      return (e as Error).message.split('\n')[0] ?? 'unknown error';
    }
  })();
  return cached;
}
