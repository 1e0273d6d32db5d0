// Electron main process: one window showing the renderer, the API wired over IPC. Everything
// else (store, import, training, evaluation) is the same core the CLI and browser host use.
// Hardened along Electron's security checklist: see docs/ui.md, "Security".
import { app, BrowserWindow, dialog, protocol, session, shell, type Session, type WebContents } from 'electron';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createApi, type StudioService } from './api.ts';
import { contentTypeOf } from './hosts/content-types.ts';
import { CONTENT_SECURITY_POLICY } from './hosts/csp.ts';
import { registerIpc } from './hosts/ipc.ts';
import { APP_PAGE_URL, APP_SCHEME, appFileFor, appPageMatcher, externalLinkVerdict } from './hosts/window-policy.ts';
import { resolveDbPath } from './store/db.ts';

const here = import.meta.dirname;
/** electron-vite dev serves the page from its dev server and names it here. */
const devUrl = process.env.ELECTRON_RENDERER_URL;
const rendererRoot = join(here, '../renderer');
const pageUrl = devUrl ?? APP_PAGE_URL;
const isAppPage = appPageMatcher(devUrl);

// Must precede `ready`. Standard + secure gives app://studio an origin of its own, on which
// 'self' in the CSP and the IPC frame check work as for https; corsEnabled lets the page's
// `<script type="module" crossorigin>` load from it (other origins still get no CORS headers).
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } }]);

/** Serves out/renderer on app://studio/, nothing outside it, GET only, with the CSP header. */
function serveRenderer(): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const file = request.method === 'GET' ? appFileFor(rendererRoot, request.url) : null;
    const body = file ? await readFile(file).catch(() => null) : null;
    if (!file || !body) return new Response('not found', { status: 404, headers: { 'content-type': 'text/plain' } });
    return new Response(new Uint8Array(body), {
      headers: { 'content-type': contentTypeOf(file), 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff' },
    });
  });
}

/** Listed sites open in the system browser; other https sites after the user agrees; the rest never. */
async function openExternal(url: string): Promise<void> {
  const verdict = externalLinkVerdict(url);
  if (verdict === 'refuse') return;
  if (verdict === 'ask') {
    const answer = await dialog.showMessageBox({
      type: 'question',
      buttons: ['Open in browser', 'Cancel'],
      defaultId: 1,
      cancelId: 1,
      message: 'Open this address in your web browser?',
      detail: url,
    });
    if (answer.response !== 0) return;
  }
  await shell.openExternal(url);
}

/** Every web contents (the window, and any a bug or a page might create) shows our page only. */
function guardContents(contents: WebContents): void {
  contents.setWindowOpenHandler(({ url }) => {
    void openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event) => {
    if (isAppPage(event.url)) return;
    event.preventDefault();
    void openExternal(event.url);
  });
  contents.on('will-redirect', (event) => {
    if (!isAppPage(event.url)) event.preventDefault();
  });
  // Subframes too (will-navigate sees only the main frame).
  contents.on('will-frame-navigate', (event) => {
    if (!isAppPage(event.url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/** The studio needs no permission (camera, notifications, clipboard reads, devices, ...). */
function denyPermissions(ses: Session): void {
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
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
      webviewTag: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(pageUrl);
  return win;
}

let api: StudioService | undefined;

function start(): void {
  // The header covers the dev server's responses; the app:// handler sets its own.
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  denyPermissions(session.defaultSession);
  serveRenderer();

  // Training workers run this same Electron binary as Node, on the bundled worker entry.
  api = createApi({ dbPath: resolveDbPath(), workerEntry: join(here, 'worker.js') });
  registerIpc(api, isAppPage);
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
}

app.on('web-contents-created', (_event, contents) => guardContents(contents));

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
