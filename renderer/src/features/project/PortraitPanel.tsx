import { FilePicker } from '../../components/FilePicker.js';
import { useHost } from '../../host/host-context.js';
import { defaultBox } from '../../lib/face-box.js';
import { useStudio } from '../../store/store.js';
import { FaceCrop } from './FaceCrop.js';

export function PortraitPanel() {
  const host = useHost();
  const portrait = useStudio((s) => s.portrait);
  const crop = useStudio((s) => s.project?.portrait?.crop ?? null);
  const cropWarning = useStudio((s) => s.cropWarning);
  const importPortrait = useStudio((s) => s.importPortrait);
  const importFile = useStudio((s) => s.importFile);
  const setCrop = useStudio((s) => s.setCrop);
  const save = useStudio((s) => s.save);

  const src = host.mediaUrl(portrait?.url ?? null);
  const w = portrait?.width ?? 0;
  const h = portrait?.height ?? 0;
  return (
    <section className="panel" data-testid="portrait-panel">
      <h2>Portrait</h2>
      {portrait && src && w > 0 && h > 0 ? (
        <>
          <FaceCrop
            src={src}
            width={w}
            height={h}
            box={crop ?? defaultBox(w, h)}
            onChange={(b) => {
              setCrop(b);
            }}
          />
          {cropWarning ? (
            <p className="small warning" role="status" data-testid="crop-warning">
              {cropWarning}
            </p>
          ) : null}
          <div className="row" style={{ marginTop: 8 }}>
            <button className="btn" onClick={() => void save()}>
              Save crop
            </button>
            <span className="small muted">
              {w}×{h} pixels · crop {crop ? `${crop.size}×${crop.size} at ${crop.x}, ${crop.y}` : 'not set'}
            </span>
          </div>
        </>
      ) : null}
      <div style={{ marginTop: portrait ? 12 : 0 }}>
        <FilePicker kind="image" label="Choose a portrait" accept="image/*" onPath={(p) => void importPortrait(p)} onFile={(f) => void importFile(f, 'image')} testId="portrait" />
      </div>
    </section>
  );
}
