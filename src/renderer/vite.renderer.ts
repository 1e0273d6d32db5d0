// The renderer's Vite config, shared by electron-vite (the Electron window) and the browser
// host, which builds the same page with Vite's own build API when it starts.
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { join } from 'node:path';
import type { UserConfig } from 'vite';

/** `projectRoot` is the repository root; the page is built to out/renderer. */
export function rendererConfig(projectRoot: string): UserConfig {
  return {
    root: join(projectRoot, 'src/renderer'),
    // Relative asset URLs: the Electron window loads the page from file://.
    base: './',
    // No svelte.config.js: the defaults (TypeScript is native in Svelte 5) are all we need.
    plugins: [svelte({ configFile: false })],
    build: {
      outDir: join(projectRoot, 'out/renderer'),
      emptyOutDir: true,
      target: 'es2022',
      // One bundle read from local disk, never over a network: ECharts makes it ~650 kB.
      chunkSizeWarningLimit: 1024,
    },
  };
}
