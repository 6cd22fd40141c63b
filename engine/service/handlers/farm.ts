// farm.*: the render farm as the studio uses it (engine/farm). Settings → Render farm holds the Redis
// URL, password, TLS and this machine's mount of the shared folder. An export sent to the farm is the
// same job the local queue would run (generate.ts jobParams, the same checks); the project's portrait
// and speech are copied into the shared folder (<shared>/inputs/<project>/) so every worker can read
// them, and the output goes there too. Each call opens its own short connection: the studio holds
// nothing open to Redis between calls, so a farm that is down never slows the rest of the studio.
import { copyFile, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { FarmConnectionError, testConnection } from '../../farm/connection.js';
import type { FarmConnection } from '../../farm/connection.js';
import type { FarmJobView } from '../../farm/job-view.js';
import { FarmPayloadError } from '../../farm/payload.js';
import { FarmError, FarmQueue } from '../../farm/queue.js';
import { FarmPathError, sharedRoot, toSharedPath } from '../../farm/shared-folder.js';
import type { FarmJobRow, FarmSettings, FarmTestResult, Handlers, Project } from '../contract.js';
import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import { checkWritableFolder } from '../folder-check.js';
import { jobParams, slug } from './generate.js';

type FarmHandlers = Pick<Handlers, 'farm.test' | 'farm.export' | 'farm.jobs' | 'farm.pause' | 'farm.resume' | 'farm.cancel' | 'farm.retry' | 'farm.reorder' | 'farm.remove'>;

const stamp = (): string => new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');

const configured = (f: FarmSettings): boolean => f.redisUrl !== '' && f.sharedFolder !== '';

function connectionOf(f: FarmSettings): FarmConnection {
  return { url: f.redisUrl, password: f.password || null, tls: f.tls };
}

/** The farm's own errors as service errors (their messages are already sentences). */
function asServiceError(e: unknown): unknown {
  if (e instanceof FarmConnectionError) return new ServiceError('not-available', e.message);
  if (e instanceof FarmPathError || e instanceof FarmPayloadError) return new ServiceError('bad-input', e.message);
  if (e instanceof FarmError) return new ServiceError(e.code, e.message);
  return e;
}

function requireFarm(ctx: ServiceContext): FarmSettings {
  const f = ctx.settings.get().farm;
  if (!configured(f)) throw new ServiceError('bad-input', 'The render farm is not set up: enter its Redis URL and the shared folder in Settings → Render farm.');
  return f;
}

async function withQueue<T>(f: FarmSettings, fn: (q: FarmQueue) => Promise<T>): Promise<T> {
  let q: FarmQueue | null = null;
  try {
    q = await FarmQueue.open(connectionOf(f));
    return await fn(q);
  } catch (e) {
    throw asServiceError(e);
  } finally {
    await q?.close().catch(() => undefined);
  }
}

const row = (f: FarmSettings, j: FarmJobView): FarmJobRow => ({ ...j, outputPath: j.output ? path.join(f.sharedFolder, ...j.output.split('/')) : '' });

/** A project's file inside the shared folder: used where it is, else copied to <shared>/inputs/<project>/. */
async function intoShared(root: string, project: Project, file: string): Promise<string> {
  try {
    toSharedPath(root, file, 'The file');
    return file;
  } catch {
    const dir = path.join(root, 'inputs', project.id);
    await mkdir(dir, { recursive: true });
    const dest = path.join(dir, path.basename(file));
    // Imported media are content-addressed (the hash is in the name), so a file of the same name and size is the same file.
    const [a, b] = [await stat(file), await stat(dest).catch(() => null)];
    if (!b || b.size !== a.size) await copyFile(file, dest);
    return dest;
  }
}

export function farmHandlers(ctx: ServiceContext): FarmHandlers {
  const control = (action: 'pause' | 'resume' | 'cancel' | 'retry') => async ({ id }: { id: string }) => {
    const f = requireFarm(ctx);
    return row(f, await withQueue(f, (q) => q[action](id)));
  };
  return {
    'farm.test': async ({ farm }): Promise<FarmTestResult> => {
      const f = farm ?? ctx.settings.get().farm;
      if (!f.redisUrl) throw new ServiceError('bad-input', 'Enter the Redis URL of the render farm first (for example redis://farm-host:6379).');
      if (!f.sharedFolder) throw new ServiceError('bad-input', 'Enter where this computer mounts the farm’s shared folder first.');
      let root: string;
      try {
        root = sharedRoot(f.sharedFolder);
      } catch (e) {
        throw asServiceError(e);
      }
      await checkWritableFolder(root, 'The shared folder');
      try {
        const r = await testConnection(connectionOf(f));
        return { ...r, sharedFolder: root, summary: `Redis ${r.version} answers at ${r.address} (${r.pingMs} ms), and the shared folder ${root} can be written.` };
      } catch (e) {
        throw asServiceError(e);
      }
    },

    'farm.export': async ({ project, output, watermark }) => {
      const f = requireFarm(ctx);
      let root: string;
      try {
        root = sharedRoot(f.sharedFolder);
      } catch (e) {
        throw asServiceError(e);
      }
      const out = path.resolve(output ?? path.join(root, 'outputs', `${slug(project.name)}-${stamp()}.mp4`));
      if (!/\.(mp4|webm)$/i.test(out)) throw new ServiceError('bad-input', `The export file must end in .mp4 or .webm; got ${path.basename(out)}.`);
      try {
        toSharedPath(root, out, 'The export file');
      } catch (e) {
        throw asServiceError(e);
      }
      await mkdir(path.dirname(out), { recursive: true });
      await checkWritableFolder(path.dirname(out), 'The export folder');
      const params = await jobParams(ctx, project, 'export', null, out, watermark ?? ctx.settings.get().watermark);
      // Every worker has the built-in model; an imported package must be in the shared folder.
      const builtIn = (await ctx.models.list()).some((m) => m.builtIn && m.path === params.modelPath);
      if (params.modelPath && !builtIn) {
        try {
          toSharedPath(root, params.modelPath, `The model package "${project.settings.model}"`);
        } catch (e) {
          throw asServiceError(e);
        }
      }
      const shared = {
        ...params,
        modelPath: builtIn ? null : params.modelPath,
        portrait: { ...params.portrait, path: await intoShared(root, project, params.portrait.path) },
        audio: { ...params.audio, path: await intoShared(root, project, params.audio.path) },
      };
      const job = await withQueue(f, (q) => q.submit(root, shared, `Export · ${project.name} → ${path.basename(out)}`));
      return { jobId: job.id };
    },

    'farm.jobs': async () => {
      const f = ctx.settings.get().farm;
      if (!configured(f)) return { configured: false, jobs: [], problem: null };
      try {
        return { configured: true, jobs: (await withQueue(f, (q) => q.list())).map((j) => row(f, j)), problem: null };
      } catch (e) {
        // Shown on the queue screen in place of the farm's jobs, not as an error banner every few seconds.
        return { configured: true, jobs: [], problem: (e as Error).message };
      }
    },
    'farm.pause': control('pause'),
    'farm.resume': control('resume'),
    'farm.cancel': control('cancel'),
    'farm.retry': control('retry'),
    'farm.reorder': async ({ id, index }) => {
      const f = requireFarm(ctx);
      return (await withQueue(f, (q) => q.reorder(id, index))).map((j) => row(f, j));
    },
    'farm.remove': async ({ id }) => {
      const f = requireFarm(ctx);
      await withQueue(f, (q) => q.remove(id));
      return { removed: id };
    },
  };
}
