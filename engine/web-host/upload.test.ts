// The web host's streamed upload (/api/upload): a browser's chosen or dropped file arrives as raw bytes,
// is written to a temporary file while it streams, checked and imported like media.import, and the
// temporary file is removed whatever happens. Over the size limit is 413 without storing the rest;
// a broken file is refused with a sentence naming the upload's own name. ?download=1 saves a file.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { MediaInfo, Project } from '../service/contract.js';
import { StudioService } from '../service/service.js';
import type { WebHost } from './server.js';
import { startWebHost } from './server.js';

let base = '';
let service: StudioService;
let host: WebHost;
let project: Project;
before(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'refree-upload-host-'));
  service = await StudioService.create({ dataDir: path.join(base, 'data'), autoStart: false });
  host = await startWebHost({ service, maxFileUploadBytes: 200_000 });
  const r = await service.dispatch('projects.create', { name: 'Uploads' });
  assert.ok(r.ok);
  project = r.value as Project;
});
after(async () => {
  await host.close();
  await service.close();
  await rm(base, { recursive: true, force: true });
});

const auth = (): Record<string, string> => ({ Authorization: `Bearer ${host.token}` });
function upload(body: Uint8Array | ReadableStream<Uint8Array>, q: Record<string, string>, contentType = 'application/octet-stream'): Promise<Response> {
  const url = `http://127.0.0.1:${host.port}/api/upload?${new URLSearchParams(q).toString()}`;
  return fetch(url, { method: 'POST', headers: { ...auth(), 'Content-Type': contentType }, body, duplex: 'half' } as RequestInit);
}
const leftovers = async (): Promise<string[]> => (await readdir(service.uploadDir).catch(() => [] as string[])).filter((f) => f.startsWith('.upload-'));

test('a portrait streamed in chunks lands in the project as a content-addressed copy', async () => {
  const png = await sharp(randomBytes(40 * 40 * 3), { raw: { width: 40, height: 40, channels: 3 } }).png().toBuffer();
  // A stream body (no Content-Length): the host must not need the size up front.
  const chunks = [png.subarray(0, 100), png.subarray(100)];
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      const next = chunks.shift();
      if (next) c.enqueue(next);
      else c.close();
    },
  });
  const r = await upload(stream, { name: 'My Face.png', kind: 'image', project: project.path });
  const body = (await r.json()) as { ok: boolean; value: MediaInfo };
  assert.equal(r.status, 200, JSON.stringify(body));
  assert.equal(body.value.kind, 'image');
  assert.equal(body.value.width, 40);
  assert.equal(path.dirname(body.value.path), path.join(path.dirname(project.path), 'media'));
  assert.match(path.basename(body.value.path), /^[0-9a-f]{16}-My_Face\.png$/);
  assert.deepEqual(await leftovers(), []);
  // Downloading it back gives the same bytes, as an attachment under its own name.
  const d = await fetch(`http://127.0.0.1:${host.port}${body.value.url}?download=1`, { headers: auth() });
  assert.equal(d.status, 200);
  assert.match(d.headers.get('content-disposition')!, /^attachment; filename="[0-9a-f]{16}-My_Face\.png"/);
  assert.deepEqual(Buffer.from(await d.arrayBuffer()), png);
});

test('over the size limit is 413 (declared or streamed), a broken file is refused by its name, and nothing is left behind', async () => {
  const big = await upload(randomBytes(300_000), { name: 'huge.wav', kind: 'audio', project: project.path });
  assert.equal(big.status, 413);
  assert.match(((await big.json()) as { error: { message: string } }).error.message, /^huge\.wav is larger than 195 KB, the most the studio takes as an upload/);
  const chunks = Array.from({ length: 5 }, () => randomBytes(60_000));
  const streamed = await upload(
    new ReadableStream<Uint8Array>({
      pull(c) {
        const n = chunks.shift();
        if (n) c.enqueue(n);
        else c.close();
      },
    }),
    { name: 'huge2.wav', kind: 'audio', project: project.path },
  ).catch((e: Error) => e);
  if (streamed instanceof Response) assert.equal(streamed.status, 413);
  const broken = await upload(Buffer.from('this is not a picture'), { name: 'holiday.png', kind: 'image', project: project.path });
  assert.equal(broken.status, 400);
  const msg = ((await broken.json()) as { error: { message: string } }).error.message;
  assert.match(msg, /^holiday\.png is not an image/);
  assert.doesNotMatch(msg, /\.upload-/);
  const wrongType = await upload(Buffer.from('x'), { name: 'a.png', kind: 'image' }, 'text/plain');
  assert.equal(wrongType.status, 415);
  const badKind = await upload(Buffer.from('x'), { name: 'a.exe', kind: 'image', project: project.path });
  assert.match(((await badKind.json()) as { error: { message: string } }).error.message, /"a\.exe" is not a portrait image the studio takes/);
  const relative = await upload(Buffer.from('x'), { name: 'a.png', kind: 'image', project: 'projects/x' });
  assert.equal(relative.status, 400);
  const unknown = await upload(Buffer.from('x'), { name: 'a.png', kind: 'image', project: path.join(base, 'elsewhere', 'project.refree.json') });
  assert.equal(unknown.status, 404);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await leftovers(), []);
  assert.deepEqual((await readdir(path.join(path.dirname(project.path), 'media'))).filter((f) => !f.endsWith('My_Face.png')), []);
});

test('without the token an upload is refused before a byte is stored', async () => {
  const r = await fetch(`http://127.0.0.1:${host.port}/api/upload?name=a.png&kind=image`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: Buffer.from('x') });
  assert.equal(r.status, 401);
  assert.deepEqual(await leftovers(), []);
});
