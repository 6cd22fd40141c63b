// Type-level tests (checked by `tsc` in `npm test`; nothing runs): the contract is complete and the
// service implements exactly it. A method added to `methods` without a handler, a handler whose
// output differs from the contract, an event missing from EVENT_NAMES or a method without a zod
// schema fails the type-check instead of the app.
import type { z } from 'zod';
import type { EventName, Events, Handlers, MethodName, MethodOutput, MethodParams, Methods } from './contract.js';
import type { EVENT_NAMES } from './contract.js';
import type { StudioService } from './service.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

// Every method has a zod schema as its input.
type EveryInputIsZod = { [M in MethodName]: Methods[M]['input'] extends z.ZodType ? true : false }[MethodName];
export type T1 = Expect<Equal<EveryInputIsZod, true>>;

// The service's handler table has exactly the contract's methods, each with the contract's types.
export type T2 = Expect<Equal<keyof StudioService['handlers'], MethodName>>;
export type T3 = Expect<Equal<StudioService['handlers'], Handlers>>;

// Spot checks that the phantom output types reach the handlers.
export type T4 = Expect<Equal<MethodOutput<'generate.export'>, { jobId: string }>>;
export type T5 = Expect<Equal<MethodParams<'generate.preview'>['seconds'], number>>; // default filled in
export type T6 = Expect<Equal<ReturnType<Handlers['training.start']>, Promise<{ jobId: string }>>>;

// EVENT_NAMES lists every event and nothing else.
export type T7 = Expect<Equal<(typeof EVENT_NAMES)[number], EventName>>;
export type T8 = Expect<Equal<keyof Events, EventName>>;

// A handler table missing a method does not satisfy Handlers.
type Missing = Omit<Handlers, 'jobs.reorder'>;
export type T9 = Expect<Equal<Missing extends Handlers ? true : false, false>>;
