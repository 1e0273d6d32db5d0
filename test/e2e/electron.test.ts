// The same analyst's flow as browser.test.ts, through the Electron window (IPC host, preload
// bridge, native save dialog). Runs where the Electron binary is installed; skipped otherwise.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { annotateSortDiffRuns, compareAndExport, filterAndFindUsers, inspectFirstUser, importSample, itemAttributesAndAlignment, pageApi, SAMPLE, SAMPLE_ITEMS, trainTwoRuns } from './flow.ts';

/** The Electron executable the package installed, or null. Read from its path.txt rather than
 *  `require('electron')`, which tries to download a missing binary. */
function electronBinary(): string | null {
  const pkg = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  const pathFile = join(pkg, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const exe = join(process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(pkg, 'dist'), readFileSync(pathFile, 'utf8').trim());
  return existsSync(exe) ? exe : null;
}

const binary = electronBinary();

describe(
  'studio in Electron (e2e)',
  { timeout: 600_000, skip: binary ? false : 'the Electron binary is not installed (node_modules/electron could not download it); the browser-host e2e covers the same flow' },
  () => {
    let dir: string;
    let app: ElectronApplication;
    let page: Page;
    let datasetId: number;
    let runIds: number[] = [];

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'cmi-electron-'));
      // Build main, preload and renderer as `npm run build` does, then start the built app.
      const { build } = await import('electron-vite');
      await build({ configFile: 'electron.vite.config.ts', logLevel: 'warn' });
      app = await _electron.launch({
        executablePath: binary ?? undefined,
        args: ['.'],
        env: { ...process.env, CMI_STUDIO_DB: join(dir, 'studio.sqlite') },
      });
      page = await app.firstWindow();
      await page.getByTestId('nav-datasets').waitFor();
    });

    after(async () => {
      await app?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('exposes the contract through the preload bridge only', async () => {
      assert.equal(await page.evaluate(() => typeof (window as { require?: unknown }).require), 'undefined');
      assert.equal(await page.evaluate(() => typeof (window as { process?: unknown }).process), 'undefined');
      assert.deepEqual(await pageApi(page, 'listDatasets', []), []);
    });

    it('serves the page from app://studio and keeps the window on it', async () => {
      assert.match(page.url(), /^app:\/\/studio\//);
      assert.equal(await page.evaluate(() => window.open('https://example.org/') === null), true, 'new windows are denied');
      const permission = await page.evaluate(() => navigator.permissions.query({ name: 'notifications' }).then((s) => s.state));
      assert.equal(permission, 'denied');
      const status = await page.evaluate(() => fetch('app://elsewhere/index.html').then((r) => r.status, () => 0));
      assert.ok(status === 404 || status === 0, `another app:// host serves nothing (got ${status})`);
    });

    it('imports the sample through the wizard (typed path)', async () => {
      datasetId = await importSample(page, async (p) => {
        await p.getByTestId('path-input').fill(SAMPLE);
        await p.getByTestId('path-add').click();
      }, 'electron');
    });

    it('trains two short CMI runs and shows the curve live', async () => {
      runIds = await trainTwoRuns(page, datasetId, 'electron');
    });

    it('opens the interest inspector', async () => {
      await inspectFirstUser(page, runIds[0], 'electron');
    });

    it('filters the inspector users by hit and finds one by raw id', async () => {
      await filterAndFindUsers(page, runIds[0], 'electron');
    });

    it('annotates, searches, sorts and diffs runs; saves the config and embeddings through the save dialog', async () => {
      await annotateSortDiffRuns(page, runIds, 'electron', async (p, testid) => {
        const target = join(dir, `${testid}.out`);
        // The dialog answers with `target` and keeps the name the page proposed.
        await app.evaluate(({ dialog }, path) => {
          dialog.showSaveDialog = (async (...args: unknown[]) => {
            (globalThis as { proposed?: string }).proposed = (args[args.length - 1] as { defaultPath?: string }).defaultPath;
            return { canceled: false, filePath: path };
          }) as typeof dialog.showSaveDialog;
        }, target);
        await p.getByTestId(testid).click();
        for (let i = 0; i < 300 && !existsSync(target); i++) await p.waitForTimeout(100);
        const proposed = await app.evaluate(() => (globalThis as { proposed?: string }).proposed ?? '');
        const text = readFileSync(target, 'utf8');
        rmSync(target);
        return { name: basename(proposed), text };
      });
    });

    it('attaches an item file on the dataset page (typed path): attributes in the inspector, alignment on the run page and in compare', async () => {
      await itemAttributesAndAlignment(page, datasetId, runIds[0], 'electron', async (panel) => {
        await panel.getByTestId('path-input').fill(SAMPLE_ITEMS);
        await panel.getByTestId('path-add').click();
      });
    });

    it('compares the runs and saves the LaTeX table through the save dialog', async () => {
      const target = join(dir, 'table.tex');
      // Native dialogs cannot be clicked: answer the main process's save dialog with a path.
      await app.evaluate(({ dialog }, path) => {
        dialog.showSaveDialog = (async () => ({ canceled: false, filePath: path })) as typeof dialog.showSaveDialog;
      }, target);
      await compareAndExport(page, runIds, 'electron', async (p) => {
        await p.getByTestId('export-latex').click();
        await p.getByTestId('export-text').waitFor();
        return readFileSync(target, 'utf8');
      });
    });
  },
);
