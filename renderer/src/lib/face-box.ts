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

/** One keyboard step: 2% of the box (at least 1 px), so a press moves a small box finely and a big one visibly. */
export function keyStep(b: Box): number {
  return Math.max(1, Math.round(b.size * 0.02));
}

/**
 * The box after a key press, or null for keys it does not use: arrows move it, + and - (or ] and [)
 * resize it about its centre; Shift makes each step five times larger.
 */
export function boxForKey(key: string, shift: boolean, b: Box, width: number, height: number): Box | null {
  const step = keyStep(b) * (shift ? 5 : 1);
  switch (key) {
    case 'ArrowLeft':
      return clampBox({ ...b, x: b.x - step }, width, height);
    case 'ArrowRight':
      return clampBox({ ...b, x: b.x + step }, width, height);
    case 'ArrowUp':
      return clampBox({ ...b, y: b.y - step }, width, height);
    case 'ArrowDown':
      return clampBox({ ...b, y: b.y + step }, width, height);
    case '+':
    case '=':
    case ']':
      return resizeBox(b, b.size + 2 * step, width, height);
    case '-':
    case '_':
    case '[':
      return resizeBox(b, b.size - 2 * step, width, height);
    default:
      return null;
  }
}

/** The size slider's step: 1% of the short side, so a key press on the slider is a visible change. */
export function sliderStep(width: number, height: number): number {
  return Math.max(1, Math.round(Math.min(width, height) / 100));
}
