// Settings: model packages (import, verify, remove), backend and GPU info, output folder, watermark
// defaults, theme, and the render farm.
import { useEffect } from 'react';
import type { Settings } from '../../../../engine/service/contract.js';
import { Empty, Field, ProgressBar } from '../../components/common.js';
import { FolderPicker } from '../../components/FolderPicker.js';
import { formatBytes } from '../../lib/format.js';
import { useStudio } from '../../store/store.js';
import { FarmSettings } from './FarmSettings.js';

function Models() {
  const models = useStudio((s) => s.models);
  const verify = useStudio((s) => s.verify);
  const progress = useStudio((s) => s.modelProgress);
  const importModel = useStudio((s) => s.importModel);
  const verifyModel = useStudio((s) => s.verifyModel);
  const removeModel = useStudio((s) => s.removeModel);
  return (
    <section className="panel" data-testid="models">
      <h2>Model packages</h2>
      {models.length === 0 ? <Empty title="No imported model packages">Previews and exports use the built-in demo model, refree-mini, until you import one.</Empty> : null}
      <ul className="job-list">
        {models.map((m) => {
          const v = verify[m.name];
          return (
            <li className="job" key={m.name}>
              <div>
                <div className="row">
                  <strong>{m.name}</strong>
                  <span className="badge">{m.architecture}</span>
                  {m.builtIn ? <span className="badge">built-in</span> : null}
                  {v ? <span className={`badge ${v.ok ? 'done' : 'failed'}`}>{v.ok ? 'verified' : 'problems'}</span> : null}
                </div>
                <p className="small muted" style={{ margin: '4px 0 0' }}>
                  {m.files} files, {formatBytes(m.bytes)} · <span className="mono">{m.path}</span>
                </p>
                {v && !v.ok ? <ul className="small">{v.problems.map((p) => <li key={p}>{p}</li>)}</ul> : null}
              </div>
              <div className="actions">
                <button className="btn" onClick={() => void verifyModel(m.name)}>Verify</button>
                {!m.builtIn ? <button className="btn danger" onClick={() => void removeModel(m.name)}>Remove</button> : null}
              </div>
            </li>
          );
        })}
      </ul>
      {progress ? (
        <div className="row" style={{ marginTop: 8 }}>
          <span className="small">{progress.action === 'import' ? 'Importing' : 'Verifying'} {progress.name}: {progress.file}</span>
          <ProgressBar done={progress.done} total={progress.total} label="Model progress" />
        </div>
      ) : null}
      <h3 style={{ fontSize: 'var(--text-md)' }}>Import a downloaded Wan2.2 folder</h3>
      <FolderPicker label="The downloaded folder" onChoose={(p) => void importModel(p)} testId="model" button="Import" />
    </section>
  );
}

function Device() {
  const device = useStudio((s) => s.device);
  const engine = useStudio((s) => s.engine);
  const refresh = useStudio((s) => s.refreshDevice);
  useEffect(() => {
    void refresh();
  }, [refresh]);
  return (
    <section className="panel" data-testid="device">
      <h2>Backend and GPU</h2>
      <table className="kv">
        <tbody>
          <tr><td className="muted">Engine</td><td>{device?.engine.state ?? engine.state}{device?.engine.pid ? ` (pid ${device.engine.pid})` : ''}</td></tr>
          {(device?.backends ?? []).map((b) => (
            <tr key={b.backend}><td className="muted">{b.backend}</td><td>{b.usable ? 'usable' : `not usable${b.reason ? `: ${b.reason}` : ''}`}</td></tr>
          ))}
          {device && !device.backends ? <tr><td className="muted">Backends</td><td>{device.backendsNote ?? 'not probed yet'}</td></tr> : null}
          {(device?.gpus ?? []).map((g, i) => (
            <tr key={i}><td className="muted">GPU {i}</td><td>{g.name} · {g.memoryUsedMiB} / {g.memoryTotalMiB} MiB used</td></tr>
          ))}
          {device && device.gpus.length === 0 ? <tr><td className="muted">GPU</td><td>{device.gpuNote ?? 'none found'}</td></tr> : null}
        </tbody>
      </table>
      <button className="btn" onClick={() => void refresh()} style={{ marginTop: 8 }}>Refresh</button>
    </section>
  );
}

function Preferences() {
  const settings = useStudio((s) => s.settings);
  const updateSettings = useStudio((s) => s.updateSettings);
  const report = useStudio((s) => s.report);
  const setTheme = useStudio((s) => s.setTheme);
  const update = async (patch: Partial<Settings>) => {
    const problem = await updateSettings(patch);
    if (problem) report(new Error(problem));
  };
  if (!settings) return <section className="panel"><h2>Preferences</h2><p className="muted">Loading settings…</p></section>;
  const wm = settings.watermark;
  return (
    <section className="panel" data-testid="preferences">
      <h2>Preferences</h2>
      <div className="row">
        <Field label="Backend">
          <select value={settings.backend} onChange={(e) => void update({ backend: e.target.value as Settings['backend'] })}>
            <option value="auto">automatic</option>
            <option value="cuda">CUDA</option>
            <option value="webgpu">WebGPU</option>
            <option value="cpu">CPU</option>
          </select>
        </Field>
        <Field label="Theme">
          <select
            value={settings.theme}
            data-testid="theme"
            onChange={(e) => {
              const theme = e.target.value as Settings['theme'];
              if (theme !== 'system') setTheme(theme);
              void update({ theme });
            }}
          >
            <option value="system">system</option>
            <option value="dark">dark</option>
            <option value="light">light</option>
          </select>
        </Field>
      </div>
      <div style={{ marginTop: 12 }}>
        {/* Checked when chosen: a missing or read-only folder is said here, not by a failed export later. */}
        <FolderPicker key={settings.outputFolder} label="Output folder" value={settings.outputFolder} onChoose={(p) => updateSettings({ outputFolder: p })} testId="output-folder" button="Save" />
      </div>
      <h3 style={{ fontSize: 'var(--text-md)' }}>Watermark defaults</h3>
      <div className="row">
        <Field label="Visible label">
          <input type="checkbox" checked={wm.visible} onChange={(e) => void update({ watermark: { ...wm, visible: e.target.checked } })} />
        </Field>
        <Field label="Label text">
          <input defaultValue={wm.text} onBlur={(e) => e.target.value && e.target.value !== wm.text && void update({ watermark: { ...wm, text: e.target.value } })} />
        </Field>
        <Field label="Position">
          <select value={wm.position} onChange={(e) => void update({ watermark: { ...wm, position: e.target.value as typeof wm.position } })}>
            <option value="top-left">top left</option>
            <option value="top-right">top right</option>
            <option value="bottom-left">bottom left</option>
            <option value="bottom-right">bottom right</option>
          </select>
        </Field>
      </div>
    </section>
  );
}

export function SettingsScreen() {
  return (
    <div data-testid="screen-settings">
      <h1 className="screen-title">Settings</h1>
      <Preferences />
      <Device />
      <Models />
      <FarmSettings />
    </div>
  );
}
