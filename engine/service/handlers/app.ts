// app.health and device.info.
import type { DeviceInfo, Handlers } from '../contract.js';
import type { ServiceContext } from '../context.js';
import { queryNvidiaGpusAsync } from '../device.js';

type AppHandlers = Pick<Handlers, 'app.health' | 'device.info'>;

export const SERVICE_VERSION = '0.1.0';

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
  };
}
