// The analyst's flow through the studio window, shared by the browser-host and Electron e2e
// tests: each step drives the page as a user would and checks what the page shows against the
// API's own answers.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { Reply } from '../../src/shared/api.ts';
import type { ImportResult } from '../../src/shared/types.ts';

export const SAMPLE = resolve('resources/sample/kuairand_likes_hates.tsv');
export const SAMPLE_ITEMS = resolve('resources/sample/kuairand_video_attributes.tsv');
export const SHOTS = resolve('test-results');

/** Calls the API from inside the page, over whichever transport the page itself uses. */
export async function pageApi<T>(page: Page, method: string, args: unknown[]): Promise<T> {
  const reply = await page.evaluate(
    async ([m, a]) => {
      const bridge = (window as { studio?: { invoke(m: string, a: unknown[]): Promise<unknown> } }).studio;
      if (bridge) return bridge.invoke(m, a);
      const res = await fetch(`/api/${m}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-studio-token': sessionStorage.getItem('cmi-studio-token') ?? '' },
        body: JSON.stringify(a),
      });
      return res.json();
    },
    [method, args] as const,
  );
  const r = reply as Reply<T>;
  if (!r.ok) throw new Error(`${method}: ${r.error.message}`);
  return r.result;
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

export async function visit(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
}

const countOf = async (page: Page, testid: string): Promise<number> =>
  Number(((await page.getByTestId(testid).locator('b').textContent()) ?? '').replace(/,/g, ''));

/**
 * Imports the sample through the wizard: the file reaches the server by `addFile`, the format
 * is detected, the live dry run shows the counts the API's own dry run gives, then the import
 * lands on the dataset page. Returns the new dataset's id.
 */
export async function importSample(page: Page, addFile: (page: Page) => Promise<void>, prefix: string): Promise<number> {
  await visit(page, '#/import');
  await addFile(page);
  await page.getByTestId('preview-table').waitFor();
  assert.match((await page.getByTestId('detected').textContent()) ?? '', /kuairand/);
  assert.equal(await page.getByTestId('preset').inputValue(), 'kuairand');
  await page.getByTestId('dry-positives').waitFor();

  const expected = await pageApi<ImportResult>(page, 'importDataset', [
    { files: [await page.getByTestId('file-list').locator('.mono').first().textContent()], preset: 'kuairand', name: 'e2e check', dryRun: true },
    'e2e-dry-check',
  ]);
  assert.equal(await countOf(page, 'dry-rows'), expected.rows);
  assert.equal(await countOf(page, 'dry-positives'), expected.interactions);
  assert.equal(await countOf(page, 'dry-users'), expected.users);
  assert.equal(await countOf(page, 'dry-items'), expected.items);
  assert.equal(await countOf(page, 'dry-days'), expected.days);

  // A stricter rule recounts live: likes that were also long views.
  await page.getByTestId('rule').fill('label == 1 && long_view == 1');
  await page.waitForFunction(
    (before) => {
      const b = document.querySelector('[data-testid="dry-positives"] b');
      return b !== null && Number(b.textContent?.replace(/,/g, '')) < before;
    },
    expected.interactions,
  );
  await shot(page, `${prefix}-import-wizard`);
  await page.getByTestId('rule').fill('label == 1');
  await page.waitForFunction(
    (want) => document.querySelector('[data-testid="dry-positives"] b')?.textContent?.replace(/,/g, '') === String(want),
    expected.interactions,
  );

  await page.getByTestId('dataset-name').fill('kuairand-sample');
  await page.getByTestId('import-start').click();
  await page.getByTestId('dataset-facts').waitFor();
  const id = Number(/#\/datasets\/(\d+)/.exec(page.url())?.[1]);
  assert.ok(id > 0, `the import opens the dataset page, not ${page.url()}`);
  const facts = (await page.getByTestId('dataset-facts').textContent()) ?? '';
  assert.match(facts, new RegExp(`Positives\\s*${expected.interactions.toLocaleString('en-US')}`));
  await page.getByTestId('chart-per-day').locator('canvas').waitFor();
  await page.getByTestId('chart-popularity').locator('canvas').waitFor();
  await shot(page, `${prefix}-dataset`);
  return id;
}

/** Small settings so a run takes seconds on two CPU cores; what is tested is the plumbing. */
export const SHORT_RUN: Record<string, number> = { dim: 16, batchSize: 64, maxSteps: 8, evalEvery: 4, checkpointEvery: 4 };

/**
 * Starts two short CMI runs from the training form (a sweep over 2 and 4 interests, so the
 * comparison has two rows) and watches the first one's loss curve grow until both are done.
 * Returns the run ids.
 */
export async function trainTwoRuns(page: Page, datasetId: number, prefix: string): Promise<number[]> {
  await visit(page, `#/train/${datasetId}`);
  await page.getByTestId('train-model').waitFor();
  await page.waitForFunction(() => (document.querySelector('[data-testid="train-model"]') as HTMLSelectElement | null)?.value === 'cmi');
  await page.getByTestId('train-interests').fill('4');
  await page.locator('details summary').click();
  for (const [key, value] of Object.entries(SHORT_RUN)) await page.locator(`[data-field="${key}"]`).fill(String(value));
  // Switching to another model and back keeps the budget: shared settings carry over, and the
  // form lists what the switch did.
  await page.getByTestId('train-model').selectOption('mind');
  const note = page.getByTestId('model-switch-note');
  await note.waitFor();
  for (const key of Object.keys(SHORT_RUN)) {
    assert.equal(await page.locator(`[data-field="${key}"]`).inputValue(), String(SHORT_RUN[key]), `MIND keeps ${key}`);
    assert.equal(await note.locator(`li[data-key="${key}"]`).getAttribute('data-why'), 'kept', `the note says ${key} was kept`);
  }
  assert.equal(await note.locator('li[data-key="lambdaCl"]').count(), 0, 'an untouched CMI-only key is not reported');
  await page.getByTestId('train-model').selectOption('cmi');
  assert.equal(await page.getByTestId('train-interests').inputValue(), '4', 'the number of interests came back with the model');
  for (const [key, value] of Object.entries(SHORT_RUN)) assert.equal(await page.locator(`[data-field="${key}"]`).inputValue(), String(value));
  await page.getByTestId('train-seeds').fill('1');
  await page.getByTestId('train-interests-sweep').fill('2, 4');
  assert.match((await page.getByTestId('train-start').textContent()) ?? '', /Start 2 runs/);
  await shot(page, `${prefix}-train-form`);
  await page.getByTestId('train-start').click();

  await page.waitForURL(/#\/runs\/\d+$/);
  const first = Number(/#\/runs\/(\d+)/.exec(page.url())?.[1]);
  // The page opened before the worker (tsx + TF.js) reported a step: every point it ends up
  // with came live over the event stream. Record the point counts it shows on the way.
  const seen = new Set<string>();
  for (;;) {
    const status = await page.getByTestId('run-status').textContent();
    const points = page.getByTestId('loss-points');
    if (await points.count()) seen.add((await points.textContent()) ?? '');
    if (status === 'done' || status === 'failed' || status === 'interrupted') break;
    await page.waitForTimeout(100);
  }
  assert.equal(await page.getByTestId('run-status').textContent(), 'done', (await page.getByRole('alert').allTextContents()).join('\n'));
  await page.getByTestId('valid-charts').locator('canvas').first().waitFor();
  // Every evaluation reported its progress; the last one the page saw is the test on every user.
  const evaluation = page.getByTestId('eval-progress');
  assert.match((await evaluation.textContent()) ?? '', /Last: Test \(every user\)/);
  assert.equal(await evaluation.getAttribute('data-done'), await evaluation.getAttribute('data-total'));
  assert.equal(await page.getByTestId('run-stopped').textContent(), 'max-steps');
  assert.ok(seen.size >= 2, `the loss curve grew while the page watched (saw ${[...seen].join(' | ')})`);
  // What arrived live is what the store recorded, point for point.
  const curves = await pageApi<{ kind: string }[]>(page, 'runCurves', [first]);
  assert.match((await page.getByTestId('loss-points').textContent()) ?? '', new RegExp(`^${curves.filter((p) => p.kind === 'train').length} points`));
  await shot(page, `${prefix}-run`);

  const runs = await pageApi<{ id: number; status: string }[]>(page, 'listRuns', [{ datasetId }]);
  assert.equal(runs.length, 2);
  const second = runs.find((r) => r.id !== first);
  assert.ok(second);
  // The second run trains beside the first (two workers); wait for it through the experiments list.
  await visit(page, '#/runs');
  await page.getByTestId('run-table').waitFor();
  const stored = async () => pageApi<{ id: number; status: string; steps: number; error: string | null }[]>(page, 'listRuns', [{ datasetId }]);
  for (let i = 0; i < 1800 && !(await stored()).every((r) => ['done', 'failed', 'interrupted', 'cancelled'].includes(r.status)); i++) await page.waitForTimeout(100);
  const ended = await stored();
  assert.ok(ended.every((r) => r.status === 'done'), `both runs finished: ${JSON.stringify(ended.map((r) => [r.id, r.status, r.steps, r.error]))}`);
  // The list follows the store without a reload.
  await page
    .waitForFunction(
      () => Array.from(document.querySelectorAll('[data-testid="run-table"] [data-testid="run-status"]')).every((e) => e.textContent === 'done'),
      undefined,
      { timeout: 30_000 },
    )
    .catch(async (err: unknown) => {
      const shown = await page.locator('[data-testid="run-table"] [data-testid="run-status"]').allTextContents();
      await shot(page, `${prefix}-runs-stale`);
      throw new Error(`the list shows ${shown.join(', ')} for runs the store has done: ${String(err)}`);
    });
  await shot(page, `${prefix}-runs`);
  return [first, second.id];
}

/** Opens the inspector for the first test-day user of a run and checks what it shows. */
export async function inspectFirstUser(page: Page, runId: number, prefix: string): Promise<void> {
  await visit(page, `#/inspect/${runId}`);
  const firstUser = page.getByTestId('inspect-users').locator('a').first();
  await firstUser.waitFor({ timeout: 30_000 });
  const raw = ((await firstUser.locator('.mono').textContent()) ?? '').trim();
  await firstUser.click();
  await page.getByTestId('inspection').waitFor({ timeout: 60_000 });
  assert.equal(((await page.getByTestId('inspected-user').textContent()) ?? '').trim(), raw);
  assert.ok((await page.getByTestId('history').locator('.item').count()) > 0, 'the history is drawn');
  await page.getByTestId('chart-map').locator('canvas').waitFor();
  await shot(page, `${prefix}-inspect`);
}

/**
 * Builds the comparison of the two runs and exports it as LaTeX: the page's table marks the
 * same best cells as the API's own table, and the exported file holds that table.
 */
export async function compareAndExport(page: Page, runIds: number[], prefix: string, readExport: (page: Page) => Promise<string>): Promise<void> {
  await visit(page, '#/compare');
  await page.getByTestId('compare-runs').waitFor();
  await page.getByTestId('compare-build').click();
  const table = page.getByTestId('paper-table');
  await table.waitFor();
  const expected = await pageApi<{ rows: { label: string; cells: { rank: number | null }[] }[]; columns: unknown[] }>(page, 'compareRuns', [
    { runIds, metrics: ['recall', 'hitrate'], ks: [10, 20, 50], significance: 'ttest' },
  ]);
  assert.equal(expected.rows.length, 2);
  assert.equal(await table.locator('tbody tr').count(), 3, 'two models and the Improv. row');
  for (const [r, row] of expected.rows.entries()) {
    const cells = table.locator('tbody tr').nth(r).locator('td');
    assert.equal(((await cells.first().textContent()) ?? '').trim(), row.label);
    for (const [c, cell] of row.cells.entries()) {
      const span = cells.nth(2 + c).locator('span');
      assert.equal(await span.evaluate((e) => e.classList.contains('best')), cell.rank === 1, `${row.label} column ${c} bold`);
      assert.equal(await span.evaluate((e) => e.classList.contains('second')), cell.rank === 2, `${row.label} column ${c} underlined`);
    }
  }
  await page.getByTestId('compare-chart-recall').locator('canvas').waitFor();
  await shot(page, `${prefix}-compare`);

  const latex = await readExport(page);
  assert.match(latex, /\\begin\{table\}/);
  assert.match(latex, /\\textbf\{/);
  assert.match(latex, /Improv\./);
  for (const row of expected.rows) assert.ok(latex.includes(row.label.replace(/#/g, '\\#')), `LaTeX names ${row.label}`);
  assert.equal(((await page.getByTestId('export-text').textContent()) ?? '').trim(), latex.trim());
}

/**
 * A long set started from the API, handled as a whole from the experiments list: running rows
 * show live steps, Cancel set stops every run of it, Resume set queues them again, Delete set
 * removes them all.
 */
export async function cancelResumeDeleteSet(page: Page, datasetId: number, prefix: string): Promise<void> {
  const group = 'e2e long set';
  const runs = await pageApi<{ id: number }[]>(page, 'startTraining', [
    { datasetId, model: 'cmi', config: { ...SHORT_RUN, maxSteps: 100_000, evalEvery: 1000 }, seeds: [7, 8, 9], group },
  ]);
  await visit(page, '#/runs');
  const row = page.locator(`[data-testid="set-table"] tr[data-group="${group}"]`);
  await row.waitFor();
  // A running row's steps grow without a reload.
  await page.waitForFunction(
    (ids) =>
      ids.some((id) => {
        const tr = document.querySelector(`[data-testid="run-table"] tr[data-run="${id}"]`);
        return tr?.querySelector('[data-testid="run-status"]')?.textContent === 'running' && Number(tr.querySelector('[data-testid="run-steps"]')?.textContent?.replace(/,/g, '')) > 0;
      }),
    runs.map((r) => r.id),
    { timeout: 120_000 },
  );
  await shot(page, `${prefix}-set-running`);
  const statuses = async () => (await pageApi<{ status: string }[]>(page, 'listRuns', [{ group }])).map((r) => r.status);
  const until = async (what: string, ok: (s: string[]) => boolean) => {
    for (let i = 0; i < 600; i++) {
      if (ok(await statuses())) return;
      await page.waitForTimeout(100);
    }
    assert.fail(`the set never got ${what}: ${(await statuses()).join(', ')}`);
  };
  await row.getByTestId('set-cancel').click();
  await until('cancelled', (s) => s.every((x) => x === 'cancelled'));
  await page.waitForFunction((g) => (document.querySelector(`tr[data-group="${g}"] [data-testid="set-resume"]`) as HTMLButtonElement | null)?.disabled === false, group);
  await row.getByTestId('set-resume').click();
  await until('queued again', (s) => s.every((x) => x === 'queued' || x === 'running'));
  await row.getByTestId('set-cancel').click();
  await until('cancelled again', (s) => s.every((x) => x === 'cancelled'));
  page.once('dialog', (d) => void d.accept());
  await page.waitForFunction((g) => (document.querySelector(`tr[data-group="${g}"] [data-testid="set-delete"]`) as HTMLButtonElement | null)?.disabled === false, group);
  await row.getByTestId('set-delete').click();
  await row.waitFor({ state: 'detached' });
  assert.deepEqual(await statuses(), [], 'every run of the set is gone');
}

/**
 * The experiments list as an analyst's notebook, on the flow's two trained runs: tags and a note
 * saved on a run page, the config and the item embeddings downloaded, the list searched, sorted
 * by a metric and filtered by tag with the filters kept in the address across a reload, and the
 * two runs' parameters diffed. `readDownload` clicks and returns the file's name and text.
 */
export async function annotateSortDiffRuns(
  page: Page,
  runIds: number[],
  prefix: string,
  readDownload: (page: Page, testid: string) => Promise<{ name: string; text: string }>,
): Promise<void> {
  const [first, second] = runIds;
  await visit(page, `#/runs/${first}`);
  await page.getByTestId('run-annotations').waitFor();
  await page.getByTestId('run-tags-input').fill('baseline, e2e');
  await page.getByTestId('run-note-input').fill('the reference run of the flow');
  await page.getByTestId('run-annotations-save').click();
  await page.getByTestId('run-annotations-saved').waitFor();
  const saved = await pageApi<{ tags: string[]; note: string; datasetName: string }>(page, 'getRun', [first]);
  assert.deepEqual([saved.tags, saved.note], [['baseline', 'e2e'], 'the reference run of the flow']);

  const config = await readDownload(page, 'run-config-download');
  assert.equal(config.name, `${saved.datasetName}-run-${first}-config.json`);
  assert.deepEqual(JSON.parse(config.text), await pageApi(page, 'runConfig', [first]));
  const embeddings = await readDownload(page, 'run-embeddings-download');
  assert.equal(embeddings.name, `${saved.datasetName}-run-${first}-item-embeddings.tsv`);
  assert.match(embeddings.text, /^raw_item_id\tv0\tv1\t/);
  assert.equal(embeddings.text, await pageApi<string>(page, 'exportEmbeddings', [first, 'tsv']));

  const shown = () => page.locator('[data-testid="run-table"] tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-run'))));
  const until = async (what: string, want: number[]) => {
    await page
      .waitForFunction((ids) => JSON.stringify(Array.from(document.querySelectorAll('[data-testid="run-table"] tbody tr'), (r) => Number(r.getAttribute('data-run')))) === JSON.stringify(ids), want, { timeout: 15_000 })
      .catch(async () => assert.fail(`${what}: the list shows ${JSON.stringify(await shown())}, not ${JSON.stringify(want)}`));
  };
  await visit(page, '#/runs');
  await until('every run', [first, second]);
  await page.getByTestId('runs-search').fill('REFERENCE');
  await until('searched by the note', [first]);
  assert.match(page.url(), /#\/runs\?q=REFERENCE$/);
  // A reload (or the same link in another tab) restores the search.
  await page.reload();
  await until('after a reload', [first]);
  assert.equal(await page.getByTestId('runs-search').inputValue(), 'REFERENCE');
  assert.match((await page.locator(`tr[data-run="${first}"] [data-testid="run-tags"]`).textContent()) ?? '', /baseline\s*e2e/);
  assert.equal(await page.locator(`tr[data-run="${first}"] [data-testid="run-note"]`).textContent(), 'the reference run of the flow');
  await page.getByTestId('runs-search').fill('');
  await until('search cleared', [first, second]);

  // Sorted by the test metric: best first, then flipped; the order is the API's.
  await page.locator('button[data-sort="test:recall@50"]').click();
  const best = (await pageApi<{ id: number }[]>(page, 'listRuns', [{ sort: 'test:recall@50', desc: true }])).map((r) => r.id);
  await until('sorted by test recall@50, best first', best);
  await page.locator('button[data-sort="test:recall@50"]').click();
  await until('sorted by test recall@50, worst first', [...best].reverse());
  assert.match(page.url(), /sort=test%3Arecall%4050/);
  await page.getByTestId('filter-tag').selectOption('e2e');
  await until('the tag e2e', [first]);
  await visit(page, '#/runs');
  await until('the address without filters', [first, second]);
  assert.equal(await page.getByTestId('filter-tag').inputValue(), '', 'the tag filter follows the address');

  // The two runs of the sweep differ in the number of interests only.
  await page.locator(`tr[data-run="${first}"] [data-testid="run-pick"]`).check();
  await page.locator(`tr[data-run="${second}"] [data-testid="run-pick"]`).check();
  await page.getByTestId('runs-diff').click();
  const panel = page.getByTestId('run-diff');
  await panel.waitFor();
  const diff = await pageApi<{ differences: { section: string; key: string; a: unknown; b: unknown }[] }>(page, 'diffRuns', [first, second]);
  assert.ok(diff.differences.some((d) => d.key === 'interests'));
  assert.equal(await panel.locator('tbody tr').count(), diff.differences.length);
  for (const d of diff.differences) {
    const name = d.section === 'config' ? d.key : `${d.section}: ${d.key}`;
    assert.deepEqual(await panel.locator(`tr[data-section="${d.section}"][data-key="${d.key}"] td`).allTextContents(), [name, String(d.a), String(d.b)]);
  }
  await shot(page, `${prefix}-runs-diff`);
}

/**
 * The inspector's user list of a finished run: only the hits, ordered by a metric best first
 * (the API's order), then one user found by raw id, and a clear message for an unknown id.
 */
export async function filterAndFindUsers(page: Page, runId: number, prefix: string): Promise<void> {
  await visit(page, `#/inspect/${runId}`);
  const list = page.getByTestId('inspect-users');
  await list.locator('a').first().waitFor({ timeout: 30_000 });
  await page.getByTestId('inspect-filter').selectOption('hit');
  await page.getByTestId('inspect-sort').selectOption('metric-desc');
  const expected = await pageApi<{ total: number; users: { uid: number; value: number }[] }>(page, 'inspectableUsers', [runId, { filter: 'hit', sort: 'metric-desc', metric: 'recall@50' }]);
  assert.ok(expected.total > 0, 'some users hit');
  await page.waitForFunction(
    ([total, uids]) =>
      document.querySelector('[data-testid="inspect-count"]')?.getAttribute('data-total') === String(total) &&
      JSON.stringify(Array.from(document.querySelectorAll('[data-testid="inspect-users"] a'), (a) => Number(a.getAttribute('data-uid')))) === JSON.stringify(uids),
    [expected.total, expected.users.map((u) => u.uid)] as const,
    { timeout: 15_000 },
  );
  assert.deepEqual(new Set(await list.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('data-hit')))), new Set(['true']));
  await shot(page, `${prefix}-inspect-hits`);

  const someone = (await pageApi<{ users: { uid: number; raw: string }[] }>(page, 'inspectableUsers', [runId, { filter: 'miss', limit: 5 }])).users[4];
  await page.getByTestId('inspect-find').fill('no-such-user');
  await page.getByTestId('inspect-find-go').click();
  await page.getByTestId('inspect-find-error').getByRole('alert').waitFor();
  assert.match((await page.getByTestId('inspect-find-error').textContent()) ?? '', /no user with raw id 'no-such-user' in dataset/);
  await page.getByTestId('inspect-find').fill(someone.raw);
  await page.getByTestId('inspect-find-go').click();
  await page.waitForURL(new RegExp(`#/inspect/${runId}/${someone.uid}$`));
  await page.getByTestId('inspection').waitFor({ timeout: 60_000 });
  assert.equal(((await page.getByTestId('inspected-user').textContent()) ?? '').trim(), someone.raw);
  assert.equal(await page.getByTestId('inspect-find-error').getByRole('alert').count(), 0, 'the message went with the unknown id');
}

/**
 * Results imported with `import-results` have no model: their run page disables re-run, the
 * inspector and the embedding export with the reason as the title, the inspector's run list
 * offers them disabled, and the API refuses the same actions with the same reason.
 */
export async function importedRunRefused(page: Page, runId: number, prefix: string): Promise<void> {
  const why = /holds results imported from .* with import-results: there is no model to/;
  await visit(page, `#/runs/${runId}`);
  await page.getByTestId('run-facts').waitFor();
  for (const testid of ['run-rerun', 'run-inspect', 'run-embeddings-download']) {
    const button = page.getByTestId(testid);
    assert.equal(await button.isDisabled(), true, `${testid} is disabled`);
    assert.match((await button.getAttribute('title')) ?? '', why, `${testid} says why`);
  }
  assert.equal(await page.getByTestId('run-config-download').isDisabled(), false, 'its config still downloads');
  await page.getByTestId('run-imported-note').waitFor();
  await shot(page, `${prefix}-imported-run`);
  await visit(page, '#/inspect');
  const option = page.locator(`[data-testid="inspect-run"] option[value="${runId}"]`);
  await option.waitFor({ state: 'attached' });
  assert.equal(await option.isDisabled(), true, 'the inspector does not offer it');
  for (const [method, args] of [['rerun', [runId]], ['inspectableUsers', [runId]], ['exportEmbeddings', [runId]]] as const) {
    await assert.rejects(pageApi(page, method, [...args]), why, `${method} is refused`);
  }
}

/**
 * Attaches the sample's item-attribute file on the dataset page (`addFile` puts it in the
 * panel's picker), then finds the attributes beside the history items in the inspector and the
 * interest-alignment figure on the run page, each as the API gives it.
 */
export async function itemAttributesAndAlignment(page: Page, datasetId: number, runId: number, prefix: string, addFile: (panel: Locator) => Promise<void>): Promise<void> {
  await visit(page, `#/datasets/${datasetId}`);
  const panel = page.getByTestId('item-attributes');
  await panel.waitFor();
  await addFile(panel);
  await panel.getByTestId('item-attach').click();
  await panel.getByTestId('item-import-result').waitFor();
  assert.match((await panel.getByTestId('item-import-result').textContent()) ?? '', /items matched \(video_id\), [\d,]+ rows of items this dataset does not know/);
  const attributes = await pageApi<{ name: string; items: number }[]>(page, 'itemAttributes', [datasetId]);
  assert.deepEqual(attributes.map((a) => a.name), ['duration_class', 'duration_s', 'engagement']);
  for (const a of attributes) {
    const cells = panel.locator(`tr[data-attribute="${a.name}"] td`);
    assert.equal(((await cells.nth(2).textContent()) ?? '').replace(/,/g, ''), String(a.items));
  }
  await shot(page, `${prefix}-item-attributes`);

  const [user] = (await pageApi<{ users: { uid: number }[] }>(page, 'inspectableUsers', [runId])).users;
  await visit(page, `#/inspect/${runId}/${user.uid}`);
  const table = page.getByTestId('history-attributes');
  await table.waitFor({ timeout: 60_000 });
  const ins = await pageApi<{ history: { raw: string; attributes: Record<string, string> }[] }>(page, 'inspectUser', [runId, user.uid, 50]);
  assert.equal(await table.locator('tbody tr').count(), ins.history.length);
  for (const [i, h] of ins.history.slice(0, 5).entries()) {
    const row = table.locator('tbody tr').nth(i);
    assert.equal(await row.getAttribute('data-item'), h.raw);
    assert.equal(((await row.locator('td[data-attribute="duration_class"]').textContent()) ?? '').trim(), h.attributes.duration_class ?? '');
  }
  await shot(page, `${prefix}-inspect-attributes`);

  await visit(page, `#/runs/${runId}`);
  const align = page.getByTestId('alignment');
  await align.getByTestId('alignment-attribute').selectOption('duration_class');
  await align.getByTestId('alignment-compute').click();
  const nmi = align.locator('tr[data-attribute="duration_class"] [data-testid="alignment-nmi"]');
  await nmi.waitFor({ timeout: 60_000 });
  const want = await pageApi<{ pooled: { nmi: number } }>(page, 'interestAlignment', [runId, 'duration_class']);
  assert.equal(((await nmi.textContent()) ?? '').trim(), want.pooled.nmi.toFixed(3));
  await shot(page, `${prefix}-alignment`);

  // The compare screen puts every compared run's figure side by side.
  await visit(page, '#/compare');
  await page.getByTestId('compare-runs').waitFor();
  await page.getByTestId('compare-build').click();
  await page.getByTestId('paper-table').waitFor();
  const side = page.getByTestId('alignment');
  await side.getByTestId('alignment-attribute').selectOption('duration_class');
  await side.getByTestId('alignment-compute').click();
  const rows = side.locator('tr[data-attribute="duration_class"]');
  // The screen starts from the runs of the latest split; imported results have no interests.
  const done = await pageApi<{ id: number; splitId: number; model: string }[]>(page, 'listRuns', [{ datasetId, status: 'done' }]);
  const compared = done.filter((r) => r.splitId === done[done.length - 1].splitId && r.model !== 'external').length;
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="alignment"] tr[data-attribute="duration_class"]').length === n, compared, { timeout: 120_000 });
  assert.equal(((await rows.and(page.locator(`[data-run="${runId}"]`)).getByTestId('alignment-nmi').textContent()) ?? '').trim(), want.pooled.nmi.toFixed(3));
  await shot(page, `${prefix}-compare-alignment`);
}
