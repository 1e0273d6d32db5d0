// An import killed half-way (SIGKILL, no chance to clean up) must leave the store consistent
// and exactly as before: the dataset absent, every table as it was.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ensureDemoDataset } from '../../src/main/cli/demo-setup.ts';
import { importDataset } from '../../src/main/import/index.ts';
import { BATCH_ROWS } from '../../src/main/import/reader.ts';
import { getDataset } from '../../src/main/store/datasets.ts';
import { openDb } from '../../src/main/store/db.ts';
import { ACTION_HEADER } from '../import/fixtures/wechat-gen.ts';
import { SAMPLE, fingerprint, tempDir } from '../import/helpers.ts';
import { spawnCli } from './helpers.ts';

const ROWS = 1_000_000;

/** A big WeChat-format file, written fast: one block of rows repeated with shifted users. */
async function writeBig(path: string): Promise<void> {
  const out = createWriteStream(path);
  out.write(ACTION_HEADER.join(',') + '\n');
  const block = 20_000;
  for (let b = 0; b < ROWS / block; b++) {
    const lines: string[] = [];
    for (let i = 0; i < block; i++) lines.push(`${8 + ((b * 131 + i) % 20000)},${1 + ((i * 7919) % 100000)},${1 + (i % 14)},1,0,0,${i % 3 === 0 ? 1 : 0},${i * 10},${i * 11},0,0,0,0`);
    if (!out.write(lines.join('\n') + '\n')) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

describe('an import killed half-way', () => {
  let dir: string;
  let cleanup: () => void;
  let dbPath: string;
  let big: string;
  let before_: string;

  before(async () => {
    ({ dir, cleanup } = tempDir('kill'));
    dbPath = join(dir, 'studio.sqlite');
    big = join(dir, 'user_action.csv');
    await writeBig(big);
    const db = openDb(dbPath);
    await ensureDemoDataset(db);
    before_ = fingerprint(db);
    db.close();
  });
  after(() => cleanup());

  it('leaves the store consistent and the dataset absent', async () => {
    const child = spawnCli(['import', big, '--preset', 'wechat', '--name', 'big', '--positive', 'true', '--db', dbPath]);
    const exited = once(child, 'exit');
    let killedAt = -1;
    // Progress lines ("import: 12.3%  400,000 rows ...") come on stderr; kill once more than one
    // batch of positives was read, so rows are being inserted.
    for await (const line of createInterface({ input: child.stderr! })) {
      const m = /([\d,]+) rows\s/.exec(line);
      const rows = m ? Number(m[1].replaceAll(',', '')) : 0;
      if (rows > BATCH_ROWS && rows < ROWS) {
        killedAt = rows;
        child.kill('SIGKILL');
        break;
      }
    }
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    assert.ok(killedAt > 0, `the import ended (code ${code}) before it could be killed`);
    assert.equal(signal, 'SIGKILL');

    const db = openDb(dbPath);
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      assert.equal(getDataset(db, 'big'), undefined);
      assert.equal(fingerprint(db), before_, `the store is as before (killed at ${killedAt} rows)`);
      // And it still takes an import.
      const r = await importDataset(db, { files: [SAMPLE], preset: 'kuairand', name: 'after-kill' });
      assert.equal(r.interactions, 33745);
    } finally {
      db.close();
    }
  });
});
