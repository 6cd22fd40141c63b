// A small real engine job for queue tests: it "renders" `chunks` chunks, sleeping `msPerChunk` each,
// and after each chunk writes a checkpoint into its work folder (atomically), exactly as the pipeline
// checkpoints finished chunks. A resumed run starts after the last checkpoint and records where it
// started, so a test can prove that a run killed mid-job resumed instead of starting over.
// Loaded into the engine process with --jobs=<this file>.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { JobTable } from '../../runtime/engine-jobs.js';
import { writeJsonAtomic } from '../../common/atomic-write.js';
import type { EngineJobEnvelope } from '../engine-runner.js';
import { encodeProgressMessage } from '../progress-message.js';

interface Checkpoint {
  next: number;
  /** The chunk index each run started at. */
  starts: number[];
}

export interface ChunkJobParams {
  chunks: number;
  msPerChunk: number;
  /** Fail for real (a thrown error) at this chunk, to test the failed state. */
  failAt?: number;
}

export const jobs: JobTable = {
  'test.chunks': async (raw, ctx) => {
    const env = raw as EngineJobEnvelope;
    const p = env.params as ChunkJobParams;
    if (!Number.isInteger(p.chunks) || p.chunks < 1) throw new Error('test.chunks: "chunks" must be a positive integer');
    const file = path.join(env.workDir, 'checkpoint.json');
    let cp: Checkpoint = { next: 0, starts: [] };
    try {
      cp = JSON.parse(await readFile(file, 'utf8')) as Checkpoint;
    } catch {
      /* first run */
    }
    cp.starts.push(cp.next);
    await writeJsonAtomic(file, cp);
    for (let i = cp.next; i < p.chunks; i++) {
      await ctx.checkpoint();
      if (p.failAt === i) throw new Error(`chunk ${i} could not be rendered (test failure)`);
      await new Promise((r) => setTimeout(r, p.msPerChunk));
      cp.next = i + 1;
      await writeJsonAtomic(file, cp);
      const preview = path.join(env.workDir, 'checkpoint.json');
      ctx.progress(i + 1, p.chunks, encodeProgressMessage({ text: `chunk ${i + 1} of ${p.chunks}`, preview }));
    }
    const output = path.join(env.workDir, 'output.txt');
    await writeJsonAtomic(output, { chunks: p.chunks, starts: cp.starts });
    return { output, starts: cp.starts, pid: process.pid };
  },
};
