// Identities of the synthetic world: head shape, skin, hair, eyes, brows, nose, mouth, clothes,
// background, and how the person moves (motion style). Drawn from the stream "face|split|seed", so
// held-out identities come from a seed space the training pool never uses.
//
// Face geometry is in head-local units: the head's centre is (0, 0), the crown is at v = −1 and the
// chin at v = +1 (u to the right, v down). Proportions follow a real face: eyes at mid-height, brows
// above them, the nose ending about 40 % of the way to the chin, the mouth below it.
import type { MotionStyle } from '../motion.js';
import type { Split } from '../rng.js';
import { clipRng } from '../rng.js';
import type { Rgb } from './raster.js';
import { mix } from './raster.js';

export const HAIR_STYLES = ['short', 'long', 'bob', 'bun', 'buzz', 'curly', 'bald'] as const;
export type HairStyle = (typeof HAIR_STYLES)[number];
export const CLOTHES_STYLES = ['crew', 'vneck', 'collar'] as const;
export type BackgroundKind = 'vertical' | 'diagonal' | 'radial';

export interface Identity {
  id: string;
  /** Fraction of the frame size from the head centre to the chin (the face fills most of the frame). */
  scale: number;
  /** Head centre in fractions of the frame. */
  cx: number;
  cy: number;
  /** Head half-width (local units) and how much the jaw narrows (0 = none). */
  headWidth: number;
  jaw: number;
  skin: Rgb;
  hairStyle: HairStyle;
  hair: Rgb;
  /** Hairline height (local v at the middle of the forehead). */
  hairline: number;
  /** Side parting: −1..1 (which side the fringe sweeps to). */
  parting: number;
  eyeSpacing: number;
  eyeY: number;
  eyeWidth: number;
  eyeHeight: number;
  iris: Rgb;
  browThickness: number;
  browArch: number;
  browColor: Rgb;
  noseWidth: number;
  noseLength: number;
  mouthY: number;
  mouthWidth: number;
  lipThickness: number;
  lips: Rgb;
  earSize: number;
  clothesStyle: (typeof CLOTHES_STYLES)[number];
  clothes: Rgb;
  clothes2: Rgb;
  bgKind: BackgroundKind;
  bg1: Rgb;
  bg2: Rgb;
  motion: MotionStyle;
}

const SKIN: readonly Rgb[] = [
  [255, 224, 196],
  [241, 194, 167],
  [224, 172, 138],
  [198, 142, 105],
  [161, 110, 75],
  [122, 80, 52],
  [92, 60, 40],
];
const HAIR: readonly Rgb[] = [
  [25, 20, 18],
  [50, 34, 24],
  [88, 58, 36],
  [140, 90, 50],
  [160, 72, 40],
  [210, 176, 120],
  [165, 160, 155],
];
const IRIS: readonly Rgb[] = [
  [70, 45, 25],
  [100, 65, 35],
  [60, 110, 160],
  [70, 120, 80],
  [120, 100, 55],
  [110, 120, 130],
];
const CLOTHES: readonly Rgb[] = [
  [40, 60, 110],
  [150, 40, 45],
  [40, 110, 80],
  [230, 230, 225],
  [35, 35, 40],
  [200, 150, 40],
  [110, 70, 140],
  [90, 110, 120],
];

export function makeIdentity(split: Split, seed: number): Identity {
  const r = clipRng('face', split, seed);
  const jitter = (c: Rgb, amount: number): Rgb => [
    Math.max(0, Math.min(255, c[0] + r.range(-amount, amount))),
    Math.max(0, Math.min(255, c[1] + r.range(-amount, amount))),
    Math.max(0, Math.min(255, c[2] + r.range(-amount, amount))),
  ];
  const skin = jitter(r.pick(SKIN), 10);
  const hair = jitter(r.pick(HAIR), 12);
  const hairStyle = r.pick(HAIR_STYLES);
  const hue = (): Rgb => [r.range(40, 230), r.range(40, 230), r.range(40, 230)];
  const bg1 = r.chance(0.5) ? hue() : mix(hue(), [200, 200, 200], 0.6);
  const bg2 = mix(bg1, r.chance(0.5) ? [20, 20, 30] : [250, 250, 245], r.range(0.25, 0.6));
  const clothes = jitter(r.pick(CLOTHES), 20);
  return {
    id: `${split}-face-${seed}`,
    scale: r.range(0.35, 0.39),
    cx: r.range(0.47, 0.53),
    cy: r.range(0.44, 0.49),
    headWidth: r.range(0.68, 0.8),
    jaw: r.range(0.12, 0.32),
    skin,
    hairStyle,
    hair,
    hairline: r.range(-0.62, -0.5),
    parting: r.range(-1, 1),
    eyeSpacing: r.range(0.27, 0.32),
    eyeY: r.range(-0.04, 0.04),
    eyeWidth: r.range(0.115, 0.14),
    eyeHeight: r.range(0.05, 0.068),
    iris: jitter(r.pick(IRIS), 10),
    browThickness: r.range(0.022, 0.04),
    browArch: r.range(0.02, 0.07),
    browColor: mix(hairStyle === 'bald' ? [40, 30, 25] : hair, [20, 15, 10], 0.35),
    noseWidth: r.range(0.09, 0.13),
    noseLength: r.range(0.3, 0.36),
    mouthY: r.range(0.56, 0.62),
    mouthWidth: r.range(0.22, 0.27),
    lipThickness: r.range(0.04, 0.06),
    lips: mix(mix(skin, [190, 70, 80], r.range(0.35, 0.6)), [60, 20, 20], r.range(0, 0.2)),
    earSize: r.range(0.12, 0.16),
    clothesStyle: r.pick(CLOTHES_STYLES),
    clothes,
    clothes2: mix(clothes, r.chance(0.5) ? [255, 255, 255] : [0, 0, 0], 0.3),
    bgKind: r.pick(['vertical', 'diagonal', 'radial'] as const),
    bg1,
    bg2,
    motion: {
      mouthLead: r.range(0.06, 0.095),
      browLead: r.range(0.15, 0.3),
      headLead: r.range(0.15, 0.3),
      browAmp: r.range(0.5, 0.9),
      nodDeg: r.range(2, 5),
      articulation: r.range(0.85, 1.05),
    },
  };
}

/** The identity as flat truth fields (numbers and strings only). */
export function identityFields(idn: Identity): { id: string; [param: string]: number | string } {
  const out: { id: string; [param: string]: number | string } = { id: idn.id };
  for (const [k, v] of Object.entries(idn)) {
    if (k === 'id') continue;
    if (typeof v === 'number' || typeof v === 'string') out[k] = round(v);
    else if (Array.isArray(v)) out[k] = `rgb(${v.map((c) => Math.round(c as number)).join(',')})`;
    else if (v && typeof v === 'object') for (const [mk, mv] of Object.entries(v)) out[`${k}.${mk}`] = round(mv as number);
  }
  return out;
}

function round(v: number | string): number | string {
  return typeof v === 'number' ? Math.round(v * 1e4) / 1e4 : v;
}
