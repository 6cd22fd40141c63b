import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheck, seededValues } from '../../exec/gradcheck.js';
import { Graph } from '../graph.js';
import type { Tensor } from '../graph.js';
import { GraphBuildError } from '../errors.js';
import { emitNodes } from '../onnx/serialize.js';
import { mul } from './elementwise.js';
import { reduceSum } from './reduce.js';
import { gelu, geluFused, silu } from './activations.js';
import type { GeluApprox } from './activations.js';
import { evaluate } from '../../exec/run-once.js';

/** erf by its everywhere-positive series (checked against CPython's math.erf in elementwise.test.ts). */
function jsErf(x: number): number {
  const v = Math.max(-6, Math.min(6, x));
  let term = 1;
  let sum = 1;
  for (let n = 0; term > 1e-18 * sum; n++) {
    term *= (2 * v * v) / (2 * n + 3);
    sum += term;
  }
  return (2 / Math.sqrt(Math.PI)) * v * Math.exp(-v * v) * sum;
}
const refGelu = (x: number, a: GeluApprox): number =>
  a === 'tanh' ? 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))) : 0.5 * x * (1 + jsErf(x / Math.SQRT2));

function actCheck(f: (x: Tensor) => Tensor) {
  return gradcheck(
    (g) => {
      const x = g.input('x', 'float64', [3, 6]);
      const c = g.input('c', 'float64', [3, 6]);
      return { loss: reduceSum(mul(f(x), c)), wrt: [x] };
    },
    { x: seededValues(18, 21, -4, 4), c: seededValues(18, 22) },
  );
}

const cases: [string, (x: Tensor) => Tensor][] = [
  ['silu', silu],
  ['gelu tanh (primitives)', (x) => gelu(x, 'tanh')],
  ['gelu erf (primitives)', (x) => gelu(x, 'erf')],
  ['geluFused tanh (Gelu node VJP)', (x) => geluFused(x, 'tanh')],
  ['geluFused erf (Gelu node VJP)', (x) => geluFused(x, 'erf')],
];
for (const [name, f] of cases) {
  test(`${name} gradient matches float64 finite differences`, async () => {
    const r = await actCheck(f);
    assert.ok(r.maxRelError <= 1e-6, `${name}: ${r.maxRelError} (${r.worst})`);
  });
}

test('float64 activations match JS references to 1e-14', async () => {
  const xs = seededValues(32, 3, -6, 6);
  const g = new Graph();
  const x = g.input('x', 'float64', [32]);
  const outs = [silu(x), gelu(x, 'tanh'), gelu(x, 'erf'), geluFused(x, 'tanh'), geluFused(x, 'erf')];
  const [s, gt, ge, ft, fe] = await evaluate(g, outs, { x: xs });
  xs.forEach((v, i) => {
    const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-14 * Math.max(1, Math.abs(b)), `${what}(${v}): ${a} vs ${b}`);
    near(s![i]!, v / (1 + Math.exp(-v)), 'silu');
    near(gt![i]!, refGelu(v, 'tanh'), 'gelu tanh');
    near(ge![i]!, refGelu(v, 'erf'), 'gelu erf');
    near(ft![i]!, refGelu(v, 'tanh'), 'geluFused tanh');
    near(fe![i]!, refGelu(v, 'erf'), 'geluFused erf');
  });
});

test('float32 geluFused: the ONNX Gelu kernel matches its lowering and a JS reference to 1e-5', async () => {
  const n = 48;
  const xs = Float32Array.from({ length: n }, (_, i) => -6 + (12 * i) / (n - 1));
  for (const a of ['tanh', 'erf'] as const) {
    const g = new Graph();
    const x = g.input('x', 'float32', [n]);
    const y = geluFused(x, a);
    const emitted = emitNodes(g, [y]);
    assert.equal(emitted.filter((nd) => nd.opType === 'Gelu').length, 1, 'float32 emits exactly one Gelu node');
    assert.equal(emitted[0]!.attrs.approximate?.kind === 'string' && emitted[0]!.attrs.approximate.value, a === 'tanh' ? 'tanh' : 'none');
    const [fused] = await evaluate(g, [y], { x: xs });
    const [lowered] = await evaluate(g, [y], { x: xs }, true);
    for (let i = 0; i < n; i++) {
      const ref = refGelu(xs[i]!, a);
      assert.ok(Math.abs(fused![i]! - ref) <= 1e-5, `${a} fused gelu(${xs[i]}) = ${fused![i]} vs ${ref}`);
      assert.ok(Math.abs(lowered![i]! - fused![i]!) <= 1e-5, `${a} lowered ${lowered![i]} vs fused ${fused![i]}`);
    }
  }
});

test('gelu rejects an unknown approximation at build time', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [2]);
  assert.throws(() => geluFused(x, 'fast' as GeluApprox), (e: unknown) => e instanceof GraphBuildError && /Gelu/.test(e.message) && /fast/.test(e.message));
  assert.throws(() => gelu(x, 'sigmoid' as GeluApprox), GraphBuildError);
});
