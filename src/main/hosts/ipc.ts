// The Electron host: the API over ipcMain.handle, events to every window, native file dialogs.
// Only frames showing our own page may call in (a navigated-away or injected frame may not).
import { BrowserWindow, dialog, ipcMain, type IpcMainInvokeEvent } from 'electron';
import { writeFile } from 'node:fs/promises';
import { IPC_EVENT, IPC_INVOKE, IPC_OPEN_FILES, IPC_SAVE_TEXT, type DesktopApi } from '../../shared/api.ts';
import type { StudioService } from '../api.ts';
import { dispatch } from './dispatch.ts';

type OpenFilesOptions = Parameters<DesktopApi['openFiles']>[0];
type SaveTextOptions = Parameters<DesktopApi['saveText']>[0];

export function registerIpc(api: StudioService, isAppPage: (url: string) => boolean): () => void {
  function trusted(event: IpcMainInvokeEvent): BrowserWindow {
    const url = event.senderFrame?.url ?? '';
    const win = BrowserWindow.fromWebContents(event.sender);
    if (!win || !isAppPage(url)) throw new Error(`refused IPC from ${url || 'an unknown frame'}`);
    return win;
  }

  ipcMain.handle(IPC_INVOKE, (event, method: unknown, args: unknown) => {
    trusted(event);
    return dispatch(api, typeof method === 'string' ? method : '', args);
  });

  ipcMain.handle(IPC_OPEN_FILES, async (event, opts: OpenFilesOptions): Promise<string[]> => {
    const win = trusted(event);
    const r = await dialog.showOpenDialog(win, {
      title: String(opts.title),
      properties: opts.multiple ? ['openFile', 'multiSelections'] : ['openFile'],
    });
    return r.canceled ? [] : r.filePaths;
  });

  ipcMain.handle(IPC_SAVE_TEXT, async (event, opts: SaveTextOptions): Promise<string | null> => {
    const win = trusted(event);
    const r = await dialog.showSaveDialog(win, { title: String(opts.title), defaultPath: String(opts.defaultName) });
    if (r.canceled || !r.filePath) return null;
    await writeFile(r.filePath, String(opts.content), 'utf8');
    return r.filePath;
  });

  const unsubscribe = api.onEvent((event) => {
    for (const win of BrowserWindow.getAllWindows()) if (!win.isDestroyed()) win.webContents.send(IPC_EVENT, event);
  });

  return () => {
    unsubscribe();
    for (const channel of [IPC_INVOKE, IPC_OPEN_FILES, IPC_SAVE_TEXT]) ipcMain.removeHandler(channel);
  };
}
