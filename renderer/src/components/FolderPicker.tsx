// Choosing a folder on the machine that runs the studio: a native dialog in Electron, a typed path in
// both hosts (a browser cannot pick folders of another process's machine). `check` validates the
// folder when it is chosen and the sentence shows beside the field until it is fixed.
import { useState } from 'react';
import { useHost } from '../host/host-context.js';

export function FolderPicker({ label, value, onChoose, testId, button = 'Use this folder' }: { label: string; value?: string; onChoose: (path: string) => Promise<string | null> | void; testId: string; button?: string }) {
  const host = useHost();
  const [typed, setTyped] = useState(value ?? '');
  const [error, setError] = useState<string | null>(null);
  const choose = async (p: string) => {
    const problem = (await onChoose(p)) ?? null;
    setError(problem);
  };
  return (
    <form
      className="row"
      style={{ alignItems: 'start' }}
      onSubmit={(e) => {
        e.preventDefault();
        if (typed.trim()) void choose(typed.trim());
      }}
    >
      <div className="field" style={{ flex: 1 }}>
        <label>
          {label}
          <br />
          <input
            value={typed}
            onChange={(e) => {
              setTyped(e.target.value);
              setError(null);
            }}
            style={{ minWidth: 320, width: '100%' }}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${testId}-error` : undefined}
            data-testid={`${testId}-path`}
          />
        </label>
        {error ? (
          <p className="field-error" id={`${testId}-error`} data-testid={`${testId}-error`}>
            {error}
          </p>
        ) : null}
      </div>
      {host.kind === 'electron' ? (
        <button
          className="btn"
          type="button"
          onClick={async () => {
            const p = await host.openDialog({ kind: 'folder', title: label });
            if (p) {
              setTyped(p);
              await choose(p);
            }
          }}
        >
          Choose…
        </button>
      ) : null}
      <button className="btn" type="submit" data-testid={`${testId}-use`}>
        {button}
      </button>
    </form>
  );
}
