// The web host's gatekeeping (DESIGN 10): the server listens on 127.0.0.1 only, but any web page the
// user visits can still make their browser send requests there. Three defences:
// - a random token (256 bits) on every API and media request, compared in constant time;
// - the Host header must be 127.0.0.1:<port> or localhost:<port>, which defeats DNS rebinding (an
//   attacker's name that resolves to 127.0.0.1 still carries the attacker's Host);
// - an Origin, when a browser sends one (WebSocket, fetch), must be this server's own.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_PROTOCOL_PREFIX = 'refree-token.';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

export function hostAllowed(req: IncomingMessage, port: number): boolean {
  const host = req.headers.host?.toLowerCase();
  return host !== undefined && allowedHosts(port).includes(host);
}

/** An Origin header, if present, must be this server's own origin. */
export function originAllowed(req: IncomingMessage, port: number): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  return allowedHosts(port).some((h) => origin.toLowerCase() === `http://${h}`);
}

function sameToken(given: string | undefined | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** WebSocket subprotocols "refree-token.<token>" (browsers cannot set headers on a WebSocket). */
export function protocolToken(req: IncomingMessage): string | null {
  const list = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
  const p = list.find((s) => s.startsWith(TOKEN_PROTOCOL_PREFIX));
  return p ? p.slice(TOKEN_PROTOCOL_PREFIX.length) : null;
}

/** The token from `Authorization: Bearer`, `?token=`, or (WebSocket) the subprotocol. Never a cookie: cookies are not port-scoped. */
export function tokenOk(req: IncomingMessage, url: URL, token: string): boolean {
  const auth = req.headers.authorization;
  const bearer = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : null;
  return [bearer, url.searchParams.get('token'), protocolToken(req)].some((t) => sameToken(t, token));
}
