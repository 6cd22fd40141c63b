// The job queue mirror (previews and exports). Actions call the service; the service's events (wired in
// store.ts) keep `jobs` current, so actions do not patch the list themselves beyond the answer they get.
import { removeJob, sortJobs, upsertJob } from './jobs-mirror.js';
import type { JobsSlice, Slice } from './types.js';

const MAX_FRAMES = 24;

export const createJobsSlice: Slice<JobsSlice> = (host) => (set, get) => ({
  jobs: [],
  frames: {},
  previewJobId: null,
  summary: null,
  checks: {},
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
  loadSummary: async () => {
    const project = get().project;
    if (!project?.audio) return set({ summary: null });
    try {
      set({ summary: await host.call('generate.summary', { project }) });
    } catch {
      set({ summary: null });
    }
  },
  addExport: async ({ output, watermark }) => {
    const project = await get().save();
    if (!project) return false;
    try {
      const { jobId } = await host.call('generate.export', { project, ...(output ? { output } : {}), ...(watermark ? { watermark } : {}) });
      const job = await host.call('jobs.get', { id: jobId });
      set((s) => ({ jobs: upsertJob(s.jobs, job) }));
      return true;
    } catch (e) {
      get().report(e);
      return false;
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
  openOutput: async (id, how) => {
    try {
      const out = await host.call('jobs.openOutput', { id });
      if (how === 'reveal') await host.reveal(out.path, out.url);
      else await host.open(out.path, out.url);
    } catch (e) {
      get().report(e);
    }
  },
  verifyOutput: async (id) => {
    const job = get().jobs.find((j) => j.id === id);
    if (!job?.output) return;
    set((s) => ({ checks: { ...s.checks, [id]: 'checking' } }));
    try {
      const r = await host.call('media.verify', { path: job.output });
      set((s) => ({ checks: { ...s.checks, [id]: r } }));
    } catch (e) {
      set((s) => {
        const { [id]: _gone, ...rest } = s.checks;
        return { checks: rest };
      });
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
