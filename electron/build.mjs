// Bundles the Electron side to JavaScript (out/electron/): the main process (ESM) and the preload (CJS:
// sandboxed preloads cannot be ES modules). Node built-ins, electron and npm packages stay external in
// main. The engine is not bundled: the utilityProcess runs engine/ from source through tsx (main.ts).
import { build } from 'vite';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = fileURLToPath(new URL('../out/electron', import.meta.url));
const nodeExternal = [/^node:/, ...builtinModules, 'electron'];
// npm packages stay external for main and engine (electron-builder ships node_modules); the preload
// must be self-contained, so only electron is external there.
const npmExternal = (id) => !id.startsWith('.') && !id.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(id);

async function bundle(entry, fileName, format, external, selfContained = false) {
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    // An SSR build leaves node_modules external by default; the sandboxed preload can require only
    // 'electron', so it takes every package in.
    ssr: selfContained ? { noExternal: true } : {},
    build: {
      outDir: out,
      emptyOutDir: false,
      ssr: entry,
      target: 'node20',
      sourcemap: true,
      minify: false,
      rollupOptions: { external, output: { format, entryFileNames: fileName, codeSplitting: false } },
    },
  });
}

await bundle('electron/main.ts', 'main.js', 'es', (id) => nodeExternal.some((e) => (typeof e === 'string' ? e === id : e.test(id))) || npmExternal(id));
await bundle('electron/preload.ts', 'preload.cjs', 'cjs', (id) => id === 'electron', true);
console.log(`Built the Electron main and preload into ${out}`);
