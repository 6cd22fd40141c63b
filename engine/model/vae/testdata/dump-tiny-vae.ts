// Step 1 of regenerating w22-tiny-reference.json (see make-w22-reference.py): writes the tiny VAE's
// seeded random weights as raw float32 (weights.bin) with a name → {shape, offset} index (weights.json).
// Usage: node --import tsx engine/model/vae/testdata/dump-tiny-vae.ts OUT_DIR
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { TINY } from '../../config.js';
import { vaeParams } from '../../inventory/vae.js';
import { randomWeights } from '../../random-weights.js';

export const REFERENCE_SEED = 7;

function main(outDir: string): void {
  const index: Record<string, { shape: readonly number[]; offset: number }> = {};
  const parts: Buffer[] = [];
  let offset = 0;
  for (const [name, e] of randomWeights(vaeParams(TINY.vae), REFERENCE_SEED)) {
    if (e.data.kind !== 'inline' || !(e.data.data instanceof Float32Array)) throw new Error(`${name}: expected inline float32 data`);
    const d = e.data.data;
    index[name] = { shape: e.shape, offset };
    parts.push(Buffer.from(d.buffer, d.byteOffset, d.byteLength));
    offset += d.length;
  }
  writeFileSync(path.join(outDir, 'weights.bin'), Buffer.concat(parts));
  writeFileSync(path.join(outDir, 'weights.json'), JSON.stringify(index));
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? '')) main(process.argv[2] ?? '.');
