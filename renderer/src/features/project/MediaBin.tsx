// The project's media bin: every portrait, speech file and recording imported into it, with a thumbnail
// or a player, and "Use" to make one the project's portrait or speech again. Nothing is ever removed
// from here by an import (files are content-addressed), so switching back is always possible.
import { useHost } from '../../host/host-context.js';
import { formatBytes } from '../../lib/format.js';
import { useStudio } from '../../store/store.js';

export function MediaBin() {
  const host = useHost();
  const bin = useStudio((s) => s.bin);
  const use = useStudio((s) => s.useBinEntry);
  if (bin.length === 0) return null;
  return (
    <section className="panel" data-testid="media-bin">
      <h2>Media bin</h2>
      <ul className="bin">
        {bin.map((m) => {
          const url = host.mediaUrl(m.url);
          return (
            <li key={m.path} className={`bin-item${m.inUse ? ' in-use' : ''}`} data-testid="bin-item" data-kind={m.kind}>
              {m.kind === 'image' && url ? <img src={url} alt={m.name} className="bin-thumb" /> : null}
              {m.kind === 'audio' && url ? <audio src={url} controls preload="none" className="bin-audio" aria-label={m.name} /> : null}
              <div className="small" title={m.name}>
                {m.name}
              </div>
              <div className="small muted">{formatBytes(m.bytes)}</div>
              {m.inUse ? (
                <span className="badge">in use</span>
              ) : (
                <button className="btn" onClick={() => void use(m)} data-testid="bin-use">
                  Use as {m.kind === 'image' ? 'portrait' : 'speech'}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
