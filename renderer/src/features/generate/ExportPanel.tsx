// Export from where the preview is: a summary of what will be made (size, length, frames, model,
// estimated time), the output file (a save dialog in Electron, a name in the output folder otherwise),
// the watermark label, where it renders (this computer's queue, or the render farm when one is set up
// in Settings), and one button that queues it.
import { useEffect, useState } from 'react';
import type { WatermarkOptions } from '../../../../engine/service/contract.js';
import { Field } from '../../components/common.js';
import { useHost } from '../../host/host-context.js';
import { formatClock, formatEta } from '../../lib/format.js';
import { validateSettings } from '../../lib/validate-settings.js';
import { useStudio } from '../../store/store.js';

const FALLBACK_WATERMARK: WatermarkOptions = { visible: true, text: 'AI-generated', position: 'bottom-right' };
/** Square sizes the models make (multiples of 16 within the contract's 64–1280). */
const PRESETS: { size: number; label: string }[] = [
  { size: 256, label: '256 · quick' },
  { size: 512, label: '512' },
  { size: 704, label: '704' },
  { size: 1024, label: '1024 · slow' },
];

export function ExportPanel() {
  const host = useHost();
  const project = useStudio((s) => s.project);
  const summary = useStudio((s) => s.summary);
  const loadSummary = useStudio((s) => s.loadSummary);
  const defaults = useStudio((s) => s.settings?.watermark ?? FALLBACK_WATERMARK);
  const addExport = useStudio((s) => s.addExport);
  const setScreen = useStudio((s) => s.setScreen);
  const setGeneration = useStudio((s) => s.setGeneration);
  const save = useStudio((s) => s.save);
  const report = useStudio((s) => s.report);
  const farm = useStudio((s) => s.settings?.farm ?? null);
  const farmReady = Boolean(farm?.redisUrl && farm.sharedFolder);
  const [target, setTarget] = useState<'local' | 'farm'>('local');
  const [wm, setWm] = useState<WatermarkOptions>(defaults);
  const [output, setOutput] = useState('');
  const [queued, setQueued] = useState<string | null>(null);
  useEffect(() => setWm(defaults), [defaults]);
  const invalid = project ? Object.keys(validateSettings(project.settings)).length > 0 : false;
  // The summary follows the settings and the trim (debounced: a drag changes them many times).
  const key = JSON.stringify([project?.settings, project?.audio]);
  useEffect(() => {
    const t = setTimeout(() => void loadSummary(), 300);
    return () => clearTimeout(t);
  }, [key, loadSummary]);
  useEffect(() => {
    if (summary && !output && target === 'local') setOutput(summary.defaultOutput);
  }, [summary, output, target]);
  const chooseOutput = async () => {
    const p = await host.saveDialog(output || summary?.defaultOutput || 'refree-export.mp4');
    if (p) setOutput(p);
  };
  const toFarm = async (file: string): Promise<boolean> => {
    const saved = await save();
    if (!saved) return false;
    try {
      await host.call('farm.export', { project: saved, watermark: wm, ...(file ? { output: file } : {}) });
      return true;
    } catch (e) {
      report(e);
      return false;
    }
  };
  const go = async () => {
    const file = output.trim();
    if (target === 'farm' ? await toFarm(file) : await addExport({ watermark: wm, ...(file ? { output: file } : {}) })) {
      setQueued(file || (target === 'farm' ? 'the shared folder’s outputs folder' : 'the output folder'));
      setOutput('');
    }
  };
  return (
    <section className="panel" data-testid="export-panel">
      <h2>Export</h2>
      {summary ? (
        <dl className="summary" data-testid="export-summary">
          <dt>Size</dt>
          <dd>
            {summary.width}×{summary.height} pixels
          </dd>
          <dt>Length</dt>
          <dd>
            {formatClock(summary.seconds)} ({summary.frames} frames at {summary.fps} fps)
          </dd>
          <dt>Model</dt>
          <dd>
            {summary.model}, {summary.steps} steps
          </dd>
          <dt>Time</dt>
          <dd>{summary.estimatedSeconds === null ? 'estimated after your first export' : (formatEta(summary.estimatedSeconds) ?? '—')}</dd>
        </dl>
      ) : (
        <p className="muted">Working out what the export will be…</p>
      )}
      <div className="row" style={{ marginTop: 8 }} role="group" aria-label="Size presets" data-testid="size-presets">
        <span className="small muted">Size</span>
        {PRESETS.map((p) => (
          <button
            key={p.size}
            className={`btn${project?.settings.width === p.size && project.settings.height === p.size ? ' primary' : ''}`}
            aria-pressed={project?.settings.width === p.size && project.settings.height === p.size}
            onClick={() => setGeneration({ width: p.size, height: p.size })}
          >
            {p.label}
          </button>
        ))}
      </div>
      <div className="row" style={{ marginTop: 8 }}>
        <Field label="Render on">
          <select
            value={target}
            onChange={(e) => {
              const t = e.target.value as 'local' | 'farm';
              setTarget(t);
              // The farm writes inside its shared folder: start from its default there.
              setOutput(t === 'farm' ? '' : (summary?.defaultOutput ?? ''));
            }}
            data-testid="export-target"
          >
            <option value="local">this computer</option>
            <option value="farm" disabled={!farmReady}>
              render farm{farmReady ? '' : ' (set it up in Settings)'}
            </option>
          </select>
        </Field>
        <Field label="Output file">
          <input value={output} placeholder={target === 'farm' ? `${farm?.sharedFolder ?? ''}/outputs/…` : undefined} onChange={(e) => setOutput(e.target.value)} style={{ minWidth: 380 }} data-testid="export-file" />
        </Field>
        {host.kind === 'electron' ? (
          <button className="btn" onClick={() => void chooseOutput()}>
            Save as…
          </button>
        ) : null}
        <Field label="Visible label">
          <input type="checkbox" checked={wm.visible} onChange={(e) => setWm({ ...wm, visible: e.target.checked })} data-testid="export-wm-visible" />
        </Field>
        <Field label="Label text">
          <input value={wm.text} onChange={(e) => setWm({ ...wm, text: e.target.value })} data-testid="export-wm-text" />
        </Field>
        <button className="btn primary" disabled={invalid} onClick={() => void go()} data-testid="export-now">
          Export
        </button>
        {invalid ? <span className="small warning">Fix the settings above first.</span> : null}
      </div>
      {queued ? (
        <p className="small" role="status" data-testid="export-queued">
          Queued{target === 'farm' ? ' on the render farm' : ''}: {queued}.{' '}
          <button className="btn" onClick={() => setScreen('queue')}>
            Show the queue
          </button>
        </p>
      ) : null}
      <p className="small muted">Metadata saying the video is AI-generated and an invisible watermark are always written; the visible label is your choice.</p>
    </section>
  );
}
