export function findElectronBinary(): { path: string; reason?: undefined } | { reason: string; path?: undefined };
