// Generate: settings, a cheap preview of the first seconds with live frames, progress, ETA and
// cancel; the finished preview plays with its audio (one <video> element, so sound stays in sync).
// A cancelled or failed preview leaves the last good one on screen. Export is queued from here too.
import { useState } from 'react';
import { Empty, Field, ProgressBar } from '../../components/common.js';
import { useHost } from '../../host/host-context.js';
import { formatEta, percent } from '../../lib/format.js';
import { statusLine, STATE_LABEL } from '../../lib/job-status.js';
import { validateSettings } from '../../lib/validate-settings.js';
import { useStudio } from '../../store/store.js';
import { ExportPanel } from './ExportPanel.js';
import { SettingsForm } from './SettingsForm.js';

const NO_FRAMES: string[] = [];

export function GenerateScreen() {
  const host = useHost();
  const project = useStudio((s) => s.project);
  // The preview asked for in this session, else this project's latest (after a reload).
  const previewJobId = useStudio((s) => s.previewJobId ?? s.jobs.filter((j) => j.kind === 'preview' && s.project && j.title === `Preview · ${s.project.name}`).at(-1)?.id ?? null);
  const job = useStudio((s) => s.jobs.find((j) => j.id === previewJobId) ?? null);
  const lastGood = useStudio((s) => s.jobs.filter((j) => j.kind === 'preview' && j.state === 'done' && j.outputUrl && s.project && j.title === `Preview · ${s.project.name}`).at(-1) ?? null);
  const frames = useStudio((s) => (previewJobId ? (s.frames[previewJobId] ?? NO_FRAMES) : NO_FRAMES));
  const startPreview = useStudio((s) => s.startPreview);
  const jobAction = useStudio((s) => s.jobAction);
  const setScreen = useStudio((s) => s.setScreen);
  const [seconds, setSeconds] = useState(3);

  const ready = Boolean(project?.portrait && project.audio);
  const invalid = project ? Object.keys(validateSettings(project.settings)).length > 0 : false;
  const running = job?.state === 'running' || job?.state === 'queued';
  const video = host.mediaUrl(job?.state === 'done' ? job.outputUrl : (lastGood?.outputUrl ?? null));
  const live = host.mediaUrl(job?.previewUrl ?? null);

  return (
    <div data-testid="screen-generate">
      <h1 className="screen-title">Generate</h1>
      {!ready ? (
        <Empty title="Add a portrait and speech first" testId="generate-empty">
          <p>The preview needs both. <button className="btn" onClick={() => setScreen('project')}>Go to Project</button></p>
        </Empty>
      ) : (
        <>
          <section className="panel">
            <h2>Settings</h2>
            <SettingsForm />
          </section>
          <section className="panel">
            <h2>Preview</h2>
            <div className="row">
              <Field label="Seconds">
                <input type="number" min={1} max={30} value={seconds} onChange={(e) => setSeconds(Number(e.target.value))} data-testid="preview-seconds" />
              </Field>
              <button className="btn primary" disabled={running || invalid} onClick={() => void startPreview(seconds)} data-testid="generate-preview">
                Generate preview
              </button>
              {invalid ? <span className="small warning">Fix the settings above first.</span> : null}
              {job && running ? (
                <button className="btn" onClick={() => void jobAction(job.id, 'cancel')} data-testid="cancel-preview">
                  Cancel
                </button>
              ) : null}
            </div>
            {job ? (
              <div style={{ marginTop: 12 }} data-testid="preview-status">
                <div className="row">
                  <span className={`badge ${job.state}`} data-testid="preview-state" data-state={job.state}>
                    {STATE_LABEL[job.state]}
                  </span>
                  {job.progress && running ? (
                    <>
                      <ProgressBar done={job.progress.done} total={job.progress.total} label="Preview progress" />
                      <span className="small">{percent(job.progress.done, job.progress.total)}%</span>
                      <span className="small muted">{formatEta(job.progress.etaSeconds) ?? 'estimating…'}</span>
                    </>
                  ) : null}
                  {statusLine(job) !== STATE_LABEL[job.state] ? (
                    <span className={`small ${job.state === 'failed' ? 'error-text' : 'muted'}`} data-testid="preview-line">
                      {statusLine(job)}
                    </span>
                  ) : null}
                </div>
                {job.state !== 'done' && lastGood && video ? <p className="small muted">Showing the previous preview.</p> : null}
              </div>
            ) : previewJobId ? null : (
              <p className="muted">A preview renders the first seconds of the trimmed speech at low cost, so you can check the crop and settings before a full export.</p>
            )}
            {running && (live || frames.length > 0) ? (
              <div className="frames" data-testid="live-frames" style={{ marginTop: 12 }}>
                {(frames.length ? frames.map((f) => host.mediaUrl(f) ?? f) : [live!]).map((f, i) => (
                  <img key={`${f}-${i}`} src={f} alt={`Frame ${i + 1}`} />
                ))}
              </div>
            ) : null}
            {video ? (
              <div style={{ marginTop: 12 }}>
                <video src={video} controls data-testid="preview-video" />
              </div>
            ) : null}
          </section>
          <ExportPanel />
        </>
      )}
    </div>
  );
}
