// models.*: installed packages (the built-in demo model first), import, verify and remove.
import type { Handlers } from '../contract.js';
import type { ServiceContext } from '../context.js';

type ModelHandlers = Pick<Handlers, 'models.list' | 'models.import' | 'models.verify' | 'models.remove'>;

export function modelHandlers(ctx: ServiceContext): ModelHandlers {
  return {
    'models.list': () => ctx.models.list(),
    'models.import': ({ folder, name }) => ctx.models.import(folder, name, (p) => ctx.emit('models.progress', p)),
    'models.verify': ({ name }) => ctx.models.verify(name, (p) => ctx.emit('models.progress', p)),
    'models.remove': ({ name }) => ctx.models.remove(name),
  };
}
