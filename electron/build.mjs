// Bundles the Electron side to JavaScript (out/electron/): the main process (ESM), the preload (CJS:
// sandboxed preloads cannot be ES modules) and the engine entry for the utilityProcess (which cannot
// use tsx's loader in a packaged app). Node built-ins, electron and native/npm packages stay external.
import { build } from 'vite';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = fileURLToPath(new URL('../out/electron', import.meta.url));
const nodeExternal = [/^node:/, ...builtinModules, 'electron'];
// npm packages stay external for main and engine (electron-builder ships node_modules); the preload
// must be self-contained, so only electron is external there.
const npmExternal = (id) => !id.startsWith('.') && !id.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(id);

async function bundle(entry, fileName, format, external) {
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    build: {
      outDir: out,
      emptyOutDir: false,
      ssr: entry,
      target: 'node20',
      sourcemap: true,
      minify: false,
      rollupOptions: { external, output: { format, entryFileNames: fileName, inlineDynamicImports: true } },
    },
  });
}

await bundle('electron/main.ts', 'main.js', 'es', (id) => nodeExternal.some((e) => (typeof e === 'string' ? e === id : e.test(id))) || npmExternal(id));
await bundle('electron/preload.ts', 'preload.cjs', 'cjs', (id) => id === 'electron');
await bundle('engine/runtime/engine-process.ts', 'engine-process.js', 'es', (id) => nodeExternal.some((e) => (typeof e === 'string' ? e === id : e.test(id))) || npmExternal(id));
await bundle('engine/jobs/studio-jobs.ts', 'studio-jobs.js', 'es', (id) => nodeExternal.some((e) => (typeof e === 'string' ? e === id : e.test(id))) || npmExternal(id));
console.log(`Built the Electron main, preload and engine into ${out}`);
