// The queue: every preview, export and training job with its state, progress and ETA and the actions
// its state allows — a kind filter, moves for waiting jobs only, and for finished files: reveal (the
// desktop app) or download (a browser), open, and a watermark check (what `refree verify` does). The
// list mirrors the service's job files, so it is the same after an app restart or an engine crash.
// Exports are started from the Generate screen, next to the preview. Render-farm jobs, when a farm is
// set up, are listed below with their workers (FarmJobs.tsx).
import { useState } from 'react';
import type { JobView } from '../../../../engine/service/contract.js';
import { Empty, ProgressBar } from '../../components/common.js';
import { useHost } from '../../host/host-context.js';
import { formatEta, percent } from '../../lib/format.js';
import { canReorder, isActive, queueSummary, STATE_LABEL, statusLine } from '../../lib/job-status.js';
import { jobActions } from '../../store/jobs-mirror.js';
import { useStudio } from '../../store/store.js';
import { FarmJobs } from './FarmJobs.js';

type Filter = 'all' | 'export' | 'preview' | 'training';
const FILTERS: { value: Filter; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'export', label: 'Exports' },
  { value: 'preview', label: 'Previews' },
  { value: 'training', label: 'Training' },
];

function WatermarkResult({ id }: { id: string }) {
  const check = useStudio((s) => s.checks[id]);
  if (!check) return null;
  if (check === 'checking') return <p className="small muted" data-testid="verify-result">Checking the watermark…</p>;
  return (
    <p className={`small ${check.found ? 'ok-text' : 'warning'}`} role="status" data-testid="verify-result" data-found={String(check.found)}>
      {check.summary}
    </p>
  );
}

/** `up` / `down`: the queue index to move to (the neighbouring waiting job's place), or null. */
function JobRow({ job, up, down }: { job: JobView; up: number | null; down: number | null }) {
  const host = useHost();
  const jobAction = useStudio((s) => s.jobAction);
  const moveJob = useStudio((s) => s.moveJob);
  const openOutput = useStudio((s) => s.openOutput);
  const verify = useStudio((s) => s.verifyOutput);
  const can = jobActions(job);
  const p = job.progress;
  const download = can.open ? host.downloadUrl(job.outputUrl) : null;
  return (
    <li className="job" data-testid="job" data-job-id={job.id} data-state={job.state} data-kind={job.kind}>
      <div style={{ minWidth: 0, flex: 1 }}>
        <div className="row">
          <strong data-testid="job-title">{job.title}</strong>
          <span className="badge">{job.kind}</span>
          <span className={`badge ${job.state}`} data-testid="job-state">
            {STATE_LABEL[job.state]}
          </span>
          {job.recoveries > 0 ? <span className="small muted">recovered {job.recoveries}×</span> : null}
        </div>
        <div className="row" style={{ marginTop: 6 }}>
          {p && isActive(job.state) ? (
            <>
              <ProgressBar done={p.done} total={p.total} label={`${job.title} progress`} />
              <span className="small">{percent(p.done, p.total)}%</span>
              {job.state === 'running' ? <span className="small muted">{formatEta(p.etaSeconds) ?? 'estimating…'}</span> : null}
            </>
          ) : null}
          {statusLine(job) !== STATE_LABEL[job.state] ? (
            <span className={`small ${job.state === 'failed' ? 'error-text' : 'muted'}`} data-testid="job-line">
              {statusLine(job)}
            </span>
          ) : null}
        </div>
        {job.output && job.state === 'done' ? (
          <p className="small mono muted" style={{ margin: '6px 0 0' }} data-testid="job-output">
            {job.output}
          </p>
        ) : null}
        <WatermarkResult id={job.id} />
      </div>
      <div className="actions">
        {canReorder(job.state) && (up !== null || down !== null) ? (
          <>
            <button className="btn" disabled={up === null} onClick={() => up !== null && void moveJob(job.id, up)} aria-label="Move up">
              ↑
            </button>
            <button className="btn" disabled={down === null} onClick={() => down !== null && void moveJob(job.id, down)} aria-label="Move down">
              ↓
            </button>
          </>
        ) : null}
        {can.pause ? <button className="btn" onClick={() => void jobAction(job.id, 'pause')}>Pause</button> : null}
        {can.resume ? <button className="btn" onClick={() => void jobAction(job.id, 'resume')}>Resume</button> : null}
        {can.retry ? <button className="btn" onClick={() => void jobAction(job.id, 'retry')}>Retry</button> : null}
        {can.cancel ? <button className="btn" onClick={() => void jobAction(job.id, 'cancel')}>Cancel</button> : null}
        {can.open ? (
          <>
            {host.kind === 'electron' ? (
              <button className="btn" onClick={() => void openOutput(job.id, 'reveal')} data-testid="reveal-output">
                Show in folder
              </button>
            ) : download ? (
              <a className="btn" href={download} download data-testid="download-output">
                Download
              </a>
            ) : null}
            <button className="btn primary" onClick={() => void openOutput(job.id, 'open')} data-testid="open-output">
              Open
            </button>
            <button className="btn" onClick={() => void verify(job.id)} data-testid="verify-output">
              Check watermark
            </button>
          </>
        ) : null}
        {can.remove ? <button className="btn" onClick={() => void jobAction(job.id, 'remove')}>Remove</button> : null}
      </div>
    </li>
  );
}

export function QueueScreen() {
  const jobs = useStudio((s) => s.jobs);
  const setScreen = useStudio((s) => s.setScreen);
  const [filter, setFilter] = useState<Filter>('all');
  const shown = filter === 'all' ? jobs : jobs.filter((j) => j.kind === filter);
  const movable = jobs.filter((j) => canReorder(j.state));
  return (
    <div data-testid="screen-queue">
      <h1 className="screen-title">Queue</h1>
      <section className="panel">
        <div className="row">
          <div role="radiogroup" aria-label="Show" className="row" data-testid="queue-filter">
            {FILTERS.map((f) => (
              <button key={f.value} className={`btn${filter === f.value ? ' primary' : ''}`} role="radio" aria-checked={filter === f.value} onClick={() => setFilter(f.value)} data-testid={`filter-${f.value}`}>
                {f.label} ({f.value === 'all' ? jobs.length : jobs.filter((j) => j.kind === f.value).length})
              </button>
            ))}
          </div>
          <div className="spacer" />
          <span className="small muted" data-testid="queue-summary">
            {queueSummary(jobs)}
          </span>
        </div>
        {jobs.length === 0 ? (
          <Empty title="No jobs yet" testId="queue-empty">
            <p>
              Previews and exports you start on the Generate screen run here one at a time, in this order. They keep going if you close the app, and pick up where they stopped.{' '}
              <button className="btn" onClick={() => setScreen('generate')}>
                Go to Generate
              </button>
            </p>
          </Empty>
        ) : shown.length === 0 ? (
          <p className="muted">No {filter} jobs.</p>
        ) : (
          <ul className="job-list" data-testid="job-list">
            {shown.map((j) => {
              const pos = movable.indexOf(j);
              const at = (k: JobView | undefined) => (k ? jobs.indexOf(k) : null);
              return <JobRow key={j.id} job={j} up={pos > 0 ? at(movable[pos - 1]) : null} down={pos >= 0 ? at(movable[pos + 1]) : null} />;
            })}
          </ul>
        )}
      </section>
      <FarmJobs />
    </div>
  );
}
