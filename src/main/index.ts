// Electron main process: one window showing the renderer, the API wired over IPC. Everything
// else (store, import, training, evaluation) is the same core the CLI and browser host use.
import { app, BrowserWindow, dialog, session, shell } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createApi, type StudioService } from './api.ts';
import { CONTENT_SECURITY_POLICY } from './hosts/csp.ts';
import { registerIpc } from './hosts/ipc.ts';
import { resolveDbPath } from './store/db.ts';

const here = import.meta.dirname;
/** electron-vite dev serves the page from its dev server and names it here. */
const devUrl = process.env.ELECTRON_RENDERER_URL;
const pageFile = join(here, '../renderer/index.html');
const pageUrl = devUrl ?? pathToFileURL(pageFile).href;

function isAppPage(url: string): boolean {
  return devUrl ? url.startsWith(devUrl) : url.split(/[?#]/)[0] === pageUrl;
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'CMI Studio',
    show: false,
    webPreferences: {
      preload: join(here, '../preload/index.cjs'),
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
    },
  });
  win.once('ready-to-show', () => win.show());
  // The window shows our page only: links open in the system browser, navigation is refused.
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (event, url) => {
    if (!isAppPage(url)) event.preventDefault();
  });
  if (devUrl) void win.loadURL(devUrl);
  else void win.loadFile(pageFile);
  return win;
}

let api: StudioService | undefined;

function start(): void {
  // The page's meta tag covers file://; the header also covers the dev server's responses.
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));

  // Training workers run this same Electron binary as Node, on the bundled worker entry.
  api = createApi({ dbPath: resolveDbPath(), workerEntry: join(here, 'worker.js') });
  registerIpc(api, isAppPage);
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
}

// A database the app cannot open (newer schema, unreadable folder) is said plainly, then we quit.
app.whenReady().then(start).catch((err: unknown) => {
  dialog.showErrorBox('CMI Studio cannot start', err instanceof Error ? err.message : String(err));
  app.quit();
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('will-quit', () => {
  api?.close();
});
