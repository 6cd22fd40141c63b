// Getting a file to the engine, whichever host: a native dialog (Electron), drag and drop, a file
// input (uploaded by the web host), or typing a path (always works; the engine runs on this machine).
import { useState } from 'react';
import type { DragEvent } from 'react';
import { useHost } from '../host/host-context.js';
import { useStudio } from '../store/store.js';

export function FilePicker({ kind, label, onPath, testId }: { kind: 'image' | 'audio' | 'folder'; label: string; accept?: string; onPath: (path: string) => void; testId: string }) {
  const host = useHost();
  const report = useStudio((s) => s.report);
  const [over, setOver] = useState(false);
  const [typed, setTyped] = useState('');

  const fromFile = (file: File | undefined) => {
    if (!file) return;
    host.fileToPath(file).then(onPath, report);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    fromFile(e.dataTransfer.files[0]);
  };
  const browse = async () => {
    const p = await host.openDialog({ kind, title: label });
    if (p) onPath(p);
  };

  return (
    <div>
      {host.kind === 'electron' ? (
        <div
          className={`dropzone${over ? ' over' : ''}`}
          data-testid={`${testId}-drop`}
          onDragOver={(e) => {
            e.preventDefault();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={onDrop}
        >
          <p>Drop {kind === 'image' ? 'a portrait' : kind === 'audio' ? 'a speech recording' : 'a folder'} here</p>
          <div className="row" style={{ justifyContent: 'center' }}>
            <button className="btn" onClick={() => void browse()}>
              Choose…
            </button>
          </div>
        </div>
      ) : (
        <p className="small muted">Type the path of {kind === 'image' ? 'a portrait' : kind === 'audio' ? 'a speech recording' : 'a model folder'} on the machine that runs the studio (the browser cannot hand files over; nothing is uploaded).</p>
      )}
      <form
        className="row"
        style={{ marginTop: 8 }}
        onSubmit={(e) => {
          e.preventDefault();
          if (typed.trim()) onPath(typed.trim());
        }}
      >
        <input className="field" style={{ flex: 1, padding: 6 }} placeholder={host.kind === 'electron' ? '…or a path' : '/path/to/the/file'} value={typed} onChange={(e) => setTyped(e.target.value)} data-testid={`${testId}-path`} aria-label={`${label} path`} />
        <button className="btn" type="submit" data-testid={`${testId}-import`}>
          Import
        </button>
      </form>
    </div>
  );
}
