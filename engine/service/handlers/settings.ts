// settings.*: read and change the settings; a chosen output folder is checked at once (exists, writable).
import type { Handlers } from '../contract.js';
import type { ServiceContext } from '../context.js';
import { checkWritableFolder } from '../folder-check.js';

type SettingsHandlers = Pick<Handlers, 'settings.get' | 'settings.update' | 'settings.checkFolder'>;

export function settingsHandlers(ctx: ServiceContext): SettingsHandlers {
  return {
    'settings.get': async () => ctx.settings.get(),
    'settings.update': async (patch) => {
      if (patch.outputFolder !== undefined) await checkWritableFolder(patch.outputFolder, 'The output folder');
      const s = await ctx.settings.update(patch);
      ctx.emit('settings.changed', s);
      return s;
    },
    'settings.checkFolder': async ({ path }) => {
      await checkWritableFolder(path);
      return { path, ok: true as const };
    },
  };
}
