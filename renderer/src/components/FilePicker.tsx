// Getting a file to the studio, whichever host: "Choose…" (a native dialog in Electron, the browser's
// file picker in the web host), drag and drop, paste (Ctrl/Cmd+V while the zone has focus), or typing
// a path on the machine that runs the studio. The web host uploads the bytes with progress; Electron
// reads the file where it lies.
import { useRef, useState } from 'react';
import type { ClipboardEvent, DragEvent } from 'react';
import { useHost } from '../host/host-context.js';
import { fileKind } from '../lib/limits.js';
import { useStudio } from '../store/store.js';
import { ProgressBar } from './common.js';

const WHAT = { image: 'a portrait', audio: 'a speech recording' } as const;

export function FilePicker({ kind, label, accept, onPath, onFile, testId }: { kind: 'image' | 'audio'; label: string; accept: string; onPath: (path: string) => void; onFile: (file: File) => void; testId: string }) {
  const host = useHost();
  const report = useStudio((s) => s.report);
  const upload = useStudio((s) => (s.upload?.kind === kind ? s.upload : null));
  const [over, setOver] = useState(false);
  const [typed, setTyped] = useState('');
  const input = useRef<HTMLInputElement>(null);

  const take = (files: FileList | null | undefined) => {
    const file = files?.[0];
    if (!file) return;
    const k = fileKind(file);
    if (k !== kind) {
      report(new Error(`${file.name} is not ${WHAT[kind]}; ${kind === 'image' ? 'choose a PNG, JPEG or WebP photo' : 'choose a WAV, MP3, M4A, OGG or WebM recording'}.`));
      return;
    }
    onFile(file);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    take(e.dataTransfer.files);
  };
  const onPaste = (e: ClipboardEvent) => {
    if (e.clipboardData.files.length === 0) return;
    e.preventDefault();
    take(e.clipboardData.files);
  };
  const choose = async () => {
    if (host.kind === 'electron') {
      const p = await host.openDialog({ kind, title: label });
      if (p) onPath(p);
    } else input.current?.click();
  };

  return (
    <div>
      <div
        className={`dropzone${over ? ' over' : ''}`}
        data-testid={`${testId}-drop`}
        tabIndex={0}
        role="group"
        aria-label={`${label}: drop or paste a file here`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
        onPaste={onPaste}
      >
        <p>Drop {WHAT[kind]} here, paste it, or</p>
        <div className="row" style={{ justifyContent: 'center' }}>
          <button className="btn" type="button" onClick={() => void choose()} data-testid={`${testId}-choose`}>
            Choose a file…
          </button>
        </div>
        <input
          ref={input}
          type="file"
          accept={accept}
          hidden
          data-testid={`${testId}-file`}
          onChange={(e) => {
            take(e.target.files);
            e.target.value = '';
          }}
        />
        {upload ? (
          <div className="row" style={{ marginTop: 8 }} data-testid={`${testId}-upload`}>
            <ProgressBar done={upload.sent} total={upload.total} label={`Uploading ${upload.name}`} />
            <span className="small muted">
              Uploading {upload.name}: {Math.round((100 * upload.sent) / Math.max(1, upload.total))}%
            </span>
          </div>
        ) : null}
      </div>
      <form
        className="row"
        style={{ marginTop: 8 }}
        onSubmit={(e) => {
          e.preventDefault();
          if (typed.trim()) onPath(typed.trim());
        }}
      >
        <input className="field" style={{ flex: 1, padding: 6 }} placeholder="…or type its path on the studio machine" value={typed} onChange={(e) => setTyped(e.target.value)} data-testid={`${testId}-path`} aria-label={`${label} path`} />
        <button className="btn" type="submit" data-testid={`${testId}-import`}>
          Import
        </button>
      </form>
    </div>
  );
}
