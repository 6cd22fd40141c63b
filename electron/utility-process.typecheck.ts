// Type-level test (checked by `tsc` in `npm test`): Electron's real `utilityProcess` must satisfy the
// structural interface that the engine's transport adapter is written against, so the engine needs no
// Electron import and a change in Electron's API breaks the type-check instead of the app.
import type { utilityProcess } from 'electron';
import type { UtilityProcessModuleLike } from '../engine/runtime/transport-electron.js';

type Fits<A, B> = A extends B ? true : false;
export const electronUtilityProcessFits: Fits<typeof utilityProcess, UtilityProcessModuleLike> = true;
