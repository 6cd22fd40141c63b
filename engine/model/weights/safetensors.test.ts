import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync, openSync, ftruncateSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SafetensorsError, SafetensorsFile, writeSafetensors } from './safetensors.js';
import type { SafetensorsEntry } from './safetensors.js';
import { DTYPE_BYTES, bytesOf } from './dtypes.js';
import { f16BitsToF32, f32ToBf16, f32ToF16Bits } from '../../graph/half.js';

const dir = mkdtempSync(path.join(tmpdir(), 'refree-st-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const tmp = (name = 'w'): string => path.join(dir, `${name}-${n++}.safetensors`);

/** A hand-made safetensors file: header JSON as given (space-padded to 8), then `data`. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), pad = true): string {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = pad ? Math.ceil(json.length / 8) * 8 : json.length;
  const head = Buffer.alloc(8 + len, 0x20);
  head.writeBigUInt64LE(BigInt(len), 0);
  json.copy(head, 8);
  const file = tmp('raw');
  writeFileSync(file, Buffer.concat([head, data]));
  return file;
}

async function openError(file: string): Promise<Error> {
  try {
    await (await SafetensorsFile.open(file)).close();
  } catch (e) {
    return e as Error;
  }
  assert.fail(`expected ${file} to be rejected`);
}

const entries = (): SafetensorsEntry[] => [
  { name: 'f64', dtype: 'F64', shape: [2, 3], data: Float64Array.from([1, -2, 3.5, 1e300, -0, Math.PI]) },
  { name: 'f32', dtype: 'F32', shape: [3], data: Float32Array.from([0.25, -1, 3e38]) },
  { name: 'f16', dtype: 'F16', shape: [2, 2], data: Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001]) },
  { name: 'bf16', dtype: 'BF16', shape: [5], data: f32ToBf16(Float32Array.from([1, -3, 0.5, 1e20, -1e-20])) },
  { name: 'i64', dtype: 'I64', shape: [2], data: BigInt64Array.from([-(2n ** 62n), 7n]) },
  { name: 'i32', dtype: 'I32', shape: [1, 2], data: Int32Array.from([-2147483648, 5]) },
  { name: 'i16', dtype: 'I16', shape: [3], data: Int16Array.from([-32768, 0, 32767]) },
  { name: 'i8', dtype: 'I8', shape: [4], data: Int8Array.from([-128, -1, 0, 127]) },
  { name: 'u8', dtype: 'U8', shape: [3], data: Uint8Array.from([0, 128, 255]) },
  { name: 'bool', dtype: 'BOOL', shape: [3], data: Uint8Array.from([1, 0, 1]) },
  { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
  { name: 'scalar', dtype: 'F32', shape: [], data: Float32Array.from([42]) },
  { name: '0', dtype: 'U8', shape: [1], data: Uint8Array.from([9]) },
];

test('writer -> reader round trip for every dtype, with metadata, aligned offsets and absolute file offsets', async () => {
  const file = tmp();
  const src = entries();
  const res = await writeSafetensors(file, src, { metadata: { format: 'pt', note: 'héllo' } });
  assert.ok(!readdirSync(dir).some((f) => f.endsWith('.tmp')), 'no temp file left behind');
  const bytesOnDisk = readFileSync(file);
  assert.equal(res.bytes, bytesOnDisk.length);

  const st = await SafetensorsFile.open(file);
  try {
    assert.deepEqual(st.metadata, { format: 'pt', note: 'héllo' });
    assert.equal(st.headerLength % 8, 0, 'header padded to a multiple of 8');
    assert.deepEqual(new Set(st.names()), new Set(src.map((e) => e.name)));
    for (const e of src) {
      const info = st.info(e.name);
      assert.equal(info.dtype, e.dtype, e.name);
      assert.deepEqual(info.shape, e.shape, e.name);
      const want = bytesOf(e.data as ArrayBufferView);
      assert.deepEqual(await st.readBytes(e.name), want, `bytes of ${e.name}`);
      // The absolute offset points at the same bytes in the file (what ONNX external data will use).
      assert.deepEqual(new Uint8Array(bytesOnDisk.subarray(info.fileOffset, info.fileOffset + info.byteLength)), want, `file bytes of ${e.name}`);
      assert.equal(info.fileOffset % DTYPE_BYTES[e.dtype], 0, `${e.name} aligned to its element size`);
      const typed = await st.read(e.name);
      assert.equal(typed.length, info.numel);
    }
    assert.deepEqual([...((await st.read('i64')) as BigInt64Array)], [-(2n ** 62n), 7n]);
    assert.deepEqual([...((await st.read('f64')) as Float64Array)], [1, -2, 3.5, 1e300, -0, Math.PI]);
    // Data order: wider types first, otherwise as given; '0' stays after the other 1-byte tensors
    // (a JS object would have moved the integer-like name to the front).
    const order = st.names();
    assert.deepEqual(order, ['f64', 'i64', 'f32', 'i32', 'empty', 'scalar', 'f16', 'bf16', 'i16', 'i8', 'u8', 'bool', '0']);
  } finally {
    await st.close();
  }
});

test('reads a file laid out by another writer (Python-style header) and converts floats', async () => {
  const f32 = Float32Array.from([1.5, -70000, 2 ** -30]);
  const bf = f32ToBf16(Float32Array.from([1, 65536, -2]));
  const data = new Uint8Array(12 + 6);
  data.set(bytesOf(f32), 0);
  data.set(bytesOf(bf), 12);
  const file = rawFile(
    '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[12,18]}}',
    data,
  );
  const st = await SafetensorsFile.open(file);
  try {
    assert.deepEqual(st.names(), ['a', 'b']);
    assert.equal(st.info('b').fileOffset, st.dataStart + 12);
    assert.deepEqual([...(await st.readF32('b'))], [1, 65536, -2]);
    const h = await st.readF16('a');
    assert.equal(h.overflows, 1);
    assert.equal(h.underflows, 1);
    assert.deepEqual([...h.data].map(f16BitsToF32), [1.5, -65504, 0]);
    const hb = await st.readF16('b');
    assert.equal(hb.overflows, 1);
    assert.equal(hb.data[0], f32ToF16Bits(1));
    await assert.rejects(st.readF32('missing'), /no tensor named 'missing'/);
  } finally {
    await st.close();
  }
});

test('lazy data providers are called one at a time, and a size mismatch aborts without leaving files', async () => {
  const calls: string[] = [];
  const file = tmp();
  await writeSafetensors(file, [
    { name: 'a', dtype: 'F32', shape: [2], data: () => (calls.push('a'), Float32Array.from([1, 2])) },
    { name: 'b', dtype: 'F16', shape: [1], data: async () => (calls.push('b'), Uint16Array.from([0x3c00])) },
  ]);
  assert.deepEqual(calls, ['a', 'b']);
  const bad = tmp('bad');
  await assert.rejects(
    writeSafetensors(bad, [{ name: 'x', dtype: 'F32', shape: [3], data: () => new Float32Array(2) }]),
    (e: Error) => e instanceof SafetensorsError && /'x' \(F32 \[3\]\) needs 12 bytes but its data has 8/.test(e.message),
  );
  assert.equal(existsSync(bad), false);
  assert.ok(!readdirSync(dir).some((f) => f.endsWith('.tmp')), 'temp file removed after failure');
  await assert.rejects(
    writeSafetensors(tmp(), [
      { name: 'x', dtype: 'F32', shape: [1], data: new Float32Array(1) },
      { name: 'x', dtype: 'F32', shape: [1], data: new Float32Array(1) },
    ]),
    /'x' is listed twice/,
  );
});

test('truncated file: names the file and gives expected vs actual size', async () => {
  const file = tmp('trunc');
  await writeSafetensors(file, [{ name: 'w', dtype: 'F32', shape: [4, 4], data: new Float32Array(16) }]);
  const full = readFileSync(file).length;
  const fd = openSync(file, 'r+');
  ftruncateSync(fd, full - 10);
  closeSync(fd);
  const e = await openError(file);
  assert.ok(e instanceof SafetensorsError, String(e));
  assert.ok(e.message.includes(file), e.message);
  assert.match(e.message, new RegExp(`truncated file: it is ${full - 10} bytes but its header describes ${full} bytes`));
  assert.match(e.message, /tensor 'w'/);

  const tiny = tmp('tiny');
  writeFileSync(tiny, Buffer.from([1, 2, 3]));
  assert.match((await openError(tiny)).message, /truncated file: it is 3 bytes/);
});

test('header length larger than the file', async () => {
  const file = tmp('hlen');
  const b = Buffer.alloc(20, 0x20);
  b.writeBigUInt64LE(1000n, 0);
  writeFileSync(file, b);
  const e = await openError(file);
  assert.match(e.message, /header length 1000 is larger than the file \(20 bytes, so at most 12 bytes of header\)/);
  assert.ok(e.message.startsWith(file), e.message);
});

test('header length over the 100 MB limit', async () => {
  const file = tmp('huge');
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(200_000_000n, 0);
  writeFileSync(file, b);
  const fd = openSync(file, 'r+');
  ftruncateSync(fd, 200_000_100); // sparse: costs no disk
  closeSync(fd);
  assert.match((await openError(file)).message, /header length 200000000 exceeds the 104857600-byte limit/);
});

test('overlapping offsets name both tensors', async () => {
  const file = rawFile(
    {
      first: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      second: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    },
    new Uint8Array(12),
  );
  const e = await openError(file);
  assert.match(e.message, /tensors 'first' \(data bytes \[0, 8\)\) and 'second' \(data bytes \[4, 12\)\) overlap/);
});

test('unknown dtype, bad shape, size mismatch, bad JSON and bad metadata are specific errors', async () => {
  const cases: [unknown, RegExp][] = [
    [{ w: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, /tensor 'w' has unknown dtype "F8_E4M3" \(supported: F64, F32, F16, BF16/],
    [{ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, /tensor 'w' has an invalid shape \[-1\]/],
    [{ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, /tensor 'w' has an invalid shape/],
    [{ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, /tensor 'w' \(F32 \[3\]\) needs 12 bytes but its data_offsets \[0, 8\] span 8 bytes/],
    [{ w: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }, /tensor 'w' has invalid data_offsets \[8,4\]/],
    [{ w: { dtype: 'F32', shape: [1] } }, /tensor 'w' has invalid data_offsets undefined/],
    [{ __metadata__: { a: 1 } }, /"__metadata__" must map strings to strings, but key 'a' holds a number/],
    [[1, 2], /header must be a JSON object/],
    ['{"w": {', /header is not valid JSON/],
  ];
  for (const [header, re] of cases) {
    const e = await openError(rawFile(header, new Uint8Array(16)));
    assert.ok(e instanceof SafetensorsError, String(e));
    assert.match(e.message, re);
  }
});

test('a tensor cannot be read after close', async () => {
  const file = tmp();
  await writeSafetensors(file, [{ name: 'a', dtype: 'U8', shape: [1], data: Uint8Array.from([1]) }]);
  const st = await SafetensorsFile.open(file);
  await st.close();
  await assert.rejects(st.readBytes('a'), /the file was closed/);
});
