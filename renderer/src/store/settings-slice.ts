// Settings, model packages and device info (the Settings screen).
import { errorMessage } from '../host/host.js';
import type { SettingsSlice, Slice } from './types.js';

export const createSettingsSlice: Slice<SettingsSlice> = (host) => (set, get) => {
  const guard = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      get().report(e);
    }
  };
  return {
    settings: null,
    models: [],
    device: null,
    verify: {},
    modelProgress: null,
    loadSettings: () =>
      guard(async () => {
        const settings = await host.call('settings.get', {});
        set({ settings });
        if (settings.theme !== 'system') get().setTheme(settings.theme);
      }),
    updateSettings: async (patch) => {
      try {
        const settings = await host.call('settings.update', patch);
        set({ settings });
        if (settings.theme !== 'system') get().setTheme(settings.theme);
        return null;
      } catch (e) {
        // A field's own error is shown beside it (the caller), not in the banner.
        return errorMessage(e);
      }
    },
    checkFolder: async (path) => {
      try {
        await host.call('settings.checkFolder', { path });
        return null;
      } catch (e) {
        return errorMessage(e);
      }
    },
    refreshModels: () => guard(async () => set({ models: await host.call('models.list', {}) })),
    importModel: (folder) =>
      guard(async () => {
        await host.call('models.import', { folder });
        set({ models: await host.call('models.list', {}), modelProgress: null });
      }),
    verifyModel: (name) =>
      guard(async () => {
        const r = await host.call('models.verify', { name });
        set((s) => ({ verify: { ...s.verify, [name]: r }, modelProgress: null }));
      }),
    removeModel: (name) =>
      guard(async () => {
        await host.call('models.remove', { name });
        set({ models: await host.call('models.list', {}) });
      }),
    refreshDevice: () => guard(async () => set({ device: await host.call('device.info', {}) })),
  };
};
