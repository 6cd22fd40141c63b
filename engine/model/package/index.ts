// Model packages: the refree.json manifest, importing a Wan2.2 download, verifying files, and the
// engine cache that runs a package's weights in place.
export * from './manifest.js';
export * from './hash.js';
export * from './progress.js';
export * from './detect.js';
export * from './weight-index.js';
export * from './engine-cache.js';
export * from './source.js';
export * from './import.js';
export * from './verify.js';
export * from './create.js';
export * from './official-config.js';
export * from './arch-options.js';
