// Test helpers: compile a graph, run it once, release the session. Shared by the op and model tests
// so each file states only what it checks.
import type { Graph, Tensor } from '../graph/graph.js';
import { CompiledGraph } from '../runtime/session.js';
import type { Feeds, Fetches } from '../runtime/session.js';

/** One run of the graph's declared outputs with default session options. */
export async function runOnce(g: Graph, feeds: Feeds): Promise<Fetches> {
  const c = await CompiledGraph.fromGraph(g);
  try {
    return await c.run(feeds);
  } finally {
    await c.release();
  }
}

/**
 * Values of `outs` as float64 arrays, with ORT's optimiser off (so float64 graphs keep their
 * precision) and optionally every composite lowered to primitives.
 */
export async function evaluate(g: Graph, outs: Tensor[], feeds: Feeds, forceLowering = false): Promise<Float64Array[]> {
  const c = await CompiledGraph.fromGraph(g, { outputs: outs, forceLowering, optimization: 'disabled' });
  try {
    const r = await c.run(feeds);
    return outs.map((t) => Float64Array.from(r[t.name] as Float64Array | Float32Array));
  } finally {
    await c.release();
  }
}
