// The export queue: add exports (settings come from the project; watermark options here), and the list
// of every job with state, progress and ETA and the actions its state allows. The list mirrors the
// service's job files, so it is the same after an app restart or an engine crash.
import { useEffect, useState } from 'react';
import type { JobView, WatermarkOptions } from '../../../../engine/service/contract.js';
import { Empty, Field, ProgressBar } from '../../components/common.js';
import { useHost } from '../../host/host-context.js';
import { formatEta, percent } from '../../lib/format.js';
import { jobActions } from '../../store/jobs-mirror.js';
import { useStudio } from '../../store/store.js';

const FALLBACK_WATERMARK: WatermarkOptions = { visible: true, text: 'AI-generated', position: 'bottom-right' };

function AddExport() {
  const host = useHost();
  const project = useStudio((s) => s.project);
  const defaults = useStudio((s) => s.settings?.watermark ?? FALLBACK_WATERMARK);
  const addExport = useStudio((s) => s.addExport);
  const [wm, setWm] = useState<WatermarkOptions>(defaults);
  const [output, setOutput] = useState('');
  useEffect(() => setWm(defaults), [defaults]);
  const ready = Boolean(project?.portrait && project.audio);
  const chooseOutput = async () => {
    const p = await host.saveDialog(output || 'refree-export.mp4');
    if (p) setOutput(p);
  };
  return (
    <section className="panel">
      <h2>Add an export</h2>
      {!ready ? <p className="muted">Add a portrait and speech on the Project screen first.</p> : null}
      <div className="row">
        <Field label="Visible label">
          <input type="checkbox" checked={wm.visible} onChange={(e) => setWm({ ...wm, visible: e.target.checked })} data-testid="wm-visible" />
        </Field>
        <Field label="Label text">
          <input value={wm.text} onChange={(e) => setWm({ ...wm, text: e.target.value })} data-testid="wm-text" />
        </Field>
        <Field label="Position">
          <select value={wm.position} onChange={(e) => setWm({ ...wm, position: e.target.value as WatermarkOptions['position'] })}>
            <option value="top-left">top left</option>
            <option value="top-right">top right</option>
            <option value="bottom-left">bottom left</option>
            <option value="bottom-right">bottom right</option>
          </select>
        </Field>
        <Field label="Output file (optional)">
          <input value={output} placeholder="default: output folder" onChange={(e) => setOutput(e.target.value)} data-testid="export-output" />
        </Field>
        {host.kind === 'electron' ? (
          <button className="btn" onClick={() => void chooseOutput()}>
            Save as…
          </button>
        ) : null}
        <button className="btn primary" disabled={!ready} onClick={() => void addExport({ watermark: wm, ...(output ? { output } : {}) })} data-testid="add-export">
          Add to queue
        </button>
      </div>
      <p className="small muted">Metadata saying the video is AI-generated and an invisible watermark are always written; the label is your choice.</p>
    </section>
  );
}

function JobRow({ job, index, count }: { job: JobView; index: number; count: number }) {
  const jobAction = useStudio((s) => s.jobAction);
  const moveJob = useStudio((s) => s.moveJob);
  const openOutput = useStudio((s) => s.openOutput);
  const can = jobActions(job);
  const p = job.progress;
  return (
    <li className="job" data-testid="job" data-job-id={job.id} data-state={job.state}>
      <div>
        <div className="row">
          <strong>{job.title}</strong>
          <span className="badge">{job.kind}</span>
          <span className={`badge ${job.state}`} data-testid="job-state">{job.state}</span>
          {job.recoveries > 0 ? <span className="small muted">recovered {job.recoveries}×</span> : null}
        </div>
        {p ? (
          <div className="row" style={{ marginTop: 6 }}>
            <ProgressBar done={p.done} total={p.total} label={`${job.title} progress`} />
            <span className="small">{percent(p.done, p.total)}%</span>
            {job.state === 'running' ? <span className="small muted">{formatEta(p.etaSeconds) ?? 'estimating…'}</span> : null}
            {p.message ? <span className="small muted">{p.message}</span> : null}
          </div>
        ) : null}
        {job.error ? <p className="small" style={{ color: 'var(--danger)', margin: '6px 0 0' }}>{job.error.message}</p> : null}
        {job.output && job.state === 'done' ? <p className="small mono muted" style={{ margin: '6px 0 0' }}>{job.output}</p> : null}
      </div>
      <div className="actions">
        <button className="btn" disabled={index === 0} onClick={() => void moveJob(job.id, index - 1)} aria-label="Move up">↑</button>
        <button className="btn" disabled={index === count - 1} onClick={() => void moveJob(job.id, index + 1)} aria-label="Move down">↓</button>
        {can.pause ? <button className="btn" onClick={() => void jobAction(job.id, 'pause')}>Pause</button> : null}
        {can.resume ? <button className="btn" onClick={() => void jobAction(job.id, 'resume')}>Resume</button> : null}
        {can.retry ? <button className="btn" onClick={() => void jobAction(job.id, 'retry')}>Retry</button> : null}
        {can.cancel ? <button className="btn danger" onClick={() => void jobAction(job.id, 'cancel')}>Cancel</button> : null}
        {can.open ? <button className="btn primary" onClick={() => void openOutput(job.id)} data-testid="open-output">Open</button> : null}
        {can.remove ? <button className="btn" onClick={() => void jobAction(job.id, 'remove')}>Remove</button> : null}
      </div>
    </li>
  );
}

export function QueueScreen() {
  const jobs = useStudio((s) => s.jobs);
  return (
    <div data-testid="screen-queue">
      <h1 className="screen-title">Export queue</h1>
      <AddExport />
      <section className="panel">
        <h2>Jobs</h2>
        {jobs.length === 0 ? (
          <Empty title="No jobs yet" testId="queue-empty">
            <p>Exports you add run one at a time, in this order. They keep going if you close the app, and pick up where they stopped.</p>
          </Empty>
        ) : (
          <ul className="job-list" data-testid="job-list">
            {jobs.map((j, i) => <JobRow key={j.id} job={j} index={i} count={jobs.length} />)}
          </ul>
        )}
      </section>
    </div>
  );
}
