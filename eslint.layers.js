// The layers of docs/ARCHITECTURE.md as lint rules (eslint-plugin-boundaries): each folder may import
// only the folders listed for it, so an import that points upward fails `npm run lint` with the rule
// `boundaries/dependencies`. Tests (*.test.ts, *.typecheck.ts and testing/ helpers) sit above every
// engine layer: a graph op's test may run the op through engine/exec. A new engine/ folder must be
// given a layer here (boundaries/no-unknown-files names it).
import boundaries from 'eslint-plugin-boundaries';

/** Each layer and what it may import (besides itself). Lower layers first. */
export const LAYERS = {
  common: [], // protocol and error types shared by every process
  graph: ['common'], // the graph language: builds graphs, never runs them
  runtime: ['graph', 'common'], // ORT sessions, backends, the engine process, ffmpeg location
  exec: ['runtime', 'graph', 'common'], // what runs graphs: trainer, gradient checks, probes
  model: ['exec', 'runtime', 'graph', 'common'],
  media: ['runtime', 'common'],
  generate: ['model', 'exec', 'runtime', 'graph', 'common'],
  watermark: ['media', 'exec', 'runtime', 'graph', 'common'],
  synth: ['media', 'model', 'exec', 'runtime', 'graph', 'common'], // synthetic faces and speech
  pipeline: ['generate', 'watermark', 'media', 'synth', 'model', 'exec', 'runtime', 'graph', 'common'],
  eval: ['pipeline', 'generate', 'watermark', 'media', 'synth', 'model', 'exec', 'runtime', 'graph', 'common'],
  train: ['eval', 'pipeline', 'generate', 'watermark', 'media', 'synth', 'model', 'exec', 'runtime', 'graph', 'common'],
  jobs: ['train', 'eval', 'pipeline', 'generate', 'watermark', 'media', 'synth', 'model', 'exec', 'runtime', 'graph', 'common'],
  // the render farm: BullMQ queue and workers that run the studio's engine jobs on several machines
  farm: ['jobs', 'train', 'eval', 'pipeline', 'generate', 'watermark', 'media', 'synth', 'model', 'exec', 'runtime', 'graph', 'common'],
  service: ['farm', 'jobs', 'train', 'eval', 'pipeline', 'generate', 'watermark', 'media', 'synth', 'model', 'exec', 'runtime', 'graph', 'common'],
  'web-host': ['service', 'common'],
  cli: ['service', 'farm', 'jobs', 'train', 'eval', 'pipeline', 'generate', 'watermark', 'media', 'synth', 'model', 'exec', 'runtime', 'graph', 'common'],
  electron: ['service', 'jobs', 'runtime', 'common'],
};

/** engine/<folder> for each engine layer. */
const ENGINE = Object.keys(LAYERS).filter((l) => l !== 'electron');

const elements = [
  ...ENGINE.map((l) => ({ type: l, pattern: `engine/${l}/**`, partialMatch: false })),
  { type: 'electron', pattern: 'electron/**', partialMatch: false },
  { type: 'renderer', pattern: 'renderer/**', partialMatch: false },
  // Entry points and harnesses above everything: they may import any layer.
  { type: 'top', pattern: '{e2e,bench,scripts,bin}/**', partialMatch: false },
];

const anyOf = (types) => ({ to: { element: { types: { anyOf: types } } } });

export default [
  {
    files: ['{engine,electron,renderer,e2e,bench,scripts,bin}/**/*.{ts,tsx,mts,mjs,js}'],
    plugins: { boundaries },
    settings: {
      'boundaries/elements': elements,
      'boundaries/files': [{ category: 'test', pattern: '**/{*.test.ts,*.test.tsx,*.typecheck.ts,testing/**}' }],
      'boundaries/dependency-nodes': ['import', 'export', 'dynamic-import'],
      // Resolves our ESM `.js` specifiers to the `.ts` files (TypeScript's NodeNext and Bundler rules).
      'import/resolver': { typescript: { project: ['tsconfig.json', 'renderer/tsconfig.json', 'renderer/tsconfig.test.json'], noWarnOnMultipleProjects: true } },
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          message: '{{from.type}} may not import {{to.type}}: imports point down the layers of docs/ARCHITECTURE.md (allowed for {{from.type}}: see LAYERS in eslint.layers.js)',
          policies: [
            ...Object.entries(LAYERS).map(([from, allowed]) => ({ from: { element: { type: from } }, allow: anyOf([from, ...allowed]) })),
            // Tests and test helpers may use any engine layer (a graph op's test runs the op).
            { from: { file: { categories: 'test' }, element: { types: { anyOf: ENGINE } } }, allow: anyOf(ENGINE) },
            // The renderer runs in a browser: it takes only types from the engine (the service contract).
            { from: { element: { type: 'renderer' } }, allow: anyOf(['renderer']) },
            {
              from: { element: { type: 'renderer' } },
              allow: { to: { element: { types: { anyOf: ['service', 'common'] } } }, dependency: { kind: 'type' } },
            },
            // Renderer unit tests run in Node and may check the renderer against the contract's values.
            { from: { file: { categories: 'test' }, element: { type: 'renderer' } }, allow: anyOf(['service', 'common']) },
            // The desktop host may take the preload API's types from the renderer.
            { from: { element: { type: 'electron' } }, allow: { to: { element: { type: 'renderer' } }, dependency: { kind: 'type' } } },
            { from: { element: { type: 'top' } }, allow: anyOf(['top', 'electron', 'renderer', ...ENGINE]) },
          ],
        },
      ],
      // Every engine file belongs to a layer.
      'boundaries/no-unknown-files': 'error',
    },
  },
  // Nothing in engine/ imports Electron, React or a browser driver (the DOM is kept out by
  // tsconfig.json's lib, which has no "DOM").
  {
    files: ['engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron', 'react', 'react-dom', 'playwright-core', '@sparticuz/chromium'].map((name) => ({
            name,
            message: `engine/ runs in Node processes of every host: it may not import ${name} (the desktop host is electron/, the UI renderer/)`,
          })),
        },
      ],
    },
  },
];
