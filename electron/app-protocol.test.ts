import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAppHandler, CSP, isAppUrl } from './app-protocol.js';

test('the app protocol serves the renderer with a CSP and nothing outside its folder', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'refree-app-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'index.html'), '<html></html>');
  const handle = createAppHandler(dir);
  const r = await handle(new Request('refree-app://app/'));
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-security-policy'), CSP);
  assert.match(CSP, /script-src 'self'(;|$)/);
  assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal((await handle(new Request('refree-app://app/..%2f..%2fetc%2fpasswd'))).status, 403);
  assert.equal((await handle(new Request('refree-app://other/index.html'))).status, 404);
  assert.equal(isAppUrl('refree-app://app/index.html'), true);
  assert.equal(isAppUrl('https://example.com/'), false);
  assert.equal(isAppUrl('refree-app://evil/'), false);
});
