// projects.*: create, open, save, rename, duplicate, delete (to the studio's trash), the recent list,
// and the sample project (the shipped demo portrait and speech, imported like any other files).
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { Handlers } from '../contract.js';
import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import { importMedia } from '../media-import.js';
import { suggestCropFor } from './media.js';

type ProjectHandlers = Pick<Handlers, 'projects.create' | 'projects.open' | 'projects.save' | 'projects.recent' | 'projects.rename' | 'projects.duplicate' | 'projects.delete' | 'projects.sample'>;

export function projectHandlers(ctx: ServiceContext): ProjectHandlers {
  return {
    'projects.create': async ({ name, folder }) => ctx.rememberProject(await ctx.projects.create(name, folder)),
    'projects.open': async ({ path }) => ctx.rememberProject(await ctx.projects.open(path)),
    'projects.save': async ({ project }) => ctx.rememberProject(await ctx.projects.save(project)),
    'projects.recent': () => ctx.projects.recent(),
    'projects.rename': async ({ project, name }) => ctx.rememberProject(await ctx.projects.rename(project, name)),
    'projects.duplicate': async ({ project, name }) => ctx.rememberProject(await ctx.projects.duplicate(project, name)),
    'projects.delete': ({ project }) => ctx.projects.delete(project),
    'projects.sample': async () => {
      const demo = ctx.assetsDir ? path.join(ctx.assetsDir, 'demo') : null;
      if (!demo || !existsSync(path.join(demo, 'avatar.png')) || !existsSync(path.join(demo, 'speech.wav'))) {
        throw new ServiceError('not-found', 'The sample portrait and speech are not installed with this copy of the studio; import your own files instead.');
      }
      const created = await ctx.projects.create('Sample talking head');
      const media = path.join(path.dirname(created.path), 'media');
      const url = (abs: string): string | null => ctx.urlFor(abs);
      const portrait = await importMedia(path.join(demo, 'avatar.png'), media, 'image', url);
      const speech = await importMedia(path.join(demo, 'speech.wav'), media, 'audio', url);
      const crop = await suggestCropFor(portrait.path).catch(() => null);
      return ctx.rememberProject(await ctx.projects.save({ ...created, portrait: { path: portrait.path, crop: crop?.faceFound ? crop.box : null }, audio: { path: speech.path, trim: null } }));
    },
  };
}
