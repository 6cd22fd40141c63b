// The job queue mirror (previews and exports). Actions call the service; the service's events (wired in
// store.ts) keep `jobs` current, so actions do not patch the list themselves beyond the answer they get.
import { removeJob, sortJobs, upsertJob } from './jobs-mirror.js';
import type { JobsSlice, Slice } from './types.js';

const MAX_FRAMES = 24;

export const createJobsSlice: Slice<JobsSlice> = (host) => (set, get) => ({
  jobs: [],
  frames: {},
  previewJobId: null,
  refreshJobs: async () => {
    try {
      set({ jobs: sortJobs(await host.call('jobs.list', {})) });
    } catch (e) {
      get().report(e);
    }
  },
  startPreview: async (seconds) => {
    const project = await get().save();
    if (!project) return;
    try {
      const { jobId } = await host.call('generate.preview', { project, seconds });
      set((s) => ({ previewJobId: jobId, frames: { ...s.frames, [jobId]: [] } }));
      const job = await host.call('jobs.get', { id: jobId });
      set((s) => ({ jobs: upsertJob(s.jobs, job) }));
    } catch (e) {
      get().report(e);
    }
  },
  addExport: async ({ output, watermark }) => {
    const project = await get().save();
    if (!project) return;
    try {
      const { jobId } = await host.call('generate.export', { project, ...(output ? { output } : {}), ...(watermark ? { watermark } : {}) });
      const job = await host.call('jobs.get', { id: jobId });
      set((s) => ({ jobs: upsertJob(s.jobs, job) }));
    } catch (e) {
      get().report(e);
    }
  },
  jobAction: async (id, action) => {
    try {
      if (action === 'remove') {
        await host.call('jobs.remove', { id });
        set((s) => ({ jobs: removeJob(s.jobs, id) }));
        return;
      }
      const job = await host.call(`jobs.${action}`, { id });
      set((s) => ({ jobs: upsertJob(s.jobs, job) }));
    } catch (e) {
      get().report(e);
    }
  },
  moveJob: async (id, index) => {
    try {
      set({ jobs: sortJobs(await host.call('jobs.reorder', { id, index })) });
    } catch (e) {
      get().report(e);
    }
  },
  openOutput: async (id) => {
    try {
      const out = await host.call('jobs.openOutput', { id });
      await host.reveal(out.path, out.url);
    } catch (e) {
      get().report(e);
    }
  },
});

/** Appends a live frame, keeping the newest MAX_FRAMES. */
export function addFrame(frames: Record<string, string[]>, id: string, url: string): Record<string, string[]> {
  const list = frames[id] ?? [];
  if (list.at(-1) === url) return frames;
  return { ...frames, [id]: [...list, url].slice(-MAX_FRAMES) };
}
