// electron-vite: the Electron main process, the sandboxed preload and the Svelte renderer.
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';
import { rendererConfig } from './src/renderer/vite.renderer.ts';

export default defineConfig({
  main: {
    build: {
      // Native and heavy packages load from node_modules at run time, never bundled.
      externalizeDeps: { include: ['better-sqlite3', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'] },
      // The training worker is a second entry: runs fork it with Electron's own Node.
      rollupOptions: { input: { index: resolve('src/main/index.ts'), worker: resolve('src/main/train/worker.ts') } },
    },
  },
  preload: {
    build: {
      rollupOptions: {
        input: { index: resolve('src/preload/index.ts') },
        // A sandboxed preload cannot load ES modules: emit one CommonJS file.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: rendererConfig(resolve('.')),
});
