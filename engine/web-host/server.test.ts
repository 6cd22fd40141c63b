// Security and protocol tests of the web host: a real server on 127.0.0.1 with the real studio
// service, real HTTP requests (node:http, so the Host header and raw, un-normalised paths can be set
// exactly as an attacker would send them) and a real WebSocket client.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import { StudioService } from '../service/service.js';
import type { WebHost } from './server.js';
import { startWebHost } from './server.js';

let host: WebHost;
let service: StudioService;
let base: string;
const BYTES = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));

before(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'refree-webhost-'));
  const data = path.join(base, 'data');
  const outside = path.join(base, 'outside');
  const web = path.join(base, 'web');
  await mkdir(path.join(data, 'proj'), { recursive: true });
  await mkdir(outside, { recursive: true });
  await mkdir(web, { recursive: true });
  await writeFile(path.join(data, 'proj', 'clip.bin'), BYTES);
  await writeFile(path.join(data, 'proj', 'a b&c.txt'), 'spaces');
  await writeFile(path.join(base, 'secret.txt'), 'secret');
  await writeFile(path.join(outside, 'secret.txt'), 'secret outside');
  await symlink(path.join(outside, 'secret.txt'), path.join(data, 'proj', 'escape.txt'));
  await symlink(path.join(outside), path.join(data, 'proj', 'escape-dir'));
  await symlink(path.join(data, 'proj', 'clip.bin'), path.join(data, 'proj', 'inside-link.bin'));
  await writeFile(path.join(web, 'index.html'), '<!doctype html><title>studio</title>');
  service = await StudioService.create({ dataDir: data, autoStart: false });
  host = await startWebHost({ service, staticDir: web });
});

after(async () => {
  await host?.close();
  await service?.close();
  await rm(base, { recursive: true, force: true });
});

interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json: () => { ok?: boolean; value?: unknown; error?: { code: string; message: string } } & Record<string, unknown>;
}

function send(rawPath: string, o: { method?: string; headers?: Record<string, string>; body?: string; token?: boolean } = {}): Promise<Res> {
  const withToken = o.token ?? true;
  const p = withToken ? `${rawPath}${rawPath.includes('?') ? '&' : '?'}token=${host.token}` : rawPath;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: host.port, path: p, method: o.method ?? 'GET', headers: { host: `127.0.0.1:${host.port}`, ...o.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) });
      });
    });
    req.on('error', reject);
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

const rpc = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Res> =>
  send('/api/rpc', { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

test('listens on 127.0.0.1 only and prints a tokenised loopback URL', () => {
  const a = host.server.address();
  assert.ok(a && typeof a === 'object');
  assert.equal(a.address, '127.0.0.1');
  assert.equal(a.family, 'IPv4');
  assert.equal(host.url, `http://127.0.0.1:${host.port}/?token=${host.token}`);
  assert.ok(host.token.length >= 43, 'at least 256 bits of token');
});

test('GET /api/health needs the token: none or a wrong one → 401; query, bearer header → 200', async () => {
  const none = await send('/api/health', { token: false });
  assert.equal(none.status, 401);
  assert.equal(none.json().error?.code, 'unauthorized');
  assert.match(none.json().error!.message, /token/);
  assert.equal((await send(`/api/health?token=${host.token.slice(0, -1)}x`, { token: false })).status, 401);
  assert.equal((await send('/api/health?token=', { token: false })).status, 401);
  const ok = await send('/api/health');
  assert.equal(ok.status, 200);
  assert.equal(ok.json().ok, true);
  assert.equal((await send('/api/health', { token: false, headers: { authorization: `Bearer ${host.token}` } })).status, 200);
  assert.equal((await send('/api/rpc', { token: false, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"method":"settings.get"}' })).status, 401);
});

test('Host headers other than 127.0.0.1:N / localhost:N are refused with 403 (DNS rebinding)', async () => {
  for (const h of ['evil.example', `evil.example:${host.port}`, `127.0.0.1:${host.port + 1}`, '127.0.0.1', `localhost.evil.example:${host.port}`, `[::1]:${host.port}`]) {
    const r = await send('/api/health', { headers: { host: h } });
    assert.equal(r.status, 403, h);
    assert.equal(r.json().error?.code, 'forbidden');
  }
  assert.equal((await send('/', { headers: { host: 'evil.example' } })).status, 403, 'static pages too');
  assert.equal((await send('/api/health', { headers: { host: `localhost:${host.port}` } })).status, 200);
  assert.equal((await send('/api/health', { headers: { origin: 'http://evil.example' } })).status, 403, 'a foreign Origin');
});

test('media: Range requests answer 206 with the right bytes; bad ranges 416', async () => {
  const full = await send('/media/data/proj/clip.bin');
  assert.equal(full.status, 200);
  assert.deepEqual(full.body, BYTES);
  assert.equal(full.headers['accept-ranges'], 'bytes');
  const part = await send('/media/data/proj/clip.bin', { headers: { range: 'bytes=100-199' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers['content-range'], 'bytes 100-199/1000');
  assert.equal(part.headers['content-length'], '100');
  assert.deepEqual(part.body, BYTES.subarray(100, 200));
  const open = await send('/media/data/proj/clip.bin', { headers: { range: 'bytes=990-' } });
  assert.equal(open.status, 206);
  assert.deepEqual(open.body, BYTES.subarray(990));
  const suffix = await send('/media/data/proj/clip.bin', { headers: { range: 'bytes=-5' } });
  assert.equal(suffix.headers['content-range'], 'bytes 995-999/1000');
  assert.deepEqual(suffix.body, BYTES.subarray(995));
  for (const bad of ['bytes=1000-', 'bytes=500-100', 'bytes=abc', 'bytes=-0']) {
    const r = await send('/media/data/proj/clip.bin', { headers: { range: bad } });
    assert.equal(r.status, 416, bad);
    assert.equal(r.headers['content-range'], 'bytes */1000');
  }
  assert.equal((await send('/media/data/proj/a%20b%26c.txt')).body.toString(), 'spaces');
  assert.equal((await send('/media/data/proj/clip.bin', { token: false })).status, 401, 'media needs the token');
});

test('media: traversal (plain, percent-encoded, backslash), unknown roots and symlinks out of the root are refused', async () => {
  const cases: [string, number[]][] = [
    ['/media/data/../secret.txt', [403]],
    ['/media/data/proj/../../secret.txt', [403]],
    ['/media/data/%2e%2e/secret.txt', [403]],
    ['/media/data/%2e%2e%2fsecret.txt', [403]],
    ['/media/data/%2E%2E%2F%2E%2E%2Fsecret.txt', [403]],
    ['/media/data/proj/..%2f..%2fsecret.txt', [403]],
    ['/media/data/..%5csecret.txt', [403]],
    ['/media/data/proj/%00clip.bin', [403]],
    ['/media/data//secret.txt', [403]],
    ['/media/data/%252e%252e/secret.txt', [404]], // decoded once: a literal "%2e%2e" folder, which does not exist
    ['/media/etc/passwd', [404]],
    ['/media/%2e%2e/secret.txt', [404]],
    ['/media/data/proj/escape.txt', [403]],
    ['/media/data/proj/escape-dir/secret.txt', [403]],
  ];
  for (const [p, statuses] of cases) {
    const r = await send(p);
    assert.ok(statuses.includes(r.status), `${p} → ${r.status}`);
    assert.ok(!r.body.toString().includes('secret'), `${p} leaked the file`);
  }
  const inside = await send('/media/data/proj/inside-link.bin');
  assert.equal(inside.status, 200, 'a link that stays inside the root is served');
  assert.deepEqual(inside.body, BYTES);
});

test('the RPC body cap is 1 MiB except for media.upload, which may carry a recording (and has its own cap)', async () => {
  // 1.5 MiB of 16-bit PCM (a WAV header + silence-free ramp): over the general cap, under the upload cap.
  const n = 786432;
  const wav = Buffer.alloc(44 + n * 2);
  wav.write('RIFF', 0);
  wav.writeUInt32LE(36 + n * 2, 4);
  wav.write('WAVEfmt ', 8);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20);
  wav.writeUInt16LE(1, 22);
  wav.writeUInt32LE(16000, 24);
  wav.writeUInt32LE(32000, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36);
  wav.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) wav.writeInt16LE((i * 37) % 20000 - 10000, 44 + 2 * i);
  const dataBase64 = wav.toString('base64');
  assert.ok(dataBase64.length > 1 << 20);

  const other = await rpc({ method: 'projects.create', params: { name: 'x'.repeat(10), pad: dataBase64 } });
  assert.equal(other.status, 413);
  assert.match(other.json().error!.message, /larger than 1048576 bytes \(only media\.upload may send up to \d+ bytes\)/);

  const up = await rpc({ method: 'media.upload', params: { name: 'take 1.wav', kind: 'audio', dataBase64 } });
  assert.equal(up.status, 200, up.body.toString('utf8').slice(0, 300));
  const info = up.json().value as { kind: string; bytes: number; duration: number; url: string };
  assert.equal(info.kind, 'audio');
  assert.equal(info.bytes, wav.length);
  assert.ok(Math.abs(info.duration - n / 16000) < 0.01, String(info.duration));
  assert.match(info.url, /^\/media\/data\/imports\/[0-9a-f]{16}-take_1\.wav$/);

});

test('malformed RPC payloads get 400 (or 415) with a sentence; valid calls work', async () => {
  const notJson = await rpc('{"method": ');
  assert.equal(notJson.status, 400);
  assert.match(notJson.json().error!.message, /not valid JSON/);
  const noMethod = await rpc({ params: {} });
  assert.equal(noMethod.status, 400);
  assert.match(noMethod.json().error!.message, /"method" is missing/);
  const arr = await rpc([1, 2]);
  assert.equal(arr.status, 400);
  const extra = await rpc({ method: 'settings.get', params: {}, admin: true });
  assert.equal(extra.status, 400);
  assert.match(extra.json().error!.message, /unknown field\(s\) admin/);
  const unknown = await rpc({ method: 'system.exec', params: {} });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.json().error?.code, 'unknown-method');
  assert.match(unknown.json().error!.message, /no method named "system\.exec"/);
  const badParams = await rpc({ method: 'projects.create', params: { name: 5 } });
  assert.equal(badParams.status, 400);
  assert.equal(badParams.json().error?.code, 'bad-input');
  assert.match(badParams.json().error!.message, /^The input of projects\.create is not valid — Name: /);
  const strict = await rpc({ method: 'jobs.get', params: { id: 'abc', sneaky: 1 } });
  assert.equal(strict.status, 400);
  assert.match(strict.json().error!.message, /sneaky/);
  const form = await rpc('method=settings.get', { 'content-type': 'application/x-www-form-urlencoded' });
  assert.equal(form.status, 415);
  const get = await send('/api/rpc');
  assert.equal(get.status, 405);

  const created = await rpc({ method: 'projects.create', params: { name: 'My talk' } });
  assert.equal(created.status, 200);
  const project = created.json().value as { name: string; path: string };
  assert.equal(project.name, 'My talk');
  const missing = await rpc({ method: 'jobs.get', params: { id: 'nope' } });
  assert.equal(missing.status, 404);
  assert.match(missing.json().error!.message, /no job with id nope/);
  const training = await rpc({ method: 'training.listRuns', params: {} });
  assert.equal(training.status, 200, 'the training namespace answers through the same route');
});

test('WebSocket /api/events: refused without the token or with a bad Host; streams events with it', async () => {
  const refused = (url: string, opts: ConstructorParameters<typeof WebSocket>[2] = {}, protocols?: string[]): Promise<number> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, opts);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error(`${url} was accepted`)));
      ws.on('error', () => undefined);
    });
  const wsBase = `ws://127.0.0.1:${host.port}/api/events`;
  assert.equal(await refused(wsBase), 401);
  assert.equal(await refused(`${wsBase}?token=wrong`), 401);
  assert.equal(await refused(`${wsBase}?token=${host.token}`, { headers: { host: 'evil.example' } }), 403);
  assert.equal(await refused(`${wsBase}?token=${host.token}`, { origin: 'http://evil.example' }), 403);

  const ws = new WebSocket(wsBase, ['refree-events', `refree-token.${host.token}`]);
  const messages: { event: string; payload: unknown }[] = [];
  const got = (name: string): Promise<{ event: string; payload: unknown }> =>
    new Promise((resolve) => {
      const check = (): void => {
        const m = messages.find((x) => x.event === name);
        if (m) resolve(m);
        else setTimeout(check, 10);
      };
      check();
    });
  ws.on('message', (d) => messages.push(JSON.parse(String(d)) as { event: string; payload: unknown }));
  await new Promise((resolve, reject) => {
    ws.on('open', resolve);
    ws.on('error', reject);
  });
  assert.equal(ws.protocol, 'refree-events');
  await got('hello');
  const upd = await rpc({ method: 'settings.update', params: { theme: 'dark' } });
  assert.equal(upd.status, 200);
  const ev = await got('settings.changed');
  assert.equal((ev.payload as { theme: string }).theme, 'dark');
  ws.close();
});

test('static renderer: CSP and no-referrer headers, app routes fall back to index.html, no traversal', async () => {
  const index = await send('/', { token: false });
  assert.equal(index.status, 200);
  assert.match(index.body.toString(), /<title>studio<\/title>/);
  assert.match(String(index.headers['content-security-policy']), /default-src 'self'.*object-src 'none'/);
  assert.equal(index.headers['referrer-policy'], 'no-referrer');
  const withToken = await send('/');
  assert.equal(withToken.headers['set-cookie'], undefined, 'no cookie: cookies are shared by every port on 127.0.0.1');
  assert.equal((await send('/api/health', { token: false, headers: { cookie: `refree_token=${host.token}` } })).status, 401, 'a cookie is not a token');
  assert.equal((await send('/queue', { token: false })).body.toString(), index.body.toString());
  assert.equal((await send('/missing.js', { token: false })).status, 404);
  assert.equal((await send('/../data/proj/clip.bin', { token: false })).status, 403);
  assert.equal((await send('/%2e%2e/secret.txt', { token: false })).status, 403);
});
