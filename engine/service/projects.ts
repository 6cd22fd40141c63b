// Projects are files: <folder>/project.refree.json holds the portrait (path + crop box), the speech
// (path + trim range) and the generation settings. Written atomically; the project's folder is an
// allowed media root, and imported media are copied into its media/ subfolder so a project moves
// as one folder.
//
// A `project` parameter must name a project the studio knows — one it created, opened or listed as
// recent — so a call cannot make the service write media into an arbitrary folder.
import { randomBytes } from 'node:crypto';
import { cp, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeJsonAtomic } from '../common/atomic-write.js';
import type { Project } from './contract.js';
import { DEFAULT_GENERATION, ProjectSchema } from './contract.js';
import { describeZodError, ServiceError } from './errors.js';

export const PROJECT_FILE = 'project.refree.json';
const RECENT_MAX = 20;

export interface RecentProject {
  path: string;
  name: string;
  updatedAt: string;
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'project';
}

/** The project file for a path that names either the file or its folder. */
export function projectFile(p: string): string {
  return path.resolve(p.endsWith('.json') ? p : path.join(p, PROJECT_FILE));
}

export class ProjectStore {
  /** Project files created or opened in this session (the recent list adds the earlier ones). */
  private readonly known = new Set<string>();

  constructor(private readonly dataDir: string) {}

  private get recentFile(): string {
    return path.join(this.dataDir, 'recent-projects.json');
  }

  get trashDir(): string {
    return path.join(this.dataDir, 'trash');
  }

  async create(name: string, folder?: string): Promise<Project> {
    const id = `${slug(name)}-${randomBytes(3).toString('hex')}`;
    const dir = path.resolve(folder ?? path.join(this.dataDir, 'projects', id));
    const there = await stat(dir).catch(() => null);
    if (there && !there.isDirectory()) throw new ServiceError('bad-input', `${dir} is a file, not a folder; choose a folder for the project.`);
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, PROJECT_FILE);
    if (await stat(file).then(() => true, () => false)) throw new ServiceError('conflict', `${dir} already holds a project; open it instead, or choose another folder.`);
    const project: Project = { version: 1, id, name: name.trim(), path: file, portrait: null, audio: null, settings: { ...DEFAULT_GENERATION }, updatedAt: new Date().toISOString() };
    await writeJsonAtomic(file, project);
    await this.remember(project);
    return project;
  }

  async open(p: string): Promise<Project> {
    const file = projectFile(p);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new ServiceError('not-found', `There is no project at ${file}; choose the project's folder or its ${PROJECT_FILE}.`);
      if (code === 'EISDIR') throw new ServiceError('bad-input', `${file} is a folder, not a project file.`);
      throw new ServiceError('bad-input', `${file} is not a readable project file; it may be damaged (${e instanceof SyntaxError ? 'it is not valid JSON' : (e as Error).message}).`);
    }
    const r = ProjectSchema.safeParse({ ...(json as object), path: file });
    if (!r.success) throw new ServiceError('bad-input', describeZodError(r.error, `The project file ${file}`));
    await this.remember(r.data);
    return r.data;
  }

  /** The project file `p` names, when the studio knows that project; a sentence otherwise. */
  async requireKnown(p: string): Promise<string> {
    const file = projectFile(p);
    const known = this.known.has(file) || (await this.recent()).some((r) => r.path === file);
    if (!known) throw new ServiceError('not-found', `${file} is not a project the studio knows; open it first (Projects → Open).`);
    if (!(await stat(file).then((s) => s.isFile(), () => false))) throw new ServiceError('not-found', `The project ${file} no longer exists; it may have been moved or deleted.`);
    return file;
  }

  async save(project: Project): Promise<Project> {
    if (path.basename(project.path) !== PROJECT_FILE) throw new ServiceError('bad-input', `A project file must be named ${PROJECT_FILE}; got ${project.path}.`);
    await this.requireKnown(project.path);
    const next = { ...project, path: path.resolve(project.path), updatedAt: new Date().toISOString() };
    await writeJsonAtomic(next.path, next);
    await this.remember(next);
    return next;
  }

  async rename(p: string, name: string): Promise<Project> {
    const file = await this.requireKnown(p);
    const project = await this.open(file);
    return this.save({ ...project, name: name.trim() });
  }

  /** Copies the whole project folder (media included) next to the others, under a new id and name. */
  async duplicate(p: string, name?: string): Promise<Project> {
    const file = await this.requireKnown(p);
    const src = await this.open(file);
    const newName = (name ?? `${src.name} (copy)`).trim();
    const id = `${slug(newName)}-${randomBytes(3).toString('hex')}`;
    const dir = path.join(this.dataDir, 'projects', id);
    await mkdir(path.dirname(dir), { recursive: true });
    const tmp = path.join(path.dirname(dir), `.${id}.tmp`);
    await cp(path.dirname(file), tmp, { recursive: true, errorOnExist: true, force: false });
    await rename(tmp, dir);
    const moved = (m: string): string => {
      const rel = path.relative(path.dirname(file), m);
      return rel.startsWith('..') || path.isAbsolute(rel) ? m : path.join(dir, rel);
    };
    const copy: Project = {
      ...src,
      id,
      name: newName,
      path: path.join(dir, PROJECT_FILE),
      portrait: src.portrait ? { ...src.portrait, path: moved(src.portrait.path) } : null,
      audio: src.audio ? { ...src.audio, path: moved(src.audio.path) } : null,
      updatedAt: new Date().toISOString(),
    };
    await writeJsonAtomic(copy.path, copy);
    await this.remember(copy);
    return copy;
  }

  /** Moves the project's folder into <data>/trash (restorable by moving it back), and forgets it. */
  async delete(p: string): Promise<{ removed: string; trash: string }> {
    const file = await this.requireKnown(p);
    const project = await this.open(file);
    await mkdir(this.trashDir, { recursive: true });
    const dest = path.join(this.trashDir, `${project.id}-${Date.now()}`);
    try {
      await rename(path.dirname(file), dest);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
      // Another disk: copy, then move the original aside only once the copy is whole.
      await cp(path.dirname(file), dest, { recursive: true });
      await rm(path.dirname(file), { recursive: true, force: true });
    }
    this.known.delete(file);
    const list = (await this.recent()).filter((r) => r.path !== file);
    await writeJsonAtomic(this.recentFile, list);
    return { removed: file, trash: dest };
  }

  /** Recent projects whose files still exist, newest first. */
  async recent(): Promise<RecentProject[]> {
    let list: RecentProject[] = [];
    try {
      const raw = JSON.parse(await readFile(this.recentFile, 'utf8')) as unknown;
      if (Array.isArray(raw)) list = raw.filter((r): r is RecentProject => typeof r === 'object' && r !== null && typeof (r as RecentProject).path === 'string');
    } catch {
      return [];
    }
    const alive: RecentProject[] = [];
    for (const r of list) if (await stat(r.path).then((s) => s.isFile(), () => false)) alive.push(r);
    return alive;
  }

  private async remember(p: Project): Promise<void> {
    const file = path.resolve(p.path);
    this.known.add(file);
    const list = (await this.recent()).filter((r) => r.path !== file);
    list.unshift({ path: file, name: p.name, updatedAt: p.updatedAt });
    await writeJsonAtomic(this.recentFile, list.slice(0, RECENT_MAX));
  }
}
