// Small shared pieces: the error banner, empty states and the progress bar.
import type { ReactNode } from 'react';
import { percent } from '../lib/format.js';
import { useStudio } from '../store/store.js';

export function Notices() {
  const notices = useStudio((s) => s.notices);
  const dismiss = useStudio((s) => s.dismiss);
  if (notices.length === 0) return null;
  return (
    <div role="alert" data-testid="notices">
      {notices.map((n) => (
        <div className="error" key={n.id}>
          <p>{n.message}</p>
          <button className="btn" onClick={() => dismiss(n.id)} aria-label="Dismiss">
            Dismiss
          </button>
        </div>
      ))}
    </div>
  );
}

export function Empty({ title, children, testId }: { title: string; children?: ReactNode; testId?: string }) {
  return (
    <div className="empty" data-testid={testId}>
      <strong>{title}</strong>
      {children}
    </div>
  );
}

export function ProgressBar({ done, total, label }: { done: number; total: number; label: string }) {
  const p = percent(done, total);
  return (
    <div className="progress" role="progressbar" aria-label={label} aria-valuenow={p} aria-valuemin={0} aria-valuemax={100}>
      <div style={{ width: `${p}%` }} />
    </div>
  );
}

export function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="field">
      <label>
        {label}
        <br />
        {children}
      </label>
    </div>
  );
}
