// The import, datasets and demo commands as a user runs them: flags, JSON on stdout (one
// object), progress and errors on stderr, exit codes, the --db / CMI_STUDIO_DB choice.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../../src/main/store/db.ts';
import { SAMPLE, tempDir } from '../import/helpers.ts';
import { cli } from './helpers.ts';

describe('cmi-studio import / datasets / demo', () => {
  let dir: string;
  let cleanup: () => void;
  let dbPath: string;
  before(() => {
    ({ dir, cleanup } = tempDir('cli'));
    dbPath = join(dir, 'studio.sqlite');
  });
  after(() => cleanup());

  it('import --json prints exactly one JSON object with the counts', async () => {
    const r = await cli(['import', SAMPLE, '--preset', 'kuairand', '--name', 'kr', '--db', dbPath, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const out = JSON.parse(lines[0]) as Record<string, unknown>;
    assert.deepEqual(Object.keys(out).sort(), ['datasetId', 'days', 'dryRun', 'errors', 'interactions', 'items', 'name', 'rows', 'seconds', 'skipped', 'users']);
    assert.deepEqual([out.name, out.dryRun, out.rows, out.interactions, out.users, out.items, out.days], ['kr', false, 41828, 33745, 664, 1854, 14]);
    assert.equal(typeof out.datasetId, 'number');
    assert.equal(typeof out.seconds, 'number');
    assert.match(r.stderr, /^import: .*rows/m, 'progress lines go to stderr when it is not a terminal');
  });

  it('a dry run with --json counts and creates no store', async () => {
    const fresh = join(dir, 'never.sqlite');
    const r = await cli(['import', SAMPLE, '--preset', 'kuairand', '--name', 'kr', '--db', fresh, '--dry-run', '--json', '--positive', 'label == 0']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual([out.dryRun, out.datasetId, out.rows, out.interactions], [true, null, 41828, 41828 - 33745]);
    assert.equal(existsSync(fresh), false);
  });

  it('fails with a non-zero exit and the reason on stderr', async () => {
    const dup = await cli(['import', SAMPLE, '--preset', 'kuairand', '--name', 'kr', '--db', dbPath, '--json']);
    assert.notEqual(dup.code, 0);
    assert.equal(dup.stdout, '');
    assert.match(dup.stderr, /a dataset named 'kr' already exists/);

    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'u,i,t\n1,2,3\n4,5\n');
    const r = await cli(['import', bad, '--preset', 'csv', '--name', 'bad', '--map', 'user=u,item=i,time=t', '--db', dbPath]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.csv:3:3: field 3: expected 3 fields like the header, got 2/);

    const map = await cli(['import', bad, '--preset', 'csv', '--name', 'bad', '--map', 'user=u,who=i', '--db', dbPath]);
    assert.equal(map.code, 1);
    assert.match(map.stderr, /bad --map entry 'who=i'/);

    const usage = await cli(['import', SAMPLE, '--preset', 'kuairand', '--db', dbPath]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--name is required/);
  });

  it('datasets lists the counts as a table and as JSON; CMI_STUDIO_DB picks the store', async () => {
    const table = await cli(['datasets'], { CMI_STUDIO_DB: dbPath });
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^id\s+name\s+preset\s+rows\s+interactions\s+users\s+items\s+days/);
    assert.match(table.stdout, /\bkr\s+kuairand\s+41,828\s+33,745\s+664\s+1,854\s+14\b/);
    const json = await cli(['datasets', '--db', dbPath, '--json']);
    const list = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    assert.equal(list.length, 1);
    assert.deepEqual([list[0].name, list[0].rows, list[0].interactions, list[0].users, list[0].items, list[0].days], ['kr', 41828, 33745, 664, 1854, 14]);
  });

  it('demo imports the bundled sample once and reuses it', async () => {
    const first = await cli(['demo', '--import-only', '--db', dbPath, '--json']);
    assert.equal(first.code, 0, first.stderr);
    const d = JSON.parse(first.stdout) as Record<string, unknown>;
    assert.deepEqual([d.name, d.interactions, d.users, d.items, d.days], ['kuairand-demo', 33745, 664, 1854, 14]);
    const again = await cli(['demo', '--import-only', '--db', dbPath]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /kuairand-demo/);
    const db = openDb(dbPath, { readonly: true });
    try {
      assert.equal(db.prepare("SELECT count(*) FROM datasets WHERE name = 'kuairand-demo'").pluck().get(), 1);
    } finally {
      db.close();
    }
  });

  it('datasets --delete removes a dataset', async () => {
    const r = await cli(['datasets', '--delete', 'kr', '--db', dbPath]);
    assert.equal(r.code, 0, r.stderr);
    const json = await cli(['datasets', '--db', dbPath, '--json']);
    assert.deepEqual((JSON.parse(json.stdout) as Array<{ name: string }>).map((d) => d.name), ['kuairand-demo']);
  });
});
