// The visible label: "AI-generated" (or the user's text) and/or a logo, on a semi-transparent dark
// box in a corner of every frame. Rendered from the built-in bitmap font (font.ts) at a whole-pixel
// scale, so it is crisp, deterministic and needs no native dependency. Everything it changes lies
// inside labelLayout().box; the rest of the frame is untouched.
import { GLYPH_H, GLYPH_W, glyph } from './font.js';

export type LabelPosition = 'bottom-right' | 'bottom-left' | 'top-right' | 'top-left' | 'bottom-center' | 'top-center';
export const LABEL_POSITIONS: readonly LabelPosition[] = ['bottom-right', 'bottom-left', 'top-right', 'top-left', 'bottom-center', 'top-center'];

export interface RgbaImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface VisibleLabelOptions {
  /** Default DEFAULT_LABEL_TEXT; '' for a logo alone. */
  text?: string;
  /** Drawn left of the text, scaled to the text's height. */
  logoRgba?: RgbaImage;
  position?: LabelPosition;
  /** 0 < opacity ≤ 1 (default 0.85): the text's opacity; the backing box gets 60% of it. */
  opacity?: number;
  /** Label height as a fraction of the frame height (default 0.06). */
  scale?: number;
}

export const DEFAULT_LABEL_TEXT = 'AI-generated';
const BOX_ALPHA = 0.6;

export interface LabelBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LabelLayout {
  box: LabelBox;
  /** Size of one font cell in pixels. */
  px: number;
  /** The text drawn (shortened with "…" when even the smallest size does not fit). */
  text: string;
  logo: { width: number; height: number } | null;
}

function validate(o: VisibleLabelOptions): Required<Omit<VisibleLabelOptions, 'logoRgba'>> & { logoRgba?: RgbaImage } {
  const opacity = o.opacity ?? 0.85;
  const scale = o.scale ?? 0.06;
  const position = o.position ?? 'bottom-right';
  const text = o.text ?? DEFAULT_LABEL_TEXT;
  if (!(opacity > 0 && opacity <= 1)) throw new RangeError(`label opacity must be in (0, 1], got ${opacity}`);
  if (!(scale > 0 && scale <= 0.5)) throw new RangeError(`label scale must be in (0, 0.5] of the frame height, got ${scale}`);
  if (!LABEL_POSITIONS.includes(position)) throw new RangeError(`label position must be one of ${LABEL_POSITIONS.join(', ')}, got ${String(position)}`);
  const logo = o.logoRgba;
  if (logo && (logo.width <= 0 || logo.height <= 0 || logo.data.length !== logo.width * logo.height * 4)) throw new RangeError(`logo must be RGBA with ${logo.width}×${logo.height}×4 bytes, got ${logo.data.length}`);
  if (!text && !logo) throw new RangeError('the visible label needs text or a logo (pass visible: false to turn it off)');
  return { opacity, scale, position, text, logoRgba: logo };
}

/** Where the label goes on a frame of this size, and at what font scale. */
export function labelLayout(width: number, height: number, options: VisibleLabelOptions = {}): LabelLayout {
  const o = validate(options);
  const margin = Math.round(0.02 * Math.min(width, height));
  const maxW = width - 2 * margin;
  const measure = (px: number, text: string) => {
    const logo = o.logoRgba ? { height: GLYPH_H * px, width: Math.max(1, Math.round((o.logoRgba.width * GLYPH_H * px) / o.logoRgba.height)) } : null;
    const textW = text ? [...text].length * (GLYPH_W + 1) * px - px : 0;
    const inner = (logo ? logo.width : 0) + (logo && text ? 2 * px : 0) + textW;
    return { w: inner + 4 * px, h: (GLYPH_H + 4) * px, logo };
  };
  // Cell size from the requested height, shrunk until the label fits the frame's width.
  let px = Math.max(1, Math.round((o.scale * height) / (GLYPH_H + 4)));
  while (px > 1 && measure(px, o.text).w > maxW) px--;
  let chars = [...o.text];
  let text = o.text;
  while (chars.length > 0 && measure(px, text).w > maxW) {
    chars = chars.slice(0, -1);
    text = chars.length ? `${chars.join('')}…` : '';
  }
  const m = measure(px, text);
  if (m.w > width || m.h > height || (!text && !m.logo)) throw new RangeError(`a ${width}×${height} frame is too small for the visible label`);
  const x = o.position.endsWith('right') ? width - margin - m.w : o.position.endsWith('left') ? margin : Math.round((width - m.w) / 2);
  const y = o.position.startsWith('bottom') ? height - margin - m.h : margin;
  return { box: { x, y, width: m.w, height: m.h }, px, text, logo: m.logo };
}

interface Rendered {
  layout: LabelLayout;
  /** Per box pixel: the ink's alpha and colour, drawn over the darkened box. */
  inkAlpha: Float32Array;
  ink: Uint8Array;
  boxAlpha: number;
}

function render(width: number, height: number, options: VisibleLabelOptions): Rendered {
  const o = validate(options);
  const layout = labelLayout(width, height, options);
  const { box, px } = layout;
  const inkAlpha = new Float32Array(box.width * box.height);
  const ink = new Uint8Array(box.width * box.height * 3).fill(255);
  let cx = 2 * px;
  const top = 2 * px;
  if (layout.logo && o.logoRgba) {
    const L = o.logoRgba;
    for (let y = 0; y < layout.logo.height; y++) {
      const sy = Math.min(L.height - 1, Math.floor((y * L.height) / layout.logo.height));
      for (let x = 0; x < layout.logo.width; x++) {
        const sx = Math.min(L.width - 1, Math.floor((x * L.width) / layout.logo.width));
        const s = (sy * L.width + sx) * 4;
        const d = (top + y) * box.width + cx + x;
        inkAlpha[d] = (L.data[s + 3]! / 255) * o.opacity;
        ink[3 * d] = L.data[s]!;
        ink[3 * d + 1] = L.data[s + 1]!;
        ink[3 * d + 2] = L.data[s + 2]!;
      }
    }
    cx += layout.logo.width + (layout.text ? 2 * px : 0);
  }
  for (const ch of layout.text) {
    const g = glyph(ch);
    for (let gy = 0; gy < GLYPH_H; gy++)
      for (let gx = 0; gx < GLYPH_W; gx++) {
        if (!g[gy]![gx]) continue;
        for (let y = 0; y < px; y++) for (let x = 0; x < px; x++) inkAlpha[(top + gy * px + y) * box.width + cx + gx * px + x] = o.opacity;
      }
    cx += (GLYPH_W + 1) * px;
  }
  return { layout, inkAlpha, ink, boxAlpha: BOX_ALPHA * o.opacity };
}

export interface VisibleLabel {
  /** Draws the label into an RGB24 frame in place; returns where. */
  apply(rgb: Uint8Array, width: number, height: number): LabelBox;
}

export function createVisibleLabel(options: VisibleLabelOptions = {}): VisibleLabel {
  validate(options);
  let cache: { w: number; h: number; r: Rendered } | null = null;
  return {
    apply(rgb, width, height) {
      if (rgb.length !== width * height * 3) throw new RangeError(`frame has ${rgb.length} bytes, expected ${width}×${height}×3`);
      if (!cache || cache.w !== width || cache.h !== height) cache = { w: width, h: height, r: render(width, height, options) };
      const { layout, inkAlpha, ink, boxAlpha } = cache.r;
      const { box } = layout;
      for (let y = 0; y < box.height; y++) {
        for (let x = 0; x < box.width; x++) {
          const b = y * box.width + x;
          const p = ((box.y + y) * width + box.x + x) * 3;
          const a = inkAlpha[b]!;
          for (let c = 0; c < 3; c++) {
            const under = rgb[p + c]! * (1 - boxAlpha);
            rgb[p + c] = Math.round(under * (1 - a) + ink[3 * b + c]! * a);
          }
        }
      }
      return box;
    },
  };
}
