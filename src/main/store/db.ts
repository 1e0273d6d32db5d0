import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { migrations } from './migrations.ts';

export type Db = Database.Database;

/** The per-user app-data folder, as Electron's app.getPath('userData') would place it. */
export function appDataDir(): string {
  const home = homedir();
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'CMI Studio');
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support', 'CMI Studio');
  return join(process.env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'cmi-studio');
}

/** --db PATH wins, then CMI_STUDIO_DB, then the app-data folder. */
export function resolveDbPath(explicit?: string): string {
  return explicit ?? process.env.CMI_STUDIO_DB ?? join(appDataDir(), 'studio.sqlite');
}

export const SCHEMA_VERSION = migrations.length;

export function openDb(path: string, opts: { readonly?: boolean } = {}): Db {
  if (path !== ':memory:' && !opts.readonly) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { readonly: opts.readonly ?? false });
  // WAL lets the training process write while the UI reads; a crash rolls back to the last commit.
  if (!opts.readonly) db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 10000');
  if (!opts.readonly) migrate(db);
  return db;
}

export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(`database schema v${current} is newer than this CMI Studio (v${migrations.length}); upgrade the app`);
  }
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/** Int32Array/Float32Array <-> BLOB helpers (copy, so the result owns aligned memory). */
export function toBlob(a: Int32Array | Float32Array | Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}
export function int32s(b: Buffer): Int32Array {
  const out = new Int32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}
export function float32s(b: Buffer): Float32Array {
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}
export function float64s(b: Buffer): Float64Array {
  const out = new Float64Array(b.byteLength / 8);
  new Uint8Array(out.buffer).set(b);
  return out;
}
