// The frame-level watermark the export pipeline calls on every RGB frame before encoding:
// the invisible layer first, then the visible label on top. That order keeps the label exactly as
// designed (crisp, with no watermark texture over it) and confines the label's effect to its box;
// the detector's chips under the label simply read the label as part of the picture.
// The metadata layer is added by the encoder (metadata.ts: metadataArgs).
import type { EmbedStats } from './invisible.js';
import { createInvisibleEmbedder, DEFAULT_STRENGTH } from './invisible.js';
import { assertPayload, payloadHex } from './message.js';
import type { LabelBox, VisibleLabelOptions } from './visible.js';
import { createVisibleLabel } from './visible.js';

export interface WatermarkOptions {
  /** 64-bit payload (see message.ts: payloadFor(jobId, modelHash)). */
  payload: bigint;
  /** The visible label (on by default with DEFAULT_LABEL_TEXT), or false to leave it off. */
  visible?: VisibleLabelOptions | false;
  /** Invisible-layer strength in luma levels (default DEFAULT_STRENGTH; 1–16). */
  strength?: number;
}

export interface FrameReport extends EmbedStats {
  /** Where the visible label was drawn, or null. */
  label: LabelBox | null;
}

export interface Watermarker {
  readonly payloadHex: string;
  /**
   * Watermarks one RGB24 frame in place. The invisible pattern does not depend on frameIndex (the
   * same payload is in every frame, so any cut of the video still carries it); the index is checked
   * only to catch callers that skip or repeat frames by mistake.
   */
  apply(frame: Uint8Array, width: number, height: number, frameIndex: number): FrameReport;
}

export function createWatermarker(opts: WatermarkOptions): Watermarker {
  assertPayload(opts.payload);
  const strength = opts.strength ?? DEFAULT_STRENGTH;
  if (!(strength > 0 && strength <= 4)) throw new RangeError(`watermark strength must be in (0, 4], got ${strength}`);
  const invisible = createInvisibleEmbedder(opts.payload, { strength });
  const label = opts.visible === false ? null : createVisibleLabel(opts.visible ?? {});
  let last = -1;
  return {
    payloadHex: payloadHex(opts.payload),
    apply(frame, width, height, frameIndex) {
      if (!Number.isInteger(frameIndex) || frameIndex < 0) throw new RangeError(`frameIndex must be a non-negative integer, got ${frameIndex}`);
      if (frameIndex <= last) throw new RangeError(`frame ${frameIndex} after frame ${last}: frames must be watermarked in order, once each`);
      last = frameIndex;
      const stats = invisible.embed(frame, width, height);
      const box = label ? label.apply(frame, width, height) : null;
      return { ...stats, label: box };
    },
  };
}
