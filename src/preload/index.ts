// Exposes the typed contract as `window.studio` and nothing else: no ipcRenderer, no Node.
// Runs sandboxed, so it is bundled to one CommonJS file (see electron.vite.config.ts).
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import {
  IPC_EVENT,
  IPC_INVOKE,
  IPC_OPEN_FILES,
  IPC_SAVE_TEXT,
  isStudioMethod,
  type StudioBridge,
  type StudioEvent,
} from '../shared/api.ts';

const bridge: StudioBridge = {
  invoke(method, args) {
    if (!isStudioMethod(method)) return Promise.reject(new Error(`unknown API method '${String(method)}'`));
    return ipcRenderer.invoke(IPC_INVOKE, method, Array.isArray(args) ? args : []);
  },
  desktop: {
    openFiles: (opts) => ipcRenderer.invoke(IPC_OPEN_FILES, { title: opts.title, multiple: opts.multiple }),
    pathOf: (file) => webUtils.getPathForFile(file),
    saveText: (opts) => ipcRenderer.invoke(IPC_SAVE_TEXT, { title: opts.title, defaultName: opts.defaultName, content: opts.content }),
  },
  onEvent(listener) {
    const handler = (_e: IpcRendererEvent, event: StudioEvent) => listener(event);
    ipcRenderer.on(IPC_EVENT, handler);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT, handler);
    };
  },
};

contextBridge.exposeInMainWorld('studio', bridge);
