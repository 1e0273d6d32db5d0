// The renderer's client for the StudioApi contract. Inside Electron it goes through the preload
// bridge (window.studio); in a browser it talks to the browser host over HTTP + WebSocket with
// the per-launch token. Screens import `api` and never care which.
import {
  STUDIO_METHODS,
  type DesktopApi,
  type Reply,
  type StudioApi,
  type StudioErrorInfo,
  type StudioEvent,
  type StudioMethod,
} from '../../../shared/api.ts';

/** An API error with the details the core attached (file:line:column for import errors). */
export class StudioError extends Error {
  readonly info: StudioErrorInfo;
  constructor(info: StudioErrorInfo) {
    super(info.message);
    this.info = info;
  }
  /** "file:line:column: message" where the error points into a file. */
  get located(): string {
    const { file, line, column, message } = this.info;
    if (!file) return message;
    return `${file}${line !== undefined ? `:${line}` : ''}${column !== undefined ? `:${column}` : ''}: ${message}`;
  }
}

/** The browser host as the page sees it: answering, stopped (nothing answers), or running
 *  again under a new launch whose token this page does not have. */
export type HostState = 'up' | 'down' | 'restarted';

interface Transport {
  call(method: StudioMethod, args: unknown[]): Promise<Reply<unknown>>;
  onEvent(listener: (event: StudioEvent) => void): () => void;
  onHostState(listener: (state: HostState) => void): () => void;
  reconnect(): void;
}

const TOKEN_KEY = 'cmi-studio-token';

/** The token arrives once in the address (?token=...); keep it for this tab and drop it from the URL. */
function browserToken(): string | null {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    params.delete('token');
    const query = params.toString();
    history.replaceState(null, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function httpTransport(token: string): Transport {
  const listeners = new Set<(event: StudioEvent) => void>();
  const stateListeners = new Set<(state: HostState) => void>();
  let socket: WebSocket | null = null;
  let retry = 500;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let state: HostState = 'up';

  function setState(next: HostState): void {
    if (next === state) return;
    state = next;
    for (const l of stateListeners) l(next);
  }

  /** After the stream closed: does anything answer on this address, and does it know our token? */
  async function probe(): Promise<void> {
    try {
      const res = await fetch('/api/appInfo', { method: 'POST', headers: { 'content-type': 'application/json', 'x-studio-token': token }, body: '[]' });
      setState(res.ok ? 'up' : 'restarted');
    } catch {
      setState('down');
    }
  }

  function connect(): void {
    clearTimeout(timer);
    timer = undefined;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/events?token=${encodeURIComponent(token)}`);
    socket = ws;
    ws.onopen = () => {
      retry = 500;
      setState('up');
    };
    ws.onmessage = (msg) => {
      const event = JSON.parse(String(msg.data)) as StudioEvent;
      for (const l of listeners) l(event);
    };
    // The host may stop, restart or the laptop sleep: say so, and reconnect with backoff while
    // anyone listens.
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      if (!listeners.size) return;
      void probe();
      timer = setTimeout(() => listeners.size && !socket && connect(), retry);
      retry = Math.min(retry * 2, 10_000);
    };
  }

  return {
    async call(method, args) {
      let res: Response;
      try {
        res = await fetch(`/api/${method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-studio-token': token },
          body: JSON.stringify(args),
        });
      } catch (err) {
        // Nothing answers: the host has stopped (the banner says so; the stream reconnects).
        setState('down');
        throw err;
      }
      const type = res.headers.get('content-type') ?? '';
      if (!type.startsWith('application/json')) return { ok: false, error: { message: `HTTP ${res.status} from the studio host` } };
      return (await res.json()) as Reply<unknown>;
    },
    onEvent(listener) {
      listeners.add(listener);
      if (!socket) connect();
      return () => {
        listeners.delete(listener);
        if (!listeners.size) socket?.close();
      };
    },
    onHostState(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    reconnect() {
      retry = 500;
      if (socket && socket.readyState <= WebSocket.OPEN) return void probe();
      socket = null;
      connect();
    },
  };
}

const bridge = window.studio;
export const host: 'electron' | 'browser' = bridge ? 'electron' : 'browser';
const token = bridge ? null : browserToken();

/** Why the API cannot be reached at all (a browser tab opened without the token), or null. */
export const connectionProblem: string | null =
  bridge || token ? null : 'This page needs the address printed by `cmi-studio serve` (it carries the access token).';

// The desktop window's host is its own process: it never stops under the page.
const transport: Transport = bridge
  ? { call: (method, args) => bridge.invoke(method, args), onEvent: (l) => bridge.onEvent(l), onHostState: () => () => undefined, reconnect: () => undefined }
  : httpTransport(token ?? '');

async function call(method: StudioMethod, args: unknown[]): Promise<unknown> {
  // JSON turns a trailing `undefined` (an omitted optional argument) into null: drop it instead.
  const sent = [...args];
  while (sent.length && sent[sent.length - 1] === undefined) sent.pop();
  const reply = await transport.call(method, sent);
  if (!reply.ok) throw new StudioError(reply.error);
  return reply.result;
}

export const api = Object.fromEntries(
  STUDIO_METHODS.map((m) => [m, (...args: unknown[]) => call(m, args)]),
) as unknown as StudioApi;

export function onEvent(listener: (event: StudioEvent) => void): () => void {
  return transport.onEvent(listener);
}

/** Follows whether the host answers (the browser host can be stopped under the page). */
export function onHostState(listener: (state: HostState) => void): () => void {
  return transport.onHostState(listener);
}

/** Tries the host again now instead of at the next backoff step. */
export function reconnectHost(): void {
  transport.reconnect();
}

/** Native dialogs, in Electron only. */
export const desktop: DesktopApi | null = bridge ? bridge.desktop : null;

export function errorText(err: unknown): string {
  if (err instanceof StudioError) return err.located;
  return err instanceof Error ? err.message : String(err);
}

/** Browser host: streams dropped files to the server (one folder per drop); their server paths. */
export async function uploadFiles(files: File[], onProgress: (fraction: number) => void): Promise<string[]> {
  if (!token) throw new Error(connectionProblem ?? 'uploads need the browser host');
  const batch = crypto.randomUUID();
  const total = files.reduce((s, f) => s + f.size, 0) || 1;
  let done = 0;
  const paths: string[] = [];
  for (const file of files) {
    // XMLHttpRequest, not fetch: it reports upload progress for large logs.
    const path = await new Promise<string>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `/upload?batch=${batch}&name=${encodeURIComponent(file.name)}`);
      xhr.setRequestHeader('x-studio-token', token);
      xhr.upload.onprogress = (e) => onProgress((done + e.loaded) / total);
      xhr.onerror = () => reject(new Error(`upload of ${file.name} failed`));
      xhr.onload = () => {
        const reply = JSON.parse(xhr.responseText) as Reply<{ path: string }>;
        if (reply.ok) resolve(reply.result.path);
        else reject(new StudioError(reply.error));
      };
      xhr.send(file);
    });
    done += file.size;
    paths.push(path);
  }
  onProgress(1);
  return paths;
}

/** Saves text where the user says: a save dialog in Electron, a download in the browser. */
export async function saveText(title: string, defaultName: string, content: string): Promise<string | null> {
  if (desktop) return desktop.saveText({ title, defaultName, content });
  const url = URL.createObjectURL(new Blob([content], { type: 'text/plain;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = defaultName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  return defaultName;
}
