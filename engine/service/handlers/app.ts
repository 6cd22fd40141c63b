// app.health, device.info, and the reserved training namespace.
import type { DeviceInfo, Handlers } from '../contract.js';
import type { ServiceContext } from '../context.js';
import { queryNvidiaGpusAsync } from '../device.js';
import { ServiceError } from '../errors.js';

type AppHandlers = Pick<Handlers, 'app.health' | 'device.info' | 'training.listRuns' | 'training.start'>;

export const SERVICE_VERSION = '0.1.0';

const NOT_AVAILABLE = 'Fine-tuning is not available in this version of the studio. Generation, previews and exports work as usual.';

export function appHandlers(ctx: ServiceContext): AppHandlers {
  return {
    'app.health': async () => ({ ok: true, version: SERVICE_VERSION, engine: ctx.engineState().state }),
    'device.info': async (): Promise<DeviceInfo> => {
      const gpu = await queryNvidiaGpusAsync();
      let probe = ctx.deviceProbe();
      let note: string | null = null;
      if (!probe) {
        if (ctx.queue.runningId) note = 'The engine is busy with a job; its backends are checked when it is free.';
        else {
          probe = await ctx.probeDevice();
          if (!probe) note = 'The engine could not be asked which backends work.';
        }
      }
      return { backends: probe?.backends ?? null, backendsNote: note, gpus: gpu.gpus, gpuNote: gpu.reason, engine: { ...ctx.engineState() } };
    },
    'training.listRuns': async () => {
      throw new ServiceError('not-available', NOT_AVAILABLE);
    },
    'training.start': async () => {
      throw new ServiceError('not-available', NOT_AVAILABLE);
    },
  };
}
