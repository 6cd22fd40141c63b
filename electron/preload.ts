// The preload (sandboxed, context-isolated): exposes `window.refree`, a narrow API — one `call` for
// the service contract (main validates the method name and params), event subscription, dialogs, a
// dropped file's path, reveal and open — and nothing else. No ipcRenderer, no Node. It imports only
// electron and the channel map (type-only imports of the contract), so the bundle stays small.
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { IpcRendererEvent } from 'electron';
import type { EventName } from '../engine/service/contract.js';
import type { RefreePreloadApi } from '../renderer/src/host/preload-api.js';
import { invoke, IPC } from './ipc-channels.js';

const api: RefreePreloadApi = {
  version: 2,
  call: (method, params) => invoke(ipcRenderer, IPC.rpc, method, params) as never,
  on(event: EventName, cb: (payload: never) => void) {
    const listener = (_e: IpcRendererEvent, name: string, payload: unknown) => {
      if (name === event) (cb as (p: unknown) => void)(payload);
    };
    ipcRenderer.on(IPC.event, listener);
    return () => {
      ipcRenderer.removeListener(IPC.event, listener);
    };
  },
  openDialog: (opts) => invoke(ipcRenderer, IPC.openDialog, opts),
  saveDialog: (defaultPath) => invoke(ipcRenderer, IPC.saveDialog, defaultPath),
  pathForFile: (file) => webUtils.getPathForFile(file),
  reveal: (path) => invoke(ipcRenderer, IPC.reveal, path),
  openPath: (path) => invoke(ipcRenderer, IPC.openPath, path),
};

contextBridge.exposeInMainWorld('refree', api);
