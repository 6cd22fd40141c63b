// Wan2.2 VAE (WanVAE_, z 48, 4x16x16) parameters by official name (wan2.2-ti2v-5b.md §2, appendix B).
import type { VaeConfig } from '../config.js';
import type { ParamSpec } from './types.js';

const conv3 = (p: string, cout: number, cin: number, k: readonly number[]): ParamSpec[] => [
  { name: `${p}.weight`, shape: [cout, cin, ...k] },
  { name: `${p}.bias`, shape: [cout] },
];

function residual(p: string, cin: number, cout: number): ParamSpec[] {
  const s: ParamSpec[] = [
    { name: `${p}.residual.0.gamma`, shape: [cin, 1, 1, 1] },
    ...conv3(`${p}.residual.2`, cout, cin, [3, 3, 3]),
    { name: `${p}.residual.3.gamma`, shape: [cout, 1, 1, 1] },
    ...conv3(`${p}.residual.6`, cout, cout, [3, 3, 3]),
  ];
  if (cin !== cout) s.push(...conv3(`${p}.shortcut`, cout, cin, [1, 1, 1]));
  return s;
}

function attentionBlock(p: string, c: number): ParamSpec[] {
  return [{ name: `${p}.norm.gamma`, shape: [c, 1, 1] }, ...conv3(`${p}.to_qkv`, 3 * c, c, [1, 1]), ...conv3(`${p}.proj`, c, c, [1, 1])];
}

export function vaeEncoderParams(c: VaeConfig): ParamSpec[] {
  const dims = [c.encDim, ...c.dimMult.map((m) => c.encDim * m)];
  const cin = 3 * c.pixelPatch * c.pixelPatch;
  const s: ParamSpec[] = [...conv3('encoder.conv1', dims[0]!, cin, [3, 3, 3])];
  for (let l = 0; l < c.dimMult.length; l++) {
    const p = `encoder.downsamples.${l}.downsamples`;
    let inC = dims[l]!;
    const outC = dims[l + 1]!;
    for (let j = 0; j < c.numResBlocks; j++) {
      s.push(...residual(`${p}.${j}`, inC, outC));
      inC = outC;
    }
    if (l !== c.dimMult.length - 1) {
      s.push(...conv3(`${p}.${c.numResBlocks}.resample.1`, outC, outC, [3, 3]));
      if (c.temporalDownsample[l]) s.push(...conv3(`${p}.${c.numResBlocks}.time_conv`, outC, outC, [3, 1, 1]));
    }
  }
  const top = dims[dims.length - 1]!;
  s.push(...residual('encoder.middle.0', top, top), ...attentionBlock('encoder.middle.1', top), ...residual('encoder.middle.2', top, top));
  s.push({ name: 'encoder.head.0.gamma', shape: [top, 1, 1, 1] }, ...conv3('encoder.head.2', 2 * c.zDim, top, [3, 3, 3]));
  s.push(...conv3('conv1', 2 * c.zDim, 2 * c.zDim, [1, 1, 1]));
  return s;
}

export function vaeDecoderParams(c: VaeConfig): ParamSpec[] {
  // Decoder widths: dec_dim * [mult[-1], mult[-1], mult[-2], ...]; Wan2.2: 1024, 1024, 1024, 512, 256.
  const mult = [...c.dimMult].reverse();
  const dims = [mult[0]!, ...mult].map((m) => c.decDim * m);
  const temporalUp = [...c.temporalDownsample].reverse();
  const s: ParamSpec[] = [...conv3('conv2', c.zDim, c.zDim, [1, 1, 1]), ...conv3('decoder.conv1', dims[0]!, c.zDim, [3, 3, 3])];
  s.push(...residual('decoder.middle.0', dims[0]!, dims[0]!), ...attentionBlock('decoder.middle.1', dims[0]!), ...residual('decoder.middle.2', dims[0]!, dims[0]!));
  for (let l = 0; l < mult.length; l++) {
    const p = `decoder.upsamples.${l}.upsamples`;
    let inC = dims[l]!;
    const outC = dims[l + 1]!;
    for (let j = 0; j < c.numResBlocks + 1; j++) {
      s.push(...residual(`${p}.${j}`, inC, outC));
      inC = outC;
    }
    if (l !== mult.length - 1) {
      const r = c.numResBlocks + 1;
      s.push(...conv3(`${p}.${r}.resample.1`, outC, outC, [3, 3]));
      if (temporalUp[l]) s.push(...conv3(`${p}.${r}.time_conv`, outC * 2, outC, [3, 1, 1]));
    }
  }
  const last = dims[dims.length - 1]!;
  const cout = 3 * c.pixelPatch * c.pixelPatch;
  s.push({ name: 'decoder.head.0.gamma', shape: [last, 1, 1, 1] }, ...conv3('decoder.head.2', cout, last, [3, 3, 3]));
  return s;
}

export function vaeParams(c: VaeConfig): ParamSpec[] {
  return [...vaeEncoderParams(c), ...vaeDecoderParams(c)];
}
