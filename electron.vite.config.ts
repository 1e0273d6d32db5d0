// electron-vite: the Electron main process, the sandboxed preload and the Svelte renderer.
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';
import { rendererConfig } from './src/renderer/vite.renderer.ts';

export default defineConfig({
  main: {
    build: {
      // Dependencies (better-sqlite3, @tensorflow/tfjs, ...) load from node_modules at run time,
      // never bundled; so do the optional native TF.js backends the engine tries when installed.
      externalizeDeps: true,
      rolldownOptions: {
        input: { index: resolve('src/main/index.ts'), worker: resolve('src/main/train/worker.ts') },
        external: [/^@tensorflow\//],
      },
    },
  },
  preload: {
    build: {
      rolldownOptions: {
        input: { index: resolve('src/preload/index.ts') },
        // A sandboxed preload cannot load ES modules: emit one CommonJS file.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: rendererConfig(resolve('.')),
});
