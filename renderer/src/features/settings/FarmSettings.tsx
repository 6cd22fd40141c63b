// Settings → Render farm: where the farm's Redis is (URL, password, TLS) and where this computer mounts
// the folder every farm machine shares. "Test connection" checks the values in the form before they
// are saved (Redis answers and takes the password; the shared folder exists here and can be written).
import { useEffect, useState } from 'react';
import type { FarmSettings as Farm } from '../../../../engine/service/contract.js';
import { Field } from '../../components/common.js';
import { errorMessage } from '../../host/host.js';
import { useHost } from '../../host/host-context.js';
import { useStudio } from '../../store/store.js';

const EMPTY: Farm = { redisUrl: '', password: '', tls: false, sharedFolder: '' };

export function FarmSettings() {
  const host = useHost();
  const saved = useStudio((s) => s.settings?.farm ?? null);
  const updateSettings = useStudio((s) => s.updateSettings);
  const [form, setForm] = useState<Farm>(saved ?? EMPTY);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setForm(saved ?? EMPTY), [saved]);
  const edit = (patch: Partial<Farm>) => {
    setForm({ ...form, ...patch });
    setResult(null);
  };
  const test = async () => {
    setBusy(true);
    try {
      const r = await host.call('farm.test', { farm: form });
      setResult({ ok: true, text: r.summary });
    } catch (e) {
      setResult({ ok: false, text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  };
  const save = async () => {
    const problem = await updateSettings({ farm: form });
    setResult(problem ? { ok: false, text: problem } : { ok: true, text: 'Saved.' });
  };
  const changed = JSON.stringify(form) !== JSON.stringify(saved ?? EMPTY);
  return (
    <section className="panel" data-testid="farm-settings">
      <h2>Render farm</h2>
      <p className="small muted">Send exports to other machines: each runs <span className="mono">refree farm worker</span> for its GPUs, and every machine mounts the same shared folder.</p>
      <div className="row">
        <Field label="Redis URL">
          <input value={form.redisUrl} placeholder="redis://farm-host:6379" onChange={(e) => edit({ redisUrl: e.target.value })} style={{ minWidth: 260 }} data-testid="farm-redis-url" />
        </Field>
        <Field label="Password">
          <input type="password" value={form.password} autoComplete="off" onChange={(e) => edit({ password: e.target.value })} data-testid="farm-password" />
        </Field>
        <Field label="TLS">
          <input type="checkbox" checked={form.tls} onChange={(e) => edit({ tls: e.target.checked })} data-testid="farm-tls" />
        </Field>
      </div>
      <div className="row" style={{ marginTop: 8 }}>
        <Field label="Shared folder (where this computer mounts it)">
          <input value={form.sharedFolder} placeholder="/mnt/farm" onChange={(e) => edit({ sharedFolder: e.target.value })} style={{ minWidth: 380 }} data-testid="farm-shared-folder" />
        </Field>
      </div>
      <div className="row" style={{ marginTop: 8 }}>
        <button className="btn" disabled={busy || !form.redisUrl} onClick={() => void test()} data-testid="farm-test">
          {busy ? 'Testing…' : 'Test connection'}
        </button>
        <button className="btn primary" disabled={!changed} onClick={() => void save()} data-testid="farm-save">
          Save
        </button>
        {result ? (
          <span className={`small ${result.ok ? 'ok-text' : 'error-text'}`} role="status" data-testid="farm-test-result">
            {result.text}
          </span>
        ) : null}
      </div>
    </section>
  );
}
