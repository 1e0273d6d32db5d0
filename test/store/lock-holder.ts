// Test helper: another process that holds the store's write lock (BEGIN IMMEDIATE) until told
// to let go, as a long import does for its whole transaction.
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const HOLDER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\\n');
process.stdin.once('data', () => { db.exec('COMMIT'); db.close(); process.exit(0); });
`;

export interface LockHolder {
  /** Commits the (empty) transaction and waits for the holder to exit. */
  release(): Promise<void>;
}

export async function holdWriteLock(dbPath: string): Promise<LockHolder> {
  const child = spawn(process.execPath, ['-e', HOLDER, dbPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('locked')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the lock holder exited with ${code} before locking`)));
  });
  return {
    async release() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.stdin.end('release\n');
      await exited;
    },
  };
}
