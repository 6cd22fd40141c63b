// Which preset the wizard offers first. Pure, so the node test runner checks it without a DOM.
import type { TrainingPreset } from '../../../../engine/service/contract.js';

/** Without a graphics card the CPU demo; with one, the largest preset whose estimate fits its memory. */
export function defaultPreset(p: TrainingPreset[]): TrainingPreset | null {
  const cpu = p.find((x) => x.id === 'cpu') ?? null;
  const onGpu = p.some((x) => x.estimate && !x.estimate.device.startsWith("this computer's processor"));
  if (!onGpu) return cpu ?? p[0] ?? null;
  return [...p].reverse().find((x) => x.id !== 'cpu' && x.estimate?.fits) ?? cpu ?? p[0] ?? null;
}
