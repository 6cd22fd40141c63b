// projects.*: create, open, save, rename, duplicate, delete (to the studio's trash) and the recent list.
import type { Handlers } from '../contract.js';
import type { ServiceContext } from '../context.js';

type ProjectHandlers = Pick<Handlers, 'projects.create' | 'projects.open' | 'projects.save' | 'projects.recent' | 'projects.rename' | 'projects.duplicate' | 'projects.delete'>;

export function projectHandlers(ctx: ServiceContext): ProjectHandlers {
  return {
    'projects.create': async ({ name, folder }) => ctx.rememberProject(await ctx.projects.create(name, folder)),
    'projects.open': async ({ path }) => ctx.rememberProject(await ctx.projects.open(path)),
    'projects.save': async ({ project }) => ctx.rememberProject(await ctx.projects.save(project)),
    'projects.recent': () => ctx.projects.recent(),
    'projects.rename': async ({ project, name }) => ctx.rememberProject(await ctx.projects.rename(project, name)),
    'projects.duplicate': async ({ project, name }) => ctx.rememberProject(await ctx.projects.duplicate(project, name)),
    'projects.delete': ({ project }) => ctx.projects.delete(project),
  };
}
