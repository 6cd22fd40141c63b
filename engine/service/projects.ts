// Projects are files: <folder>/project.refree.json holds the portrait (path + crop box), the speech
// (path + trim range) and the generation settings. Written atomically; the project's folder is an
// allowed media root, and imported media are copied into its media/ subfolder so a project moves
// as one folder.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeJsonAtomic } from '../jobs/atomic-write.js';
import type { Project } from './contract.js';
import { DEFAULT_GENERATION, ProjectSchema } from './contract.js';
import { describeZodError, ServiceError } from './errors.js';

export const PROJECT_FILE = 'project.refree.json';
const RECENT_MAX = 20;

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'project';
}

export class ProjectStore {
  constructor(private readonly dataDir: string) {}

  private get recentFile(): string {
    return path.join(this.dataDir, 'recent-projects.json');
  }

  async create(name: string, folder?: string): Promise<Project> {
    const id = `${slug(name)}-${randomBytes(3).toString('hex')}`;
    const dir = folder ?? path.join(this.dataDir, 'projects', id);
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, PROJECT_FILE);
    const exists = await stat(file).then(() => true, () => false);
    if (exists) throw new ServiceError('conflict', `${dir} already holds a project; open it instead, or choose another folder.`);
    const project: Project = { version: 1, id, name, path: file, portrait: null, audio: null, settings: { ...DEFAULT_GENERATION }, updatedAt: new Date().toISOString() };
    await writeJsonAtomic(file, project);
    await this.remember(project);
    return project;
  }

  async open(p: string): Promise<Project> {
    const file = p.endsWith('.json') ? p : path.join(p, PROJECT_FILE);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ServiceError('not-found', `There is no project at ${file}.`);
      throw new ServiceError('bad-input', `${file} is not a readable project file (${(e as Error).message}).`);
    }
    const r = ProjectSchema.safeParse({ ...(json as object), path: path.resolve(file) });
    if (!r.success) throw new ServiceError('bad-input', describeZodError(r.error, `The project file ${file}`));
    await this.remember(r.data);
    return r.data;
  }

  async save(project: Project): Promise<Project> {
    if (path.basename(project.path) !== PROJECT_FILE) throw new ServiceError('bad-input', `A project file must be named ${PROJECT_FILE}; got ${project.path}.`);
    const next = { ...project, updatedAt: new Date().toISOString() };
    await mkdir(path.dirname(project.path), { recursive: true });
    await writeJsonAtomic(project.path, next);
    await this.remember(next);
    return next;
  }

  async recent(): Promise<{ path: string; name: string; updatedAt: string }[]> {
    try {
      const list = JSON.parse(await readFile(this.recentFile, 'utf8')) as { path: string; name: string; updatedAt: string }[];
      return Array.isArray(list) ? list : [];
    } catch {
      return [];
    }
  }

  private async remember(p: Project): Promise<void> {
    const list = (await this.recent()).filter((r) => r.path !== p.path);
    list.unshift({ path: p.path, name: p.name, updatedAt: p.updatedAt });
    await writeJsonAtomic(this.recentFile, list.slice(0, RECENT_MAX));
  }
}
