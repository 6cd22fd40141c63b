// Builds the one studio store from its slices and wires the host's events into it. A vanilla store
// (zustand/vanilla) so the event wiring lives outside React; components use `useStudio(selector)`.
import { createStore, useStore } from 'zustand';
import type { StoreApi } from 'zustand';
import type { StudioHost } from '../host/host.js';
import { createJobsSlice, addFrame } from './jobs-slice.js';
import { removeJob, reorderJobs, upsertJob } from './jobs-mirror.js';
import { createProjectSlice } from './project-slice.js';
import { createSettingsSlice } from './settings-slice.js';
import type { StudioState } from './types.js';
import { createUiSlice } from './ui-slice.js';

export type StudioStore = StoreApi<StudioState>;

export function createStudioStore(host: StudioHost): StudioStore {
  return createStore<StudioState>()((...a) => ({
    ...createUiSlice(host)(...a),
    ...createProjectSlice(host)(...a),
    ...createJobsSlice(host)(...a),
    ...createSettingsSlice(host)(...a),
  }));
}

/** Subscribes the store to the host's events; returns the unsubscribe. */
export function connectEvents(host: StudioHost, store: StudioStore): () => void {
  const offs = [
    host.on('job.updated', (job) => store.setState((s) => ({ jobs: upsertJob(s.jobs, job) }))),
    host.on('job.removed', ({ id }) => store.setState((s) => ({ jobs: removeJob(s.jobs, id) }))),
    host.on('jobs.reordered', ({ ids }) => store.setState((s) => ({ jobs: reorderJobs(s.jobs, ids) }))),
    host.on('job.preview', ({ id, url }) => {
      if (url) store.setState((s) => ({ frames: addFrame(s.frames, id, url) }));
    }),
    host.on('models.progress', (p) => store.setState({ modelProgress: p })),
    // Keep the Settings screen's engine line in step with the status line.
    host.on('engine.state', (engine) => store.setState((s) => ({ engine, device: s.device ? { ...s.device, engine: { state: engine.state, pid: engine.pid } } : s.device }))),
    host.on('settings.changed', (settings) => store.setState({ settings })),
    // After a host restart the mirror may have missed events: fetch the truth again.
    host.onReconnect(() => {
      void store.getState().refreshJobs();
      void store.getState().refreshDevice();
    }),
  ];
  return () => offs.forEach((off) => off());
}

let bound: StudioStore | null = null;

export function bindStore(store: StudioStore): void {
  bound = store;
}

/** The app's hook: `useStudio((s) => s.jobs)`. Selectors must return stable references (zustand v5). */
export function useStudio<T>(selector: (s: StudioState) => T): T {
  if (!bound) throw new Error('the studio store is not bound yet (bindStore before render)');
  return useStore(bound, selector);
}
