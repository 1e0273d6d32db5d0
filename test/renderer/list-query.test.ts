// The experiments list's filters survive the address: what the page writes, it reads back, and
// a hand-edited or stale address never sends a malformed query to the host.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextSort, paramsFromView, viewFromParams, type ListView } from '../../src/renderer/src/screens/runs/list-query.ts';

describe('experiments list address', () => {
  it('reads back what it writes', () => {
    const view: ListView = { query: { datasetId: 3, model: 'cmi', status: 'done', tag: 'paper', search: 'seed 7', sort: 'test:ndcg@20', desc: true }, metric: 'ndcg@20' };
    const params = paramsFromView(view);
    assert.deepEqual(viewFromParams(Object.fromEntries(new URLSearchParams(new URLSearchParams(params).toString()))), view);
    assert.deepEqual(paramsFromView({ query: {}, metric: 'recall@50' }), {}, 'the defaults leave the address clean');
  });

  it('drops what is not a valid filter', () => {
    assert.deepEqual(viewFromParams({ dataset: 'x', status: 'sleeping', sort: 'bogus', desc: '1', metric: 'DROP TABLE' }), { query: {}, metric: 'recall@50' });
  });

  it('flips the direction on the same column and starts a metric best first', () => {
    assert.deepEqual(nextSort({}, 'steps'), { sort: 'steps', desc: false });
    assert.deepEqual(nextSort({ sort: 'steps' }, 'steps'), { sort: 'steps', desc: true });
    assert.deepEqual(nextSort({ sort: 'steps', desc: true }, 'test:recall@50'), { sort: 'test:recall@50', desc: true });
    assert.deepEqual(nextSort({}, 'id'), { sort: 'id', desc: true }, 'the default order is by id');
  });
});
