import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMediaHandler } from './media-protocol.js';

test('the media protocol answers Range with 206 and refuses paths outside its roots', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'refree-media-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'data');
  await mkdir(root);
  const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
  await writeFile(path.join(root, 'clip.mp4'), bytes);
  await writeFile(path.join(dir, 'secret.txt'), 'no');
  await symlink(path.join(dir, 'secret.txt'), path.join(root, 'link.txt'));
  const handle = createMediaHandler(() => new Map([['data', root]]));

  const whole = await handle(new Request('refree-media://media/data/clip.mp4'));
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get('accept-ranges'), 'bytes');
  assert.equal((await whole.arrayBuffer()).byteLength, 1000);

  const part = await handle(new Request('refree-media://media/data/clip.mp4', { headers: { range: 'bytes=100-199' } }));
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), 'bytes 100-199/1000');
  assert.equal(part.headers.get('content-type'), 'video/mp4');
  const got = Buffer.from(await part.arrayBuffer());
  assert.deepEqual(got, bytes.subarray(100, 200));

  assert.equal((await handle(new Request('refree-media://media/data/clip.mp4', { headers: { range: 'bytes=5000-' } }))).status, 416);
  // WHATWG URL parsing already folds %2e%2e away (→ /data/secret.txt, absent): refused either way.
  const dotdot = await handle(new Request('refree-media://media/data/%2e%2e/secret.txt'));
  assert.ok(dotdot.status === 403 || dotdot.status === 404, `status ${dotdot.status}`);
  assert.equal((await handle(new Request('refree-media://media/data/..%2fsecret.txt'))).status, 403);
  assert.equal((await handle(new Request('refree-media://media/data/link.txt'))).status, 403);
  assert.equal((await handle(new Request('refree-media://media/other/clip.mp4'))).status, 404);
});
