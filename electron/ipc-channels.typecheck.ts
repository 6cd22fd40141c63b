// Type-level test of the IPC channel map (checked by `tsc`): the typed helpers accept exactly the
// declared channels, arguments and results, and Electron's real ipcMain/ipcRenderer fit the structural
// interfaces they are written against. Every @ts-expect-error below must stay an error.
import type { ipcMain, ipcRenderer, IpcMainInvokeEvent } from 'electron';
import type { HandlerHostLike, InvokerLike } from './ipc-channels.js';
import { handle, invoke } from './ipc-channels.js';

type Fits<A, B> = A extends B ? true : false;
export const ipcMainFits: Fits<typeof ipcMain, HandlerHostLike<IpcMainInvokeEvent>> = true;
export const ipcRendererFits: Fits<typeof ipcRenderer, InvokerLike> = true;

declare const r: InvokerLike;
declare const m: HandlerHostLike<IpcMainInvokeEvent>;

export async function checks(): Promise<void> {
  const picked: string | null = await invoke(r, 'refree:open-dialog', { kind: 'image', title: 'Choose a portrait' });
  void picked;
  await invoke(r, 'refree:rpc', 'jobs.list', {});
  // @ts-expect-error an unknown channel
  await invoke(r, 'refree:delete-everything', '/');
  // @ts-expect-error a wrong argument type
  await invoke(r, 'refree:reveal', 42);
  // @ts-expect-error a missing argument
  await invoke(r, 'refree:save-dialog');
  // @ts-expect-error an unknown contract method
  await invoke(r, 'refree:rpc', 'jobs.nuke', {});
  // @ts-expect-error the result is string | null, not a number
  const wrong: number = await invoke(r, 'refree:save-dialog', '/x.mp4');
  void wrong;

  handle(m, 'refree:save-dialog', async (_e, defaultPath) => {
    // Arguments arrive unchecked: using one as a string without a check is an error.
    // @ts-expect-error defaultPath is unknown until checked
    defaultPath.toUpperCase();
    return typeof defaultPath === 'string' ? defaultPath : null;
  });
  // @ts-expect-error the handler must return the channel's result type
  handle(m, 'refree:open-dialog', async () => 42);
  // @ts-expect-error an unknown channel
  handle(m, 'refree:shell', () => null);
}
