// The Electron host's client: everything goes through `window.refree`, the preload's narrow API. Media
// URLs (/media/…) become refree-media://media/… so the main process's Range-aware protocol serves them.
import type { EventName, Events, MediaInfo, MethodInput, MethodName, MethodOutput, RpcResult } from '../../../engine/service/contract.js';
import type { OpenDialogOptions, StudioHost } from './host.js';
import { HostCallError } from './host.js';
import type { RefreePreloadApi } from './preload-api.js';
import { MEDIA_SCHEME } from './preload-api.js';

export class ElectronHost implements StudioHost {
  readonly kind = 'electron' as const;
  constructor(private readonly api: RefreePreloadApi) {}

  async call<M extends MethodName>(method: M, params: MethodInput<M>): Promise<MethodOutput<M>> {
    const r: RpcResult<M> = await this.api.call(method, params);
    if (r.ok) return r.value;
    throw new HostCallError(r.error.code, r.error.message);
  }

  on<E extends EventName>(event: E, cb: (payload: Events[E]) => void): () => void {
    return this.api.on(event, cb);
  }

  onReconnect(cb: () => void): () => void {
    // The engine restarts behind the main process; a restart arrives as engine.state 'ready'.
    return this.api.on('engine.state', (e) => {
      if (e.state === 'ready') cb();
    });
  }

  openDialog(opts: OpenDialogOptions): Promise<string | null> {
    return this.api.openDialog(opts);
  }

  saveDialog(defaultPath: string): Promise<string | null> {
    return this.api.saveDialog(defaultPath);
  }

  async importFile(file: File, kind: 'image' | 'audio', project: string): Promise<MediaInfo> {
    // The desktop app reads the file where it lies: no copy of the bytes through the renderer.
    const p = this.api.pathForFile(file);
    if (!p) throw new HostCallError('bad-input', `${file.name} has no path on disk (a pasted picture, say); save it to a folder first, then choose it.`);
    return this.call('media.import', { path: p, project, kind });
  }

  mediaUrl(url: string | null): string | null {
    if (!url) return null;
    return url.startsWith('/media/') ? `${MEDIA_SCHEME}://media/${url.slice('/media/'.length)}` : url;
  }

  reveal(path: string): Promise<void> {
    return this.api.reveal(path);
  }

  async open(path: string): Promise<void> {
    const problem = await this.api.openPath(path);
    if (problem) throw new HostCallError('not-found', problem);
  }

  downloadUrl(): string | null {
    return null;
  }
}
