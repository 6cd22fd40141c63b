import { errorMessage } from '../host/host.js';
import type { Slice, UiSlice } from './types.js';

let nextNotice = 1;

export const createUiSlice: Slice<UiSlice> = () => (set) => ({
  screen: 'project',
  theme: 'dark',
  notices: [],
  engine: { state: 'stopped', pid: null, message: null },
  setScreen: (screen) => set({ screen, notices: [] }),
  setTheme: (theme) => set({ theme }),
  report: (e) => set((s) => ({ notices: [...s.notices.slice(-4), { id: nextNotice++, message: errorMessage(e) }] })),
  dismiss: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
});
