// The preload (sandboxed, context-isolated): exposes `window.refree`, a narrow named API — one function
// per contract method, an event subscription, dialogs, a dropped file's path and reveal — and nothing
// else. No ipcRenderer, no Node. Bundled to CommonJS by build.mjs (sandboxed preloads cannot be ESM).
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { IpcRendererEvent } from 'electron';
import type { EventName, MethodName } from '../engine/service/contract.js';
import { METHOD_NAMES } from '../engine/service/contract.js';
import type { PreloadMethods, RefreePreloadApi } from '../renderer/src/host/preload-api.js';
import { IPC } from './ipc-channels.js';

function makeMethods(): PreloadMethods {
  const out: Partial<Record<MethodName, (params: unknown) => Promise<unknown>>> = {};
  for (const m of METHOD_NAMES) out[m] = (params: unknown) => ipcRenderer.invoke(IPC.rpc, m, params);
  return out as PreloadMethods;
}

const api: RefreePreloadApi = {
  version: 1,
  methods: makeMethods(),
  on(event: EventName, cb: (payload: never) => void) {
    const listener = (_e: IpcRendererEvent, name: string, payload: unknown) => {
      if (name === event) (cb as (p: unknown) => void)(payload);
    };
    ipcRenderer.on(IPC.event, listener);
    return () => {
      ipcRenderer.removeListener(IPC.event, listener);
    };
  },
  openDialog: (opts) => ipcRenderer.invoke(IPC.openDialog, opts),
  saveDialog: (defaultPath) => ipcRenderer.invoke(IPC.saveDialog, defaultPath),
  pathForFile: (file) => webUtils.getPathForFile(file),
  reveal: (path) => ipcRenderer.invoke(IPC.reveal, path),
};

contextBridge.exposeInMainWorld('refree', api);
