import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dispatch } from '../../src/main/hosts/dispatch.ts';
import { API_ARGS } from '../../src/shared/api-args.ts';
import { STUDIO_METHODS, type StudioApi } from '../../src/shared/api.ts';

/** A core that records what reaches it and answers with its arguments. */
function recordingApi(): { api: StudioApi; calls: [string, unknown[]][] } {
  const calls: [string, unknown[]][] = [];
  const api = Object.fromEntries(
    STUDIO_METHODS.map((m) => [
      m,
      async (...a: unknown[]) => {
        calls.push([m, a]);
        return a;
      },
    ]),
  ) as unknown as StudioApi;
  return { api, calls };
}

test('every contract method has an argument schema', () => {
  assert.deepEqual(Object.keys(API_ARGS).sort(), [...STUDIO_METHODS].sort(), 'one schema per method, no extra');
});

test('bad arguments are refused before the core, naming the method and the argument path', async () => {
  const { api, calls } = recordingApi();
  const cases: [string, unknown[], RegExp][] = [
    ['getRun', ['1; DROP TABLE runs'], /^getRun: run id must be an integer, got "1; DROP TABLE runs"$/],
    ['getRun', [], /^getRun: takes 1 argument \(run id\), got 0$/],
    ['getRun', [1, 2], /takes 1 argument/],
    ['inspectUser', [1, 2.5], /^inspectUser: user id must be an integer/],
    ['startTraining', [{ datasetId: 1, model: 'cmi', config: {}, seeds: [1, 'two'] }], /^startTraining: req\.seeds\[1\] must be an integer, got "two"$/],
    ['startTraining', [{ datasetId: 1, model: 'cmi', config: { lr: null }, seeds: [1] }], /req\.config\.lr must be a finite number or a string or true or false, got null/],
    ['importDataset', [{ files: ['a.csv'], preset: 'excel', name: 'x' }, 'job'], /req\.preset must be one of wechat, kuairand, csv, recbole, got "excel"/],
    ['compareRuns', [{ runIds: [1], metrics: ['bogus'], ks: [50], significance: 'none' }], /req\.metrics\[0\] must be one of recall, hitrate/],
    ['compareBreakdown', [{ runIds: [1], metrics: ['recall'], ks: [50], significance: 'none', by: 'day' }], /req\.by must be one of activity, popularity/],
    ['ensureSplit', [1, { kind: 'random' }], /params\.kind must be one of day, time-quantile, leave-last-out/],
    ['ensureSplit', [1, { quantiles: [0.8] }], /params\.quantiles must be two of a finite number/],
    ['listRuns', [{ status: 'sleeping' }], /query\.status must be one of queued/],
    ['exportTable', [{ columns: [] }, 'md'], /table must be a comparison table/],
    ['importItems', [{ datasetId: 1, file: 'items.csv', columns: 'genre' }], /^importItems: req\.columns must be/],
    ['interestAlignment', [1], /^interestAlignment: takes 2 arguments/],
    ['exportTable', [{ columns: [], rows: [], summary: [] }, 'docx'], /format must be one of md, csv, latex, json/],
  ];
  for (const [method, args, message] of cases) {
    const reply = await dispatch(api, method, args);
    assert.equal(reply.ok, false, `${method}(${JSON.stringify(args)}) is refused`);
    if (!reply.ok) {
      assert.match(reply.error.message, message, `${method}: the message names the problem`);
      assert.equal(reply.error.code, 'bad-argument', `${method}: coded as a bad argument`);
    }
  }
  assert.deepEqual(calls, [], 'no refused call reached the core');
});

test('good arguments reach the core unchanged, optional trailing ones may be left out', async () => {
  const { api, calls } = recordingApi();
  const train = { datasetId: 1, model: 'cmi', config: { lr: 0.001, trainStages: 'both', normalize: true }, seeds: [1, 2], grid: { dim: [32, 64] } };
  const ok: [string, unknown[]][] = [
    ['appInfo', []],
    ['listDir', []],
    ['listDir', ['/tmp']],
    ['inspectUser', [3, 7]],
    ['inspectUser', [3, 7, 50]],
    ['startTraining', [train]],
    ['listRuns', [{ datasetId: 1, status: 'done' }]],
    ['ensureSplit', [1, { kind: 'time-quantile', quantiles: [0.8, 0.9] }]],
    ['importDataset', [{ files: ['a.csv'], preset: 'csv', name: 'x', map: { user: 'u', item: 'i', day: 'd' }, onError: 'skip' }, 'job-1']],
    ['importItems', [{ datasetId: 1, file: 'feed_info.csv', idColumn: 'feedid', columns: ['authorid'] }]],
    ['itemAttributes', [1]],
    ['interestAlignment', [2, 'authorid']],
  ];
  for (const [method, args] of ok) {
    const reply = await dispatch(api, method, args);
    assert.deepEqual(reply, { ok: true, result: args }, `${method}(${JSON.stringify(args)}) passes as sent`);
  }
  assert.deepEqual(
    calls.map(([m]) => m),
    ok.map(([m]) => m),
    'each call reached the core once',
  );
});
