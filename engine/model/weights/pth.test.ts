import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PthError, PthFile } from './pth.js';
import { bytesOf } from './dtypes.js';
import { f32ToBf16 } from '../../graph/half.js';
import { PickleWriter, stateDictPickle, writeTorchCheckpoint, zipBytes } from './testing/torch-fixture.js';
import type { FixtureStorage, FixtureTensor } from './testing/torch-fixture.js';

const dir = mkdtempSync(path.join(tmpdir(), 'refree-pth-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const tmp = (name = 'ckpt'): string => path.join(dir, `${name}-${n++}.pth`);

const w = Float32Array.from([1, 2, 3, 4, 5, 6]);
const storages: FixtureStorage[] = [
  { key: '0', dtype: 'F32', data: bytesOf(w) },
  { key: '1', dtype: 'BF16', data: bytesOf(f32ToBf16(Float32Array.from([0.5, -1, 2, 65536]))) },
  { key: '2', dtype: 'F16', data: bytesOf(Uint16Array.from([0x3c00, 0x4000, 0xc200])) },
  { key: '3', dtype: 'I64', data: bytesOf(BigInt64Array.from([-5n, 1n << 40n])) },
  { key: '4', dtype: 'BOOL', data: Uint8Array.from([1, 0, 1]) },
  { key: '5', dtype: 'F64', data: bytesOf(Float64Array.from([Math.E, -0.25])) },
];
const tensors: FixtureTensor[] = [
  { name: 'blocks.0.self_attn.q.weight', storage: '0', shape: [2, 3] },
  { name: 'blocks.0.norm3.weight', storage: '1', shape: [4] },
  { name: 'head.modulation', storage: '2', shape: [1, 1, 3] },
  { name: 'steps', storage: '3', shape: [2] },
  { name: 'mask', storage: '4', shape: [3] },
  { name: 'scalar', storage: '5', offset: 1, shape: [] },
  // A view into storage 0: its second row, sharing the storage (as slices of one tensor do).
  { name: 'row1', storage: '0', offset: 3, shape: [3] },
];

async function expectOpenError(file: string): Promise<Error> {
  try {
    await (await PthFile.open(file)).close();
  } catch (e) {
    return e as Error;
  }
  assert.fail(`expected ${file} to be rejected`);
}

test('round trip: torch.save-style state dict with several dtypes, shared storage and a custom folder name', async () => {
  const file = tmp();
  writeTorchCheckpoint(file, storages, tensors, { folder: 'models_t5_umt5-xxl-enc-bf16' });
  const p = await PthFile.open(file);
  try {
    assert.deepEqual(p.names(), tensors.map((t) => t.name));
    const q = p.info('blocks.0.self_attn.q.weight');
    assert.deepEqual([q.dtype, q.shape, q.stride, q.contiguous, q.location], ['F32', [2, 3], [3, 1], true, 'cpu']);
    assert.deepEqual([...(await p.read('blocks.0.self_attn.q.weight'))], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...(await p.read('row1'))], [4, 5, 6]);
    assert.deepEqual([...(await p.readF32('blocks.0.norm3.weight'))], [0.5, -1, 2, 65536]);
    const h = await p.readF16('blocks.0.norm3.weight');
    assert.equal(h.overflows, 1, 'bf16 65536 does not fit fp16');
    assert.deepEqual([...(await p.readF32('head.modulation'))], [1, 2, -3]);
    assert.deepEqual([...(await p.read('steps'))], [-5n, 1n << 40n]);
    assert.deepEqual([...(await p.read('mask'))], [1, 0, 1]);
    assert.deepEqual([...(await p.read('scalar'))], [-0.25]);
    assert.equal(p.info('scalar').numel, 1);

    // Stored entries are 64-byte aligned and fileOffset points at the tensor's bytes in the .pth.
    const raw = readFileSync(file);
    for (const name of ['blocks.0.self_attn.q.weight', 'row1', 'steps']) {
      const t = p.info(name);
      assert.notEqual(t.fileOffset, null, name);
      const at = t.fileOffset!;
      assert.deepEqual(new Uint8Array(raw.subarray(at, at + t.byteLength)), await p.readBytes(name), `file bytes of ${name}`);
    }
    assert.equal(p.info('blocks.0.self_attn.q.weight').fileOffset! % 64, 0, 'storage data is 64-byte aligned');
    assert.ok(p.root instanceof Map, 'the root is the OrderedDict');
  } finally {
    await p.close();
  }
});

// data.pkl exactly as CPython's pickler writes it when torch.save pickles this state dict (protocol 2,
// storages through persistent_id): generated with stand-in torch classes, since PyTorch is not available
// here. Tensors: 'blocks.0.self_attn.q.weight' F32 [2,3] on storage '0', 'blocks.0.norm3.weight' BF16 [4]
// on storage '1', 'row1' F32 [3] at offset 3 of storage '0'; then the `_metadata` state and BUILD.
const CPYTHON_STATE_DICT_PICKLE =
  '800263636f6c6c656374696f6e730a4f726465726564446963740a71002952710128581b000000626c6f636b732e302e' +
  '73656c665f6174746e2e712e776569676874710263746f7263682e5f7574696c730a5f72656275696c645f74656e736f' +
  '725f76320a71032828580700000073746f72616765710463746f7263680a466c6f617453746f726167650a7105580100' +
  '0000307106580300000063707571074b06747108514b004b024b038671094b034b0186710a8968002952710b74710c52' +
  '710d5815000000626c6f636b732e302e6e6f726d332e776569676874710e68032828680463746f7263680a42466c6f61' +
  '74313653746f726167650a710f580100000031711068074b04747111514b004b048571124b0185711389680029527114' +
  '7471155271165804000000726f773171176803282868046805680668074b06747118514b034b03857119681389680029' +
  '52711a74711b52711c757d711d58090000005f6d65746164617461711e68002952711f580000000071207d7121580700' +
  '000076657273696f6e71224b01737373622e';

test('reads the pickle byte stream CPython writes for torch.save (golden bytes)', async () => {
  const file = tmp('golden');
  writeTorchCheckpoint(file, storages.slice(0, 2), [], { pickle: Uint8Array.from(Buffer.from(CPYTHON_STATE_DICT_PICKLE, 'hex')) });
  const p = await PthFile.open(file);
  try {
    assert.deepEqual(p.names(), ['blocks.0.self_attn.q.weight', 'blocks.0.norm3.weight', 'row1']);
    assert.deepEqual(p.info('blocks.0.norm3.weight').shape, [4]);
    assert.deepEqual([...(await p.read('blocks.0.self_attn.q.weight'))], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...(await p.readF32('blocks.0.norm3.weight'))], [0.5, -1, 2, 65536]);
    assert.deepEqual([...(await p.read('row1'))], [4, 5, 6]);
  } finally {
    await p.close();
  }
});

// The same checkpoint zipped by Python's zipfile module instead of this project's fixture writer:
// folder 'ckpt', data.pkl deflated, data/0 stored with a zip64 local extra field, an archive comment.
const PYTHON_ZIPFILE_CHECKPOINT =
  'UEsDBBQAAAAIAAAAIQAK3Q1hLQEAAJIBAAANAAAAY2twdC9kYXRhLnBrbE2Qy07CQBSGW1pA6v2CN1TUFW4a0MQHMMbNLAx1M7um' +
  'TEemceh4Zk5hReIGEt/aoRXjapIz/3++L+erxpiSkjPMVG6CV51yzdPnjGEAzl0Ebo92HMcZScU+TNgPDZfvcYKYhxDOeDYWCDWG' +
  'SjMRxgVm0gSx5qMik2mMPDdKx9P7ALxejzbtGmOTyZiDX1WCF6kSfKuGAdSpazN9aFDPvuyzgCZpIGwMiUNqxFtCi3jEXULwLVZq' +
  'mwhbEWzT9n+/XOnJw9psR1iwWMOeStrg8Y+3W/IGsCeaxEfYX3H8BRwQdwGHFeMIoR3BMfVtUKvZAE6qlaIuGqK0Ox1aKW8BZ+K3' +
  'co7QieCimMMlbdlaPOGYpAkmcFX+d6kdOnA9h5vyJlOujb093BLXGDMKfwBQSwMELQAAAAAAAAAhACTlORn//////////wsAFABj' +
  'a3B0L2RhdGEvMAEAEAAYAAAAAAAAABgAAAAAAAAAAACAPwAAAEAAAEBAAACAQAAAoEAAAMBAUEsDBBQAAAAAAAAAIQB3QI8UCAAA' +
  'AAgAAAALAAAAY2twdC9kYXRhLzEAP4C/AECAR1BLAQIUAxQAAAAIAAAAIQAK3Q1hLQEAAJIBAAANAAAAAAAAAAAAAACAAQAAAABj' +
  'a3B0L2RhdGEucGtsUEsBAi0DLQAAAAAAAAAhACTlORkYAAAAGAAAAAsAAAAAAAAAAAAAAIABWAEAAGNrcHQvZGF0YS8wUEsBAhQD' +
  'FAAAAAAAAAAhAHdAjxQIAAAACAAAAAsAAAAAAAAAAAAAAIABrQEAAGNrcHQvZGF0YS8xUEsFBgAAAAADAAMArQAAAN4BAAAZAHdy' +
  'aXR0ZW4gYnkgcHl0aG9uIHppcGZpbGU=';

test('reads a checkpoint zipped by an independent zip writer (Python zipfile)', async () => {
  const file = tmp('pyzip');
  writeFileSync(file, Buffer.from(PYTHON_ZIPFILE_CHECKPOINT, 'base64'));
  const p = await PthFile.open(file);
  try {
    assert.deepEqual(p.names(), ['blocks.0.self_attn.q.weight', 'blocks.0.norm3.weight', 'row1']);
    assert.deepEqual([...(await p.read('row1'))], [4, 5, 6]);
    assert.deepEqual([...(await p.readF32('blocks.0.norm3.weight'))], [0.5, -1, 2, 65536]);
    const raw = readFileSync(file);
    const q = p.info('blocks.0.self_attn.q.weight');
    assert.deepEqual(new Uint8Array(raw.subarray(q.fileOffset!, q.fileOffset! + 24)), await p.readBytes(q.name), 'in-place offset');
  } finally {
    await p.close();
  }
});

test('zip64 records and deflated entries are read too', async () => {
  const file = tmp('z64');
  writeTorchCheckpoint(file, storages.slice(0, 2), tensors.slice(0, 2), { zip64: true, deflate: true });
  const p = await PthFile.open(file);
  try {
    assert.deepEqual([...(await p.read('blocks.0.self_attn.q.weight'))], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...(await p.readF32('blocks.0.norm3.weight'))], [0.5, -1, 2, 65536]);
    assert.equal(p.info('blocks.0.norm3.weight').fileOffset, null, 'deflated data has no in-place offset');
  } finally {
    await p.close();
  }
  const stored64 = tmp('z64s');
  writeTorchCheckpoint(stored64, storages.slice(0, 1), tensors.slice(0, 1), { zip64: true });
  const q = await PthFile.open(stored64);
  try {
    assert.deepEqual([...(await q.read('blocks.0.self_attn.q.weight'))], [1, 2, 3, 4, 5, 6]);
  } finally {
    await q.close();
  }
});

test('non-contiguous tensors are listed but reading one is a clear error', async () => {
  const file = tmp('tr');
  writeTorchCheckpoint(file, storages.slice(0, 1), [{ name: 'wT', storage: '0', shape: [3, 2], stride: [1, 3] }]);
  const p = await PthFile.open(file);
  try {
    assert.equal(p.info('wT').contiguous, false);
    await assert.rejects(p.read('wT'), /tensor 'wT' is not contiguous \(shape \[3,2\], stride \[1,3\]\)/);
  } finally {
    await p.close();
  }
});

test('a tensor reaching past its storage, or a missing storage entry, is rejected at open', async () => {
  const file = tmp('oob');
  writeTorchCheckpoint(file, storages.slice(0, 1), [{ name: 'big', storage: '0', shape: [7] }]);
  assert.match((await expectOpenError(file)).message, /reaches byte 28 of storage '0', which holds only 24 bytes/);

  const missing = tmp('missing');
  const pkl = stateDictPickle(storages.slice(0, 1), tensors.slice(0, 1));
  writeFileSync(missing, zipBytes([{ name: 'archive/data.pkl', data: pkl }]));
  assert.match((await expectOpenError(missing)).message, /storage '0' is missing: the zip has no entry 'archive\/data\/0'/);
});

test('truncated, legacy-format, not a zip, no data.pkl, or big-endian storages', async () => {
  const legacy = tmp('legacy');
  writeFileSync(legacy, Buffer.concat([Buffer.from([0x80, 0x02, 0x8a, 0x0a]), Buffer.alloc(40)]));
  assert.match((await expectOpenError(legacy)).message, /not a zip-based PyTorch checkpoint/);
  const cut = tmp('cut');
  writeTorchCheckpoint(cut, storages, tensors);
  writeFileSync(cut, readFileSync(cut).subarray(0, 300));
  assert.match((await expectOpenError(cut)).message, /truncated file: it starts as a zip archive but its end-of-central-directory record is missing \(300 bytes\)/);
  const nopkl = tmp('nopkl');
  writeFileSync(nopkl, zipBytes([{ name: 'archive/other', data: new Uint8Array(3) }]));
  assert.match((await expectOpenError(nopkl)).message, /no <folder>\/data\.pkl entry/);
  const be = tmp('be');
  writeTorchCheckpoint(be, storages.slice(0, 1), tensors.slice(0, 1), { byteorder: 'big' });
  assert.match((await expectOpenError(be)).message, /big-endian/);
});

/** A checkpoint whose pickle calls os.system('touch <marker>') the way a malicious .pth does. */
function maliciousPickle(marker: string, how: 'global' | 'stack_global', module = 'os', name = 'system'): Uint8Array {
  const pw = new PickleWriter().proto(2);
  if (how === 'global') pw.global(module, name);
  else pw.stackGlobal(module, name);
  pw.unicode(`touch ${marker}`).raw(0x85); // TUPLE1
  pw.reduce().stop();
  return pw.bytes();
}

test('a malicious pickle naming os.system is refused by name, and nothing runs', async () => {
  const marker = path.join(dir, 'pwned');
  for (const [how, module, name] of [
    ['global', 'os', 'system'],
    ['stack_global', 'os', 'system'],
    ['global', 'posix', 'system'],
    ['stack_global', 'builtins', 'eval'],
    ['global', 'subprocess', 'check_output'],
  ] as const) {
    const file = tmp('evil');
    writeTorchCheckpoint(file, [], [], { pickle: maliciousPickle(marker, how, module, name) });
    const e = await expectOpenError(file);
    assert.ok(e instanceof PthError, String(e));
    assert.match(e.message, new RegExp(`refusing to load: the pickle names the global '${module}\\.${name}'`));
    assert.match(e.message, /nothing was executed/);
  }
  assert.equal(existsSync(marker), false, 'the payload did not run');
});

test('the malicious global is refused even when hidden inside an otherwise valid state dict', async () => {
  // A real state dict, then a second entry whose value is builtins.exec(...): still refused by name.
  const pw = new PickleWriter().proto(2);
  pw.global('collections', 'OrderedDict').emptyTuple().reduce();
  pw.put();
  pw.unicode('x');
  pw.put();
  pw.global('builtins', 'exec').unicode('import os').raw(0x85).reduce();
  pw.setitem().stop();
  const file = tmp('evil2');
  writeTorchCheckpoint(file, [], [], { pickle: pw.bytes() });
  assert.match((await expectOpenError(file)).message, /global 'builtins\.exec'/);
});

test('class-instantiating opcodes and calls of non-callable globals are refused', async () => {
  const inst = new PickleWriter().proto(2).mark().raw(0x69, ...Buffer.from('os\nsystem\n')).stop();
  const f1 = tmp('inst');
  writeTorchCheckpoint(f1, [], [], { pickle: inst.bytes() });
  assert.match((await expectOpenError(f1)).message, /pickle opcode INST is refused/);

  // REDUCE on an allowed non-function global (a storage class) is not a call we perform.
  const call = new PickleWriter().proto(2).global('torch', 'FloatStorage').emptyTuple().reduce().stop();
  const f2 = tmp('callstorage');
  writeTorchCheckpoint(f2, [], [], { pickle: call.bytes() });
  assert.match((await expectOpenError(f2)).message, /tries to call torch\.FloatStorage/);
});

test('nn.Parameter wrappers (_rebuild_parameter) and nested dicts flatten to dotted names', async () => {
  const pw = new PickleWriter().proto(2);
  pw.emptyDict();
  pw.put();
  pw.unicode('model_state');
  pw.put();
  pw.emptyDict();
  pw.put();
  pw.unicode('conv1.weight');
  pw.put();
  pw.global('torch._utils', '_rebuild_parameter');
  pw.global('torch._utils', '_rebuild_tensor_v2');
  pw.mark();
  pw.mark().unicode('storage').global('torch', 'FloatStorage').unicode('0').unicode('cuda:0').int(6).tuple().binpersid();
  pw.int(0).intTuple([6]).intTuple([1]).bool(false);
  pw.global('collections', 'OrderedDict').emptyTuple().reduce();
  pw.tuple().reduce();
  pw.bool(true).global('collections', 'OrderedDict').emptyTuple().reduce().raw(0x87); // TUPLE3
  pw.reduce();
  pw.setitem().setitem().stop();
  const file = tmp('param');
  writeTorchCheckpoint(file, storages.slice(0, 1), [], { pickle: pw.bytes() });
  const p = await PthFile.open(file);
  try {
    assert.deepEqual(p.names(), ['model_state.conv1.weight']);
    assert.equal(p.info('model_state.conv1.weight').location, 'cuda:0');
    assert.deepEqual([...(await p.read('model_state.conv1.weight'))], [1, 2, 3, 4, 5, 6]);
  } finally {
    await p.close();
  }
});

test('_rebuild_tensor_v3 with an untyped storage takes its dtype from the torch.<dtype> argument', async () => {
  // ('storage', torch.storage.UntypedStorage, '1', 'cpu', 8 bytes) viewed as bfloat16 from element 1.
  const pw = new PickleWriter().proto(2);
  pw.global('collections', 'OrderedDict').emptyTuple().reduce();
  pw.put();
  pw.unicode('w');
  pw.global('torch._utils', '_rebuild_tensor_v3');
  pw.mark();
  pw.mark().unicode('storage').global('torch.storage', 'UntypedStorage').unicode('1').unicode('cpu').int(8).tuple().binpersid();
  pw.int(1).intTuple([3]).intTuple([1]).bool(false);
  pw.global('collections', 'OrderedDict').emptyTuple().reduce();
  pw.global('torch', 'bfloat16');
  pw.tuple().reduce();
  pw.setitem().stop();
  const file = tmp('v3');
  writeTorchCheckpoint(file, storages.slice(1, 2), [], { pickle: pw.bytes() });
  const p = await PthFile.open(file);
  try {
    assert.deepEqual([p.info('w').dtype, p.info('w').shape], ['BF16', [3]]);
    assert.deepEqual([...(await p.readF32('w'))], [-1, 2, 65536]);
  } finally {
    await p.close();
  }
});
