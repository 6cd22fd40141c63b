// The portrait with its square face crop: drag the box to move it, the corner handle or the slider to
// resize; from the keyboard, the focused box moves with the arrows and resizes with + and - (Shift for
// bigger steps). Coordinates are kept in image pixels (the contract's CropBox); the view scales them.
import { useRef, useState } from 'react';
import type { PointerEvent as ReactPointerEvent } from 'react';
import type { Box } from '../../lib/face-box.js';
import { boxForKey, clampBox, resizeBox, sliderStep } from '../../lib/face-box.js';

export function FaceCrop({ src, width, height, box, onChange }: { src: string; width: number; height: number; box: Box; onChange: (b: Box) => void }) {
  const imgRef = useRef<HTMLImageElement>(null);
  const [drag, setDrag] = useState<{ mode: 'move' | 'resize'; x0: number; y0: number; box: Box } | null>(null);
  const [scale, setScale] = useState(1);

  const start = (mode: 'move' | 'resize') => (e: ReactPointerEvent) => {
    e.stopPropagation();
    (e.target as Element).setPointerCapture(e.pointerId);
    setDrag({ mode, x0: e.clientX, y0: e.clientY, box });
  };
  const move = (e: ReactPointerEvent) => {
    if (!drag) return;
    const dx = (e.clientX - drag.x0) / scale;
    const dy = (e.clientY - drag.y0) / scale;
    if (drag.mode === 'move') onChange(clampBox({ ...drag.box, x: drag.box.x + dx, y: drag.box.y + dy }, width, height));
    else onChange(clampBox({ ...drag.box, size: drag.box.size + Math.max(dx, dy) }, width, height));
  };

  const previewScale = 160 / box.size;
  return (
    <div className="row" style={{ alignItems: 'start' }}>
      <div className="portrait-stage" onPointerMove={move} onPointerUp={() => setDrag(null)}>
        <img ref={imgRef} src={src} alt="Portrait" data-testid="portrait-image" draggable={false} onLoad={(e) => setScale(e.currentTarget.clientWidth / width)} />
        <div
          className="face-box"
          data-testid="face-box"
          style={{ left: box.x * scale, top: box.y * scale, width: box.size * scale, height: box.size * scale }}
          onPointerDown={start('move')}
          tabIndex={0}
          role="slider"
          aria-label="Face crop box: arrows move it, plus and minus resize it"
          aria-valuetext={`x ${box.x}, y ${box.y}, size ${box.size} pixels`}
          onKeyDown={(e) => {
            const next = boxForKey(e.key, e.shiftKey, box, width, height);
            if (!next) return;
            // Handled here: the page's own keys (the waveform's) must not see it.
            e.preventDefault();
            e.stopPropagation();
            onChange(next);
          }}
        >
          <div className="handle" onPointerDown={start('resize')} />
        </div>
      </div>
      <div>
        <div
          className="crop-preview"
          data-testid="crop-preview"
          aria-label="Face crop preview"
          style={{ backgroundImage: `url("${src}")`, backgroundSize: `${width * previewScale}px ${height * previewScale}px`, backgroundPosition: `${-box.x * previewScale}px ${-box.y * previewScale}px` }}
        />
        <div className="field" style={{ marginTop: 8 }}>
          <label htmlFor="crop-size">Crop size: {box.size}px</label>
          <input id="crop-size" type="range" min={32} max={Math.min(width, height)} step={sliderStep(width, height)} value={box.size} data-testid="crop-size" onChange={(e) => onChange(resizeBox(box, Number(e.target.value), width, height))} />
        </div>
        <p className="small muted">
          Drag the box over the face; the corner resizes it. With the box focused (<kbd>Tab</kbd>), the arrows move it and <kbd>+</kbd> / <kbd>−</kbd> resize it; <kbd>Shift</kbd> takes bigger steps.
        </p>
      </div>
    </div>
  );
}
