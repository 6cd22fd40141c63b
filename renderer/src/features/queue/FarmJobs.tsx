// The render farm's jobs on the queue screen, below this computer's: each with the worker that runs
// (or ran) it, its state and progress, and the same controls as local jobs — move up/down (the farm's
// priority), pause, resume, retry, cancel, remove. The farm lives in Redis, not in this studio's event
// stream, so the list is fetched every 2 seconds while the screen is open; a farm that cannot be reached
// is one sentence in place of the list.
import { useCallback, useEffect, useState } from 'react';
import type { FarmJobList, FarmJobRow } from '../../../../engine/service/contract.js';
import { ProgressBar } from '../../components/common.js';
import { useHost } from '../../host/host-context.js';
import { percent } from '../../lib/format.js';
import { canReorder, isActive, STATE_LABEL } from '../../lib/job-status.js';
import { useStudio } from '../../store/store.js';

const POLL_MS = 2000;
type Action = 'pause' | 'resume' | 'cancel' | 'retry' | 'remove';

/** The line under a farm job's title; null when the state's badge says it all. */
function line(job: FarmJobRow): string | null {
  if (job.state === 'failed') return job.error ?? 'Failed';
  if (job.state === 'running') return job.progress?.message ?? 'Starting…';
  if (job.state === 'queued' && job.failures > 0) return `Trying again after: ${job.error ?? 'a failed attempt'} (attempt ${job.failures + 1} of 3)`;
  if (job.state === 'queued') return job.stalls > 0 ? 'Its worker stopped answering; waiting for another to resume it' : 'Waiting for a worker';
  if (job.state === 'paused') return 'Paused; resume it to continue from its last checkpoint';
  return null;
}

export function FarmJobs() {
  const host = useHost();
  const report = useStudio((s) => s.report);
  const farm = useStudio((s) => s.settings?.farm);
  const [list, setList] = useState<FarmJobList | null>(null);
  const refresh = useCallback(async () => {
    try {
      setList(await host.call('farm.jobs', {}));
    } catch (e) {
      setList({ configured: true, jobs: [], problem: (e as Error).message });
    }
  }, [host]);
  useEffect(() => {
    void refresh();
    const t = setInterval(() => void refresh(), POLL_MS);
    return () => clearInterval(t);
  }, [refresh, farm]);
  const act = async (id: string, action: Action) => {
    try {
      await host.call(`farm.${action}`, { id });
    } catch (e) {
      report(e);
    }
    await refresh();
  };
  const move = async (id: string, index: number) => {
    try {
      await host.call('farm.reorder', { id, index });
    } catch (e) {
      report(e);
    }
    await refresh();
  };
  if (!list || !list.configured) return null;
  const movable = list.jobs.filter((j) => canReorder(j.state));
  return (
    <section className="panel" data-testid="farm-jobs">
      <div className="row">
        <h2 style={{ margin: 0 }}>Render farm</h2>
        <div className="spacer" />
        <span className="small muted">{list.jobs.filter((j) => j.state === 'running').length} running · {list.jobs.filter((j) => j.state === 'queued').length} waiting</span>
      </div>
      {list.problem ? (
        <p className="small warning" role="status" data-testid="farm-problem">
          {list.problem}
        </p>
      ) : list.jobs.length === 0 ? (
        <p className="muted">No farm jobs. Choose “render farm” under Export on the Generate screen to send one.</p>
      ) : (
        <ul className="job-list">
          {list.jobs.map((job) => {
            const pos = movable.indexOf(job);
            const p = job.progress;
            return (
              <li className="job" key={job.id} data-testid="farm-job" data-job-id={job.id} data-state={job.state}>
                <div style={{ minWidth: 0, flex: 1 }}>
                  <div className="row">
                    <strong>{job.title}</strong>
                    <span className={`badge ${job.state}`}>{STATE_LABEL[job.state]}</span>
                    <span className="small muted" data-testid="farm-worker">
                      {job.worker ? `worker ${job.worker}` : 'no worker yet'}
                    </span>
                    {job.stalls > 0 ? <span className="small muted">recovered {job.stalls}×</span> : null}
                  </div>
                  <div className="row" style={{ marginTop: 6 }}>
                    {p && p.total > 0 && isActive(job.state) ? (
                      <>
                        <ProgressBar done={p.done} total={p.total} label={`${job.title} progress`} />
                        <span className="small">{percent(p.done, p.total)}%</span>
                      </>
                    ) : null}
                    {line(job) ? <span className={`small ${job.state === 'failed' ? 'error-text' : 'muted'}`}>{line(job)}</span> : null}
                  </div>
                  {job.state === 'done' ? (
                    <p className="small mono muted" style={{ margin: '6px 0 0' }}>
                      {job.outputPath}
                    </p>
                  ) : null}
                </div>
                <div className="actions">
                  {pos >= 0 && movable.length > 1 ? (
                    <>
                      <button className="btn" disabled={pos === 0} onClick={() => void move(job.id, pos - 1)} aria-label="Move up">
                        ↑
                      </button>
                      <button className="btn" disabled={pos === movable.length - 1} onClick={() => void move(job.id, pos + 1)} aria-label="Move down">
                        ↓
                      </button>
                    </>
                  ) : null}
                  {job.state === 'queued' || job.state === 'running' ? <button className="btn" onClick={() => void act(job.id, 'pause')}>Pause</button> : null}
                  {job.state === 'paused' ? <button className="btn" onClick={() => void act(job.id, 'resume')}>Resume</button> : null}
                  {job.state === 'failed' || job.state === 'cancelled' ? <button className="btn" onClick={() => void act(job.id, 'retry')}>Retry</button> : null}
                  {isActive(job.state) ? <button className="btn" onClick={() => void act(job.id, 'cancel')}>Cancel</button> : null}
                  {job.state !== 'running' && !isActive(job.state) ? <button className="btn" onClick={() => void act(job.id, 'remove')}>Remove</button> : null}
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
