// The analyst's reading of results, shared by the e2e tests like flow.ts: the curve panels
// (overlay, smoothing, log scale, time axes), identical runs as one row, the proposed model's
// negative Improv., another system's lists as a compare row, and errors shown where the user
// looks. Each step checks the page against the API's or the store's own answer.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { ComparisonTable } from '../../src/shared/tables.ts';
import type { CurvePoint, DatasetSummary, RunSummary } from '../../src/shared/types.ts';
import { pageApi, shot, visit } from './flow.ts';

/** Runs the `cmi-studio` CLI on the page's database; resolves with stdout, throws on failure. */
export type Cli = (args: string[]) => Promise<string>;

const attr = async (page: Page, testid: string, name: string): Promise<string | null> => page.getByTestId(testid).getAttribute(name);

/** Waits until a chart's figure has an attribute value (charts redraw when controls change). */
async function untilAttr(page: Page, testid: string, name: string, want: string): Promise<void> {
  await page
    .waitForFunction(([t, n, w]) => document.querySelector(`[data-testid="${t}"]`)?.getAttribute(n) === w, [testid, name, want] as const, { timeout: 15_000 })
    .catch(async () => assert.fail(`${testid} ${name}: ${await attr(page, testid, name)}, wanted ${want}`));
}

/** The rows of a chart's text alternative (its visually hidden table). */
async function chartRows(page: Page, testid: string): Promise<string[][]> {
  return page.getByTestId(testid).locator('[data-testid="chart-text"] tbody tr').evaluateAll((trs) =>
    trs.map((tr) => Array.from(tr.children).map((c) => c.textContent ?? '')),
  );
}

async function waitDone(page: Page, runId: number): Promise<RunSummary> {
  for (let i = 0; i < 1800; i++) {
    const r = await pageApi<RunSummary>(page, 'getRun', [runId]);
    if (['done', 'failed', 'interrupted', 'cancelled'].includes(r.status)) {
      assert.equal(r.status, 'done', r.error ?? '');
      return r;
    }
    await page.waitForTimeout(100);
  }
  assert.fail(`run ${runId} never finished`);
}

/**
 * Item 6: the run page draws one panel per loss term and per validation metric; another run
 * overlaid adds its series to every panel; smoothing draws a faint raw line under the smoothed
 * one; a log y axis where every value is positive (linear, and said, where one is not); the
 * x axis by step, training time or wall clock. Each panel's text alternative lists the runs
 * with the stored point counts.
 */
export async function curvePanels(page: Page, runIds: number[], prefix: string): Promise<void> {
  const [first, second] = runIds;
  await visit(page, `#/runs/${first}`);
  await page.getByTestId('curves').waitFor();
  await page.getByTestId('valid-charts').locator('canvas').first().waitFor();
  const stored = new Map<number, CurvePoint[]>();
  for (const id of runIds) stored.set(id, await pageApi<CurvePoint[]>(page, 'runCurves', [id]));
  const train = (id: number) => stored.get(id)!.filter((p) => p.kind === 'train');
  const terms = [...new Set(train(first).flatMap((p) => Object.keys(p.values)))];
  assert.ok(terms.includes('main') && terms.includes('cl'), `CMI records its terms: ${terms.join(', ')}`);
  assert.ok(train(first).every((p) => p.seconds !== undefined && p.time !== undefined), 'every point is timed');
  for (const t of terms) {
    const rows = await chartRows(page, `loss-chart-${t}`);
    assert.equal(rows.length, 1, `${t}: one run drawn`);
    assert.equal(rows[0][1], String(train(first).filter((p) => t in p.values).length), `${t}: every stored point`);
  }
  const main = page.getByRole('img', { name: /^Training loss term main by step\./ });
  assert.equal(await main.count(), 1, 'the panel has a text alternative');

  // Smoothing on (the default): raw and smoothed series; off: the raw one alone.
  assert.equal(await attr(page, 'loss-chart-main', 'data-series'), '2');
  await page.getByTestId('curve-smoothing').fill('0');
  await untilAttr(page, 'loss-chart-main', 'data-series', '1');
  await page.getByTestId('curve-smoothing').fill('0.6');
  await untilAttr(page, 'loss-chart-main', 'data-series', '2');

  // The second run overlaid: two runs in every panel, each with its own stored points.
  await page.getByTestId('curve-overlay').locator('summary').click();
  await page.getByLabel(new RegExp(`^#${second} `)).check();
  await untilAttr(page, 'loss-chart-main', 'data-series', '4');
  const rows = await chartRows(page, 'loss-chart-main');
  assert.deepEqual(rows.map((r) => r[0].split(' ')[0]), [`#${first}`, `#${second}`]);
  assert.equal(rows[1][1], String(train(second).filter((p) => 'main' in p.values).length));
  for (const m of Object.keys(stored.get(first)!.find((p) => p.kind === 'valid')!.values).filter((n) => n.startsWith('recall@'))) {
    assert.equal((await chartRows(page, `valid-chart-${m}`)).length, 2, `${m}: both runs`);
  }
  // The choice is in the address: a reload draws the same overlay.
  assert.match(page.url(), new RegExp(`[?&]overlay=${second}(&|$)`));
  await page.reload();
  await untilAttr(page, 'loss-chart-main', 'data-series', '4');

  // Log scale: terms positive in both runs go log; a term with values <= 0 stays linear, and says so.
  await page.getByTestId('curve-log').check();
  for (const t of terms) {
    const positive = runIds.every((id) => train(id).every((p) => !(t in p.values) || p.values[t] > 0));
    await untilAttr(page, `loss-chart-${t}`, 'data-y', positive ? 'log' : 'value');
    const note = page.getByTestId(`loss-chart-${t}`).locator('xpath=..').getByTestId('log-fallback');
    assert.equal(await note.count(), positive ? 0 : 1, `${t}: the linear fallback is ${positive ? 'not ' : ''}noted`);
  }
  await shot(page, `${prefix}-curves-overlay-log`);
  await page.getByTestId('curve-log').uncheck();

  // Training time and wall clock: both runs recorded times, so both stay drawn.
  await page.getByTestId('curve-axis').selectOption('relative');
  await untilAttr(page, 'loss-chart-main', 'data-x', 'value');
  const byTime = await chartRows(page, 'loss-chart-main');
  assert.equal(byTime.length, 2);
  assert.match(byTime[0][2], /^\d+ (s|min)/, `the range is a duration: ${byTime[0][2]}`);
  await page.getByTestId('curve-axis').selectOption('wall');
  await untilAttr(page, 'loss-chart-main', 'data-x', 'time');
  assert.equal(await page.getByTestId('curve-untimed').count(), 0, 'no run lacks times');
  await shot(page, `${prefix}-curves-wall-clock`);
  await page.getByTestId('curve-axis').selectOption('step');
}

/** Builds the table on the compare screen for the runs it offers (it starts from the latest split's). */
async function buildTable(page: Page): Promise<void> {
  await page.getByTestId('compare-build').click();
  await page.waitForFunction(() => (document.querySelector('[data-testid="compare-build"]') as HTMLButtonElement | null)?.textContent?.trim() === 'Build the table');
  await page.getByTestId('paper-table').waitFor();
}

const bodyRows = async (page: Page): Promise<string[][]> =>
  page.getByTestId('paper-table').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((c) => (c.textContent ?? '').trim())));

/**
 * Item 2: a re-run with the same seed (the run page's button) is the same experiment: the
 * comparison keeps one row for it, counted once (no "2 seeds"). Returns the re-run's id.
 */
export async function identicalRunsOneRow(page: Page, runIds: number[], prefix: string): Promise<number> {
  await visit(page, `#/runs/${runIds[0]}`);
  await page.getByRole('button', { name: /^Re-run with seed/ }).click();
  await page.waitForURL((u) => /#\/runs\/\d+$/.test(u.hash) && !u.hash.endsWith(`/${runIds[0]}`));
  const rerun = Number(/#\/runs\/(\d+)/.exec(page.url())?.[1]);
  const done = await waitDone(page, rerun);
  const original = await pageApi<RunSummary>(page, 'getRun', [runIds[0]]);
  assert.equal(done.seed, original.seed);
  assert.deepEqual(done.test, original.test, 'same seed, same data: the same test metrics');

  await visit(page, '#/datasets');
  await visit(page, '#/compare');
  await page.getByTestId(`compare-run-${rerun}`).waitFor();
  assert.ok(await page.getByTestId(`compare-run-${rerun}`).isChecked(), 'the re-run is among the chosen runs');
  await buildTable(page);
  const api = await pageApi<ComparisonTable>(page, 'compareRuns', [{ runIds: [...runIds, rerun], metrics: ['recall', 'hitrate'], ks: [10, 20, 50], significance: 'ttest' }]);
  assert.equal(api.rows.length, 2, 'the re-run joins its original');
  assert.ok(api.rows.every((r) => r.runs === 1), 'one distinct seed per row');
  const shown = await bodyRows(page);
  assert.deepEqual(shown.slice(0, -1).map((r) => r[0]), api.rows.map((r) => r.label), 'two model rows, no "(2 seeds)"');
  await shot(page, `${prefix}-compare-rerun`);
  return rerun;
}

/**
 * Item 3: with a proposed model that is not the best, the Improv. row shows its negative gap
 * to the best other model, as the API computes it; the proposed-model list follows the runs
 * chosen.
 */
export async function improvementOfProposedModel(page: Page, runIds: number[], prefix: string): Promise<void> {
  const req = { runIds, metrics: ['recall', 'hitrate'], ks: [10, 20, 50], significance: 'ttest' };
  const plain = await pageApi<ComparisonTable>(page, 'compareRuns', [req]);
  // The row that is best in fewer columns: it trails somewhere.
  const bestCount = (r: ComparisonTable['rows'][number]) => r.cells.filter((c) => c.rank === 1).length;
  const focus = [...plain.rows].sort((a, b) => bestCount(a) - bestCount(b))[0].label;
  await page.getByTestId('compare-focus').selectOption(focus);
  await buildTable(page);
  const expected = await pageApi<ComparisonTable>(page, 'compareRuns', [{ ...req, focus }]);
  assert.ok(expected.summary.some((s) => s.improvement !== null && s.improvement < 0), `${focus} trails somewhere: ${JSON.stringify(expected.summary.map((s) => s.improvement))}`);
  const shown = await bodyRows(page);
  const improv = shown[shown.length - 1];
  assert.equal(improv[0], 'Improv.');
  assert.equal(improv[1], '', 'the #I cell of the Improv. row is empty');
  assert.deepEqual(improv.slice(2), expected.summary.map((s) => (s.improvement === null ? '/' : `${s.improvement.toFixed(2)}%`)));
  assert.ok(improv.slice(2).some((c) => c.startsWith('-')), 'a negative improvement is shown');
  await shot(page, `${prefix}-compare-negative-improv`);

  // The list follows the selection: unchoosing a run drops its row label, choosing it brings it back.
  const focusOptions = () => page.getByTestId('compare-focus').locator('option').allTextContents();
  const other = plain.rows.find((r) => r.label !== focus)!.label;
  const runs = await pageApi<RunSummary[]>(page, 'listRuns', [{ status: 'done' }]);
  const otherRun = runIds.find((id) => runs.find((r) => r.id === id)?.interests === plain.rows.find((r) => r.label === other)!.interests)!;
  const box = page.getByTestId(`compare-run-${otherRun}`);
  const labelled = page.getByLabel(runs.find((r) => r.id === otherRun)!.label, { exact: true });
  assert.ok((await labelled.count()) >= 1, 'the run checkboxes have accessible names');
  await box.uncheck();
  const remaining = await pageApi<string[]>(page, 'compareLabels', [runIds.filter((id) => id !== otherRun)]);
  await page.waitForFunction((want) => {
    const opts = Array.from(document.querySelectorAll('[data-testid="compare-focus"] option')).map((o) => o.textContent);
    return opts.length === want.length + 1 && want.every((w) => opts.includes(w));
  }, remaining);
  assert.ok(!(await focusOptions()).includes(other), `${other} left the proposed-model list`);
  await box.check();
  await page.waitForFunction((want) => Array.from(document.querySelectorAll('[data-testid="compare-focus"] option')).some((o) => o.textContent === want), other);
}

/** Rows of a RecBole .inter file after its header. */
function readInter(path: string): string[][] {
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(1).map((l) => l.split('\t'));
}

/**
 * Item 10 in the window: the split goes out by `export-split`, a popularity list computed here
 * from the exported training file comes back by `import-results`, and the compare screen shows
 * it as a row whose Recall@50 is the one that list has on the exported test file.
 */
/** Returns the imported run's id. */
export async function importedResultsRow(page: Page, datasetId: number, cli: Cli, dir: string, prefix: string): Promise<number> {
  const dataset = await pageApi<DatasetSummary>(page, 'getDataset', [datasetId]);
  const runs = await pageApi<RunSummary[]>(page, 'listRuns', [{ datasetId, status: 'done' }]);
  const split = runs[runs.length - 1].splitId;
  const out = join(dir, 'exported');
  mkdirSync(out, { recursive: true });
  const exported = JSON.parse((await cli(['export-split', '--dataset', dataset.name, '--split', String(split), '--format', 'recbole', '--out', out])).trim()) as {
    files: { train: string; test: string };
  };
  const counts = new Map<string, number>();
  for (const [, item] of readInter(exported.files.train)) counts.set(item, (counts.get(item) ?? 0) + 1);
  const popular = [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)! || (a < b ? -1 : 1)).slice(0, 100);
  const targets = new Map<string, Set<string>>();
  for (const [u, item] of readInter(exported.files.test)) targets.set(u, (targets.get(u) ?? new Set()).add(item));
  const file = join(dir, 'pop-outside.csv');
  writeFileSync(file, ['user,item,rank', ...[...targets.keys()].flatMap((u) => popular.map((item, i) => `${u},${item},${i + 1}`))].join('\n') + '\n');
  const label = 'Pop (outside)';
  const imported = JSON.parse((await cli(['import-results', file, '--dataset', dataset.name, '--split', String(split), '--label', label, '--json'])).trim()) as { runId: number };
  const top50 = new Set(popular.slice(0, 50));
  let sum = 0;
  for (const t of targets.values()) sum += [...t].filter((i) => top50.has(i)).length / t.size;
  const recall50 = sum / targets.size;

  await visit(page, '#/datasets');
  await visit(page, '#/compare');
  const box = page.getByTestId(`compare-run-${imported.runId}`);
  await box.waitFor();
  assert.ok(await box.isChecked(), 'the imported lists are offered with the runs of their split');
  await page.getByTestId('compare-focus').selectOption('');
  await buildTable(page);
  const ids = [...new Set([...runIds(runs), imported.runId])];
  const api = await pageApi<ComparisonTable>(page, 'compareRuns', [{ runIds: ids, metrics: ['recall', 'hitrate'], ks: [10, 20, 50], significance: 'ttest' }]);
  const at = api.columns.findIndex((c) => c.key === 'recall@50');
  const row = (await bodyRows(page)).find((r) => r[0] === label);
  assert.ok(row, `the compare table has the row ${label}`);
  assert.equal(row[2 + at].replace(/\*$/, ''), recall50.toFixed(api.digits), 'its Recall@50 is the list\'s own on the exported test file');
  await shot(page, `${prefix}-compare-imported`);
  return imported.runId;
}

const runIds = (runs: RunSummary[]): number[] => runs.map((r) => r.id);

/**
 * Item 11 in the import wizard: accessible names on the path and rule inputs; an invalid rule
 * keeps the last counts, greyed and marked; a dry run superseded while it counts never shows
 * "import cancelled"; a refused import says why beside its button, in view and focused.
 */
export async function importErrorsWhereTheUserLooks(page: Page, addFile: (page: Page) => Promise<void>, takenName: string, prefix: string): Promise<void> {
  await visit(page, '#/import');
  assert.equal(await page.getByLabel('File path on the server').getAttribute('data-testid'), 'path-input');
  await addFile(page);
  await page.getByTestId('dry-positives').waitFor();
  assert.equal(await page.getByLabel('Positive rule').getAttribute('data-testid'), 'rule');
  const positives = async () => (await page.getByTestId('dry-positives').locator('b').textContent()) ?? '';
  const before = await positives();

  // Any alert that mentions a cancel, for as long as this step runs.
  await page.evaluate(() => {
    const w = window as { cancelSeen?: string[] };
    w.cancelSeen = [];
    new MutationObserver(() => {
      for (const a of Array.from(document.querySelectorAll('[role="alert"]'))) if (/cancel/i.test(a.textContent ?? '')) w.cancelSeen!.push(a.textContent ?? '');
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  for (const rule of ['label == 1 && long_view == 1', 'label == 1 || long_view == 1']) {
    await page.getByTestId('rule').fill(rule);
    // Supersede it while it counts (if it ends first, the next change supersedes nothing).
    await page.waitForFunction(() => document.querySelector('[data-testid="dry-run"]')?.textContent?.includes('Counting'), undefined, { timeout: 10_000 }).catch(() => undefined);
  }
  await page.getByTestId('rule').fill('label == 1');
  await page.waitForFunction((want) => document.querySelector('[data-testid="dry-counts"]')?.getAttribute('data-stale') === 'false' && document.querySelector('[data-testid="dry-positives"] b')?.textContent === want, before);
  await page.waitForTimeout(300);
  assert.deepEqual(await page.evaluate(() => (window as { cancelSeen?: string[] }).cancelSeen), [], 'no "import cancelled" from a superseded dry run');

  // An invalid rule: the counts stay, greyed and marked as those of the last valid rule.
  await page.getByTestId('rule').fill('label == ');
  await page.getByTestId('rule-error').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="dry-counts"]')?.getAttribute('data-stale') === 'true');
  assert.match((await page.getByTestId('dry-stale').textContent()) ?? '', /last valid rule/);
  assert.equal(await positives(), before, 'the previous counts are still shown');
  await shot(page, `${prefix}-import-stale-counts`);
  await page.getByTestId('rule').fill('label == 1');
  await page.waitForFunction(() => document.querySelector('[data-testid="dry-counts"]')?.getAttribute('data-stale') === 'false');

  // A refused import (the name is taken): the reason is beside the button, in view, focused.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.getByTestId('dataset-name').fill(takenName);
  await page.getByTestId('import-start').click();
  const error = page.getByTestId('import-error');
  await error.waitFor();
  assert.match((await error.textContent()) ?? '', new RegExp(takenName));
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'import-error', 'the error has the focus');
  const inView = await error.evaluate((e) => {
    const r = e.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight;
  });
  assert.ok(inView, 'the error is on screen');
  await shot(page, `${prefix}-import-refused`);
}

/** Item 11: the browser says when its host has stopped (`stop` ends the host process). */
export async function hostStoppedBanner(page: Page, stop: () => Promise<void>, prefix: string): Promise<void> {
  assert.equal(await page.getByTestId('host-down').count(), 0, 'no banner while the host runs');
  await stop();
  const banner = page.getByTestId('host-down');
  await banner.waitFor({ timeout: 30_000 });
  assert.equal(await banner.getAttribute('data-state'), 'down');
  assert.match((await banner.textContent()) ?? '', /stopped or cannot be reached/);
  await shot(page, `${prefix}-host-stopped`);
}
