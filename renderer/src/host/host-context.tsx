import { createContext, useContext } from 'react';
import type { StudioHost } from './host.js';

export const HostContext = createContext<StudioHost | null>(null);

export function useHost(): StudioHost {
  const h = useContext(HostContext);
  if (!h) throw new Error('HostContext is missing');
  return h;
}
