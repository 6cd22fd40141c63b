import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNvidiaSmi, queryNvidiaGpus } from './gpu-info.js';

test('nvidia-smi csv is parsed with and without units, one GPU per line', () => {
  assert.deepEqual(parseNvidiaSmi('NVIDIA H100 80GB HBM3, 81559 MiB, 1 MiB\nNVIDIA GeForce RTX 4090, 24564 MiB, 3020 MiB\n'), [
    { name: 'NVIDIA H100 80GB HBM3', memoryTotalMiB: 81559, memoryUsedMiB: 1 },
    { name: 'NVIDIA GeForce RTX 4090', memoryTotalMiB: 24564, memoryUsedMiB: 3020 },
  ]);
  assert.deepEqual(parseNvidiaSmi('Tesla T4, 15360, 0'), [{ name: 'Tesla T4', memoryTotalMiB: 15360, memoryUsedMiB: 0 }]);
});

test('without nvidia-smi on PATH the report says so in one line', () => {
  const r = queryNvidiaGpus({ PATH: '' });
  assert.deepEqual(r, { gpus: [], reason: 'no NVIDIA GPU found (nvidia-smi not on PATH)' });
});

test('on this machine: GPUs listed, or a reason', (t) => {
  const r = queryNvidiaGpus();
  assert.ok(r.gpus.length > 0 ? r.reason === null && r.gpus.every((g) => g.memoryTotalMiB > 0) : typeof r.reason === 'string');
  t.diagnostic(r.gpus.length ? r.gpus.map((g) => `${g.name} ${g.memoryTotalMiB} MiB`).join('; ') : r.reason!);
});
