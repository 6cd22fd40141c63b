// The Project screen: with no project open, a start page (name the project, start it, try the sample,
// or open a recent one); with one open, its bar (rename, new, open, duplicate, delete), the portrait
// and speech panels and the media bin. A file pasted anywhere on the screen goes to the right panel.
import { useEffect } from 'react';
import { fileKind } from '../../lib/limits.js';
import { useStudio } from '../../store/store.js';
import { MediaBin } from './MediaBin.js';
import { OpenByPath, ProjectBar, RecentList } from './ProjectBar.js';
import { PortraitPanel } from './PortraitPanel.js';
import { SpeechPanel } from './SpeechPanel.js';

function StartPage() {
  const name = useStudio((s) => s.draftName);
  const setName = useStudio((s) => s.setDraftName);
  const newProject = useStudio((s) => s.newProject);
  const trySample = useStudio((s) => s.trySample);
  const recent = useStudio((s) => s.recent);
  const openProject = useStudio((s) => s.openProject);
  return (
    <div className="panel" data-testid="start-page">
      <h2>Start a project</h2>
      <p className="muted">A project holds a portrait, a speech recording, its trim and your generation settings. Choosing or dropping a file below also starts one, with this name.</p>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void newProject(name);
        }}
      >
        <input aria-label="Project name" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} style={{ padding: 6, minWidth: 260 }} data-testid="new-project-name" />
        <button className="btn primary" type="submit" data-testid="new-project">
          New project
        </button>
        <span className="muted">or</span>
        <button className="btn" type="button" onClick={() => void trySample()} data-testid="try-sample">
          Try the sample
        </button>
      </form>
      {recent.length > 0 ? (
        <>
          <h2 style={{ marginTop: 16 }}>Recent projects</h2>
          <RecentList items={recent} onOpen={(p) => void openProject(p)} />
        </>
      ) : null}
      <details style={{ marginTop: 12 }}>
        <summary className="small muted">Open a project from a folder</summary>
        <OpenByPath />
      </details>
    </div>
  );
}

export function ProjectScreen() {
  const project = useStudio((s) => s.project);
  const busy = useStudio((s) => s.busy);
  const importFile = useStudio((s) => s.importFile);
  const report = useStudio((s) => s.report);

  // Paste anywhere on this screen: a picture becomes the portrait, a sound file the speech.
  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      if (e.defaultPrevented) return;
      const file = e.clipboardData?.files[0];
      if (!file) return;
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA')) return;
      e.preventDefault();
      const kind = fileKind(file);
      if (kind) void importFile(file, kind);
      else report(new Error(`${file.name || 'The pasted item'} is neither a picture nor a sound file; paste a portrait photo or a speech recording.`));
    };
    window.addEventListener('paste', onPaste);
    return () => window.removeEventListener('paste', onPaste);
  }, [importFile, report]);

  return (
    <div data-testid="screen-project">
      <h1 className="screen-title">Project {project ? <span className="muted" data-testid="project-title">— {project.name}</span> : null}</h1>
      {busy ? (
        <p className="muted" aria-live="polite" data-testid="busy">
          {busy}…
        </p>
      ) : null}
      {project ? <ProjectBar /> : <StartPage />}
      <div className="grid-2">
        <PortraitPanel />
        <SpeechPanel />
      </div>
      {project ? <MediaBin /> : null}
    </div>
  );
}
