// The web host's client: RPC over POST /api/rpc, events over the WebSocket /api/events, media under
// /media/. The token comes from the page URL (?token=…, printed by `npm run serve`) and goes on every
// request; media elements cannot send headers, so media URLs carry it as a query parameter.
import type { EventName, Events, MethodInput, MethodName, MethodOutput, RpcResult } from '../../../engine/service/contract.js';
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

  fileToPath(file: File): Promise<string> {
    // A browser never learns a file's path, and the web host takes no uploads (it serves only allowed
    // folders): the engine runs on this machine, so the path field is the way in.
    return Promise.reject(new HostCallError('bad-input', `The browser cannot hand ${file.name} to the studio directly: type its path (on the machine running \`npm run serve\`) into the field below.`));
  }

  mediaUrl(url: string | null): string | null {
    return url ? withToken(url, this.token) : null;
  }

  async reveal(_path: string, url: string | null): Promise<void> {
    const u = this.mediaUrl(url);
    if (u) window.open(u, '_blank', 'noopener');
  }
}
