import { useState } from 'react';
import { useStudio } from '../../store/store.js';
import { PortraitPanel } from './PortraitPanel.js';
import { SpeechPanel } from './SpeechPanel.js';

export function ProjectScreen() {
  const project = useStudio((s) => s.project);
  const busy = useStudio((s) => s.busy);
  const newProject = useStudio((s) => s.newProject);
  const recent = useStudio((s) => s.recent);
  const openProject = useStudio((s) => s.openProject);
  const [name, setName] = useState('My talking head');
  return (
    <div data-testid="screen-project">
      <h1 className="screen-title">Project {project ? <span className="muted">— {project.name}</span> : null}</h1>
      {busy ? (
        <p className="muted" aria-live="polite" data-testid="busy">
          {busy}…
        </p>
      ) : null}
      {!project ? (
        <div className="panel">
          <h2>Start a project</h2>
          <p className="muted">A project holds a portrait, a speech recording, its trim and your generation settings. Importing a file also starts one.</p>
          <form
            className="row"
            onSubmit={(e) => {
              e.preventDefault();
              void newProject(name);
            }}
          >
            <input aria-label="Project name" value={name} onChange={(e) => setName(e.target.value)} style={{ padding: 6 }} />
            <button className="btn primary" type="submit" data-testid="new-project">
              New project
            </button>
          </form>
          {recent.length > 0 ? (
            <>
              <h2 style={{ marginTop: 16 }}>Recent projects</h2>
              <ul className="job-list" data-testid="recent-projects">
                {recent.map((r) => (
                  <li className="job" key={r.path}>
                    <div>
                      <strong>{r.name}</strong>
                      <div className="small muted mono">{r.path}</div>
                    </div>
                    <div className="actions">
                      <button className="btn" onClick={() => void openProject(r.path)}>
                        Open
                      </button>
                    </div>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </div>
      ) : null}
      <div className="grid-2">
        <PortraitPanel />
        <SpeechPanel />
      </div>
    </div>
  );
}
