// The jobs the runtime itself provides. Higher layers (pipeline, train) contribute theirs through
// their own job modules, passed to the engine process with --jobs (see engine-process.ts), so that
// runtime never imports them.
import type { JobTable } from '../engine-jobs.js';
import { selftest } from './selftest.js';

export const jobs: JobTable = { selftest };
