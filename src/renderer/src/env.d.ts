/// <reference types="svelte" />
/// <reference types="vite/client" />
import type { StudioBridge } from '../../shared/api.ts';

declare global {
  interface Window {
    /** Present inside Electron (set by the preload script); absent in a browser tab. */
    studio?: StudioBridge;
  }
}
