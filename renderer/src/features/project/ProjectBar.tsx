// The open project's bar: its name (edit and press Enter, or leave the field, to rename), New, Open
// (recent projects, or a project folder by path), Duplicate and Delete (to the studio's trash, after
// a confirmation).
import { useEffect, useState } from 'react';
import { FolderPicker } from '../../components/FolderPicker.js';
import { errorMessage } from '../../host/host.js';
import { useStudio } from '../../store/store.js';

export function ProjectBar() {
  const project = useStudio((s) => s.project);
  const recent = useStudio((s) => s.recent);
  const rename = useStudio((s) => s.renameProject);
  const duplicate = useStudio((s) => s.duplicateProject);
  const remove = useStudio((s) => s.deleteProject);
  const close = useStudio((s) => s.closeProject);
  const open = useStudio((s) => s.openProject);
  const [name, setName] = useState(project?.name ?? '');
  const [menu, setMenu] = useState<'none' | 'open' | 'delete'>('none');
  useEffect(() => setName(project?.name ?? ''), [project?.name]);
  if (!project) return null;
  const commit = () => {
    if (name.trim() && name.trim() !== project.name) void rename(name);
    else setName(project.name);
  };
  return (
    <section className="panel project-bar" data-testid="project-bar">
      <div className="row">
        <label className="small muted" htmlFor="project-name">
          Project
        </label>
        <input
          id="project-name"
          className="project-name"
          value={name}
          maxLength={200}
          onChange={(e) => setName(e.target.value)}
          onBlur={commit}
          onKeyDown={(e) => {
            if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
            if (e.key === 'Escape') setName(project.name);
          }}
          data-testid="project-name"
        />
        <div className="spacer" />
        <button className="btn" onClick={close} data-testid="project-new">
          New
        </button>
        <button className="btn" onClick={() => setMenu(menu === 'open' ? 'none' : 'open')} aria-expanded={menu === 'open'} data-testid="project-open">
          Open…
        </button>
        <button className="btn" onClick={() => void duplicate()} data-testid="project-duplicate">
          Duplicate
        </button>
        <button className="btn danger" onClick={() => setMenu('delete')} data-testid="project-delete">
          Delete
        </button>
      </div>
      {menu === 'delete' ? (
        <div className="row confirm" role="alertdialog" aria-label="Delete the project?" data-testid="delete-confirm">
          <span>
            Move “{project.name}” to the studio’s trash folder? Its media go with it; nothing is erased, and it can be moved back by hand.
          </span>
          <button
            className="btn danger"
            onClick={() => {
              setMenu('none');
              void remove();
            }}
            data-testid="delete-confirm-yes"
          >
            Move to trash
          </button>
          <button className="btn" onClick={() => setMenu('none')}>
            Keep it
          </button>
        </div>
      ) : null}
      {menu === 'open' ? (
        <div style={{ marginTop: 8 }} data-testid="open-menu">
          <RecentList
            items={recent.filter((r) => r.path !== project.path)}
            onOpen={(p) => {
              setMenu('none');
              void open(p);
            }}
          />
          <OpenByPath onDone={() => setMenu('none')} />
        </div>
      ) : null}
    </section>
  );
}

export function RecentList({ items, onOpen }: { items: { path: string; name: string; updatedAt: string }[]; onOpen: (path: string) => void }) {
  if (items.length === 0) return <p className="small muted">No other recent projects.</p>;
  return (
    <ul className="job-list" data-testid="recent-projects">
      {items.map((r) => (
        <li className="job" key={r.path} data-testid="recent-project">
          <div>
            <strong>{r.name}</strong>
            <div className="small muted">Last changed {new Date(r.updatedAt).toLocaleString()}</div>
          </div>
          <div className="actions">
            <button className="btn" onClick={() => onOpen(r.path)} aria-label={`Open ${r.name}`}>
              Open
            </button>
          </div>
        </li>
      ))}
    </ul>
  );
}

/** A project folder elsewhere (a copied or older project): opened by its path. */
export function OpenByPath({ onDone }: { onDone?: () => void }) {
  const open = useStudio((s) => s.openProject);
  return (
    <div style={{ marginTop: 8 }}>
      <FolderPicker
        label="A project folder (or its project.refree.json)"
        testId="open-project"
        button="Open"
        onChoose={async (p) => {
          try {
            await open(p);
            onDone?.();
            return null;
          } catch (e) {
            return errorMessage(e);
          }
        }}
      />
    </div>
  );
}
