// End to end through the browser host: `cmi-studio serve` on a free port with a temp database,
// Debian's Chromium driven by playwright-core, the analyst's flow from import to export.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { cli } from '../cli/helpers.ts';
import { annotateSortDiffRuns, cancelResumeDeleteSet, compareAndExport, filterAndFindUsers, importedRunRefused, inspectFirstUser, importSample, itemAttributesAndAlignment, pageApi, SAMPLE, SAMPLE_ITEMS, shot, trainTwoRuns, visit } from './flow.ts';
import { curvePanels, hostStoppedBanner, identicalRunsOneRow, importedResultsRow, importErrorsWhereTheUserLooks, improvementOfProposedModel } from './flow-analysis.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Starts `cmi-studio serve` and resolves with the address it prints (it builds the page first if needed). */
function serve(dbPath: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['bin/cmi-studio.mjs', 'serve', '--db', dbPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (url) => resolve({ child, url }));
    child.once('exit', (code) => reject(new Error(`cmi-studio serve exited with ${code}:\n${stderr}`)));
  });
}

describe('studio in a browser (e2e)', { timeout: 600_000 }, () => {
  let dir: string;
  let server: { child: ChildProcess; url: string };
  let browser: Browser;
  let page: Page;
  let datasetId: number;
  let runIds: number[] = [];
  let importedRunId: number;
  const pageErrors: string[] = [];

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is missing at ${CHROMIUM}: install it (apt-get install -y chromium) or point CHROMIUM_PATH at a Chromium binary`);
    }
    dir = mkdtempSync(join(tmpdir(), 'cmi-e2e-'));
    server = await serve(join(dir, 'studio.sqlite'));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(server.url);
  });

  after(async () => {
    await browser?.close();
    server?.child.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('takes the token from the address and keeps it out of the URL', async () => {
    await page.getByTestId('nav-datasets').waitFor();
    assert.doesNotMatch(page.url(), /token=/);
    assert.deepEqual(await pageApi(page, 'listDatasets', []), []);
  });

  it('shows an error, not data, to a page opened without the token', async () => {
    const other = await browser.newPage();
    await other.goto(server.url.replace(/\?token=.*/, ''));
    await other.getByRole('alert').waitFor();
    assert.match((await other.getByRole('alert').textContent()) ?? '', /cmi-studio serve/);
    await other.close();
  });

  it('picks a file with the server-side browser and previews it', async () => {
    await visit(page, '#/import');
    await page.getByRole('button', { name: 'Browse the server…' }).click();
    const panel = page.getByTestId('file-browser');
    const at = () => panel.locator('strong.path').textContent();
    await panel.locator('li').first().waitFor();
    // Up to the root from wherever the home folder is, then down to the sample, as a user clicks.
    while ((await at()) !== '/') {
      const before = await at();
      await panel.getByRole('button', { name: '⬑ ..' }).click();
      await page.waitForFunction((b) => document.querySelector('[data-testid="file-browser"] strong.path')?.textContent !== b, before);
    }
    for (const part of SAMPLE.split('/').filter(Boolean).slice(0, -1)) {
      await panel.getByRole('button', { name: `📁 ${part}`, exact: true }).click();
      await page.waitForFunction((p) => document.querySelector('[data-testid="file-browser"] strong.path')?.textContent?.endsWith(`/${p}`), part);
    }
    await panel.getByRole('button', { name: 'kuairand_likes_hates.tsv', exact: true }).click();
    await page.getByTestId('preview-table').waitFor();
    assert.equal(await page.getByTestId('file-list').locator('.mono').textContent(), SAMPLE);
    assert.equal(await page.getByTestId('preview-table').locator('tbody tr').count(), 10);
    await page.getByTestId('file-list').getByRole('button', { name: 'Remove' }).click();
    await page.getByTestId('preview-table').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Close' }).click();
  });

  it('imports the sample through the wizard (upload), with live dry-run counts', async () => {
    datasetId = await importSample(page, async (p) => {
      await p.getByTestId('file-input').setInputFiles(SAMPLE);
      await p.getByTestId('file-list').waitFor();
      assert.match((await p.getByTestId('file-list').textContent()) ?? '', /cmi-studio-uploads-.*kuairand_likes_hates\.tsv/);
    }, 'browser');
    const datasets = await pageApi<{ id: number; name: string }[]>(page, 'listDatasets', []);
    assert.deepEqual(datasets.map((d) => [d.id, d.name]), [[datasetId, 'kuairand-sample']]);
  });

  it('trains two short CMI runs (2 and 4 interests) and shows the curve live', async () => {
    runIds = await trainTwoRuns(page, datasetId, 'browser');
    assert.equal(runIds.length, 2);
  });

  it('opens the interest inspector for a test-day user', async () => {
    await inspectFirstUser(page, runIds[0], 'browser');
  });

  it('filters the inspector users by hit, orders them by a metric and finds one by raw id', async () => {
    await filterAndFindUsers(page, runIds[0], 'browser');
  });

  it('tags, annotates, searches, sorts and diffs runs, keeps the filters in the address, downloads the config and embeddings', async () => {
    await annotateSortDiffRuns(page, runIds, 'browser', async (p, testid) => {
      const [download] = await Promise.all([p.waitForEvent('download'), p.getByTestId(testid).click()]);
      return { name: download.suggestedFilename(), text: readFileSync(await download.path(), 'utf8') };
    });
  });

  it('attaches an item file on the dataset page (upload): attributes in the inspector, alignment on the run page and in compare', async () => {
    await itemAttributesAndAlignment(page, datasetId, runIds[0], 'browser', async (panel) => {
      await panel.getByTestId('file-input').setInputFiles(SAMPLE_ITEMS);
      await panel.getByTestId('file-list').waitFor();
    });
  });

  it('compares the two runs and downloads the LaTeX table', async () => {
    await compareAndExport(page, runIds, 'browser', async (p) => {
      const [download] = await Promise.all([p.waitForEvent('download'), p.getByTestId('export-latex').click()]);
      assert.equal(download.suggestedFilename(), 'kuairand-sample-test-recall-hitrate.tex', 'named after the dataset and the table');
      return readFileSync(await download.path(), 'utf8');
    });
  });

  it('draws the curves per term, overlaid, smoothed, on a log scale and by time', async () => {
    await curvePanels(page, runIds, 'browser');
  });

  it('keeps a re-run with the same seed in its original row', async () => {
    await identicalRunsOneRow(page, runIds, 'browser');
  });

  it('shows the proposed model\'s negative Improv., and its list follows the chosen runs', async () => {
    await improvementOfProposedModel(page, runIds, 'browser');
  });

  it('shows another system\'s lists (export-split, import-results) as a compare row', async () => {
    const run = async (args: string[]) => {
      const r = await cli([...args, '--db', join(dir, 'studio.sqlite')]);
      assert.equal(r.code, 0, `cmi-studio ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    importedRunId = await importedResultsRow(page, datasetId, run, dir, 'browser');
  });

  it('shows import errors where the user looks and marks stale counts', async () => {
    await importErrorsWhereTheUserLooks(page, async (p) => {
      await p.getByTestId('file-input').setInputFiles(SAMPLE);
      await p.getByTestId('file-list').waitFor();
    }, 'kuairand-sample', 'browser');
  });

  it('refuses re-run, inspect and embeddings of imported results, saying why', async () => {
    await importedRunRefused(page, importedRunId, 'browser');
  });

  it('cancels, resumes and deletes a set as a whole from the experiments list', async () => {
    await cancelResumeDeleteSet(page, datasetId, 'browser');
  });

  it('shows the split the runs used on the dataset page', async () => {
    await visit(page, `#/datasets/${datasetId}`);
    await page.getByTestId('chart-split').locator('canvas').waitFor();
    await shot(page, 'browser-dataset-split');
    await visit(page, '#/datasets');
    await page.getByTestId('dataset-table').waitFor();
    await shot(page, 'browser-datasets');
  });

  it('raised no uncaught errors in the page', () => {
    assert.deepEqual(pageErrors, []);
  });

  it('says when the host has stopped', async () => {
    await hostStoppedBanner(page, async () => {
      const exited = new Promise((resolve) => server.child.once('exit', resolve));
      server.child.kill('SIGTERM');
      await exited;
    }, 'browser');
  });
});
