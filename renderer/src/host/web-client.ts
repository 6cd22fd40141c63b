// The web host's client: RPC over POST /api/rpc, events over the WebSocket /api/events, media under
// /media/. The token comes from the page URL (?token=…, printed by `npm run serve`) and goes on every
// request; media elements cannot send headers, so media URLs carry it as a query parameter. Files
// chosen or dropped in the page are streamed to /api/upload.
import type { EventName, Events, MediaInfo, MethodInput, MethodName, MethodOutput, RpcResult } from '../../../engine/service/contract.js';
import { MAX_FILE_UPLOAD_BYTES } from '../lib/limits.js';
import { EventHub } from './event-hub.js';
import type { OpenDialogOptions, StudioHost } from './host.js';
import { HostCallError } from './host.js';

const TOKEN_KEY = 'refree.token';

export function readToken(loc: Location, storage: Storage): string {
  const fromUrl = new URLSearchParams(loc.search).get('token');
  if (fromUrl) {
    storage.setItem(TOKEN_KEY, fromUrl);
    return fromUrl;
  }
  return storage.getItem(TOKEN_KEY) ?? '';
}

/** Adds the token to a same-origin /media/ URL. */
export function withToken(url: string, token: string): string {
  if (!url.startsWith('/')) return url;
  return `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
}

export class WebHost implements StudioHost {
  readonly kind = 'web' as const;
  private readonly hub = new EventHub();
  private ws: WebSocket | null = null;
  private retryMs = 500;
  private everOpened = false;

  constructor(private readonly token: string) {
    this.connect();
  }

  async call<M extends MethodName>(method: M, params: MethodInput<M>): Promise<MethodOutput<M>> {
    let res: Response;
    try {
      res = await fetch('/api/rpc', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
        body: JSON.stringify({ method, params }),
      });
    } catch {
      throw new HostCallError('engine', `The studio server did not answer (${method}). Is \`npm run serve\` still running?`);
    }
    let body: RpcResult<M> | null = null;
    try {
      body = (await res.json()) as RpcResult<M>;
    } catch {
      /* not JSON: described below */
    }
    if (body && body.ok) return body.value;
    if (body && !body.ok) throw new HostCallError(body.error.code, body.error.message);
    if (res.status === 401 || res.status === 403) throw new HostCallError('unauthorized', 'The studio server refused this page: open the address with the token that `npm run serve` printed.');
    throw new HostCallError('internal', `The studio server answered ${res.status} to ${method}.`);
  }

  on<E extends EventName>(event: E, cb: (payload: Events[E]) => void): () => void {
    return this.hub.on(event, cb);
  }

  onReconnect(cb: () => void): () => void {
    return this.hub.onReconnect(cb);
  }

  /** Reconnects with backoff: a restarted host comes back on the same port and the page carries on. */
  private connect(): void {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/api/events?token=${encodeURIComponent(this.token)}`);
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = 500;
      if (this.everOpened) this.hub.emitReconnect();
      this.everOpened = true;
    };
    ws.onmessage = (m) => {
      try {
        const msg = JSON.parse(String(m.data)) as { event?: string; payload?: unknown };
        if (typeof msg.event === 'string') this.hub.emit(msg.event, msg.payload);
      } catch {
        /* a malformed frame is dropped; the next jobs.list repairs the mirror */
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 5000);
    };
  }

  openDialog(_opts: OpenDialogOptions): Promise<string | null> {
    return Promise.resolve(null);
  }

  saveDialog(_defaultPath: string): Promise<string | null> {
    return Promise.resolve(null);
  }

  /**
   * A browser never learns a file's path, so the bytes go to the web host, streamed (/api/upload);
   * XMLHttpRequest because fetch reports no upload progress. The size limit is checked here first so a
   * too-large file is refused before a byte is sent, and again by the host.
   */
  importFile(file: File, kind: 'image' | 'audio', project: string, onProgress?: (sent: number, total: number) => void): Promise<MediaInfo> {
    if (file.size > MAX_FILE_UPLOAD_BYTES) {
      return Promise.reject(new HostCallError('bad-input', `${file.name} is ${(file.size / 2 ** 20).toFixed(0)} MB, more than the ${MAX_FILE_UPLOAD_BYTES / 2 ** 20} MB the studio takes as an upload; shorten or compress it first.`));
    }
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      const q = new URLSearchParams({ name: file.name, kind, project });
      xhr.open('POST', `/api/upload?${q.toString()}`);
      xhr.setRequestHeader('authorization', `Bearer ${this.token}`);
      xhr.setRequestHeader('content-type', 'application/octet-stream');
      xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size);
      xhr.onerror = () => reject(new HostCallError('engine', `The upload of ${file.name} did not reach the studio server. Is \`npm run serve\` still running?`));
      xhr.onload = () => {
        let body: RpcResult<'media.import'> | null = null;
        try {
          body = JSON.parse(xhr.responseText) as RpcResult<'media.import'>;
        } catch {
          /* described below */
        }
        if (body?.ok) resolve(body.value);
        else if (body && !body.ok) reject(new HostCallError(body.error.code, body.error.message));
        else reject(new HostCallError('internal', `The studio server answered ${xhr.status} to the upload of ${file.name}.`));
      };
      xhr.send(file);
    });
  }

  async open(_path: string, url: string | null): Promise<void> {
    const u = this.mediaUrl(url);
    if (u) window.open(u, '_blank', 'noopener');
  }

  downloadUrl(url: string | null): string | null {
    const u = this.mediaUrl(url);
    return u ? `${u}&download=1` : null;
  }

  mediaUrl(url: string | null): string | null {
    return url ? withToken(url, this.token) : null;
  }

  async reveal(_path: string, url: string | null): Promise<void> {
    // A browser cannot show a folder of the server's machine: it saves a copy instead.
    const u = this.downloadUrl(url);
    if (!u) return;
    const a = document.createElement('a');
    a.href = u;
    a.download = '';
    a.click();
  }
}
