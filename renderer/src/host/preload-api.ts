// The shape of `window.refree`, the narrow API that electron/preload.ts exposes through contextBridge.
// Declared here (renderer side, types only) and implemented by the preload; electron/preload.ts checks
// its object against this type, so the two cannot drift.
import type { EventName, Events, MethodInput, MethodName, RpcResult } from '../../../engine/service/contract.js';

export interface RefreePreloadApi {
  readonly version: 2;
  /** Calls one contract method; main validates the name and the params. */
  call<M extends MethodName>(method: M, params: MethodInput<M>): Promise<RpcResult<M>>;
  /** Subscribes to one service event; returns the unsubscribe. */
  on<E extends EventName>(event: E, cb: (payload: Events[E]) => void): () => void;
  openDialog(opts: { kind: 'image' | 'audio' | 'folder'; title: string }): Promise<string | null>;
  saveDialog(defaultPath: string): Promise<string | null>;
  /** webUtils.getPathForFile: the real path of a dropped File (sandboxed renderers have no File.path). */
  pathForFile(file: File): string;
  /** shell.showItemInFolder for a finished output. */
  reveal(path: string): Promise<void>;
  /** shell.openPath: opens a file with its default application; a sentence when that fails, else null. */
  openPath(path: string): Promise<string | null>;
}

/** The scheme the Electron host serves /media/ URLs under (Range-aware, see electron/media-protocol.ts). */
export const MEDIA_SCHEME = 'refree-media';
