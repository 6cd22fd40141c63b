// The face crop on the portrait, in image pixels. The engine proposes a box (face detection); the user
// drags and resizes it in the preview. The pipeline wants a square crop, so every edit keeps it square
// and inside the image.

export interface Box {
  x: number;
  y: number;
  size: number;
}

export const MIN_BOX = 32;

export function clampBox(b: Box, width: number, height: number): Box {
  const maxSize = Math.max(1, Math.min(width, height));
  const size = Math.round(Math.min(maxSize, Math.max(Math.min(MIN_BOX, maxSize), b.size)));
  const x = Math.round(Math.min(Math.max(0, b.x), width - size));
  const y = Math.round(Math.min(Math.max(0, b.y), height - size));
  return { x, y, size };
}

/** A centred square covering 60% of the short side: the fallback when no face was found. */
export function defaultBox(width: number, height: number): Box {
  const size = Math.round(Math.min(width, height) * 0.6);
  return clampBox({ x: (width - size) / 2, y: (height - size) / 2.5, size }, width, height);
}

/** Resizes about the centre (the mouse wheel and the size slider), so the face stays put. */
export function resizeBox(b: Box, newSize: number, width: number, height: number): Box {
  const cx = b.x + b.size / 2;
  const cy = b.y + b.size / 2;
  return clampBox({ x: cx - newSize / 2, y: cy - newSize / 2, size: newSize }, width, height);
}
