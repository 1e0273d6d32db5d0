import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replaceSections } from '../../src/main/report/doc-sections.ts';

const doc = [
  '# Results',
  'Intro prose.',
  '<!-- RESULTS_MODELS -->',
  '| old | table |',
  '<!-- /RESULTS_MODELS -->',
  'Reading, written by hand.',
  '<!-- RESULTS_INTERESTS -->',
  '<!-- /RESULTS_INTERESTS -->',
  'Tail.',
].join('\n');

test('bodies replace what is between their markers and nothing else', () => {
  const out = replaceSections(doc, [{ name: 'RESULTS_MODELS', body: '| new |\n' }, { name: 'RESULTS_INTERESTS', body: 'sweep' }], 'results.md');
  assert.equal(
    out,
    ['# Results', 'Intro prose.', '<!-- RESULTS_MODELS -->', '| new |', '<!-- /RESULTS_MODELS -->', 'Reading, written by hand.', '<!-- RESULTS_INTERESTS -->', 'sweep', '<!-- /RESULTS_INTERESTS -->', 'Tail.'].join('\n'),
  );
});

test('rewriting with the same bodies is stable, so reports can be rerun', () => {
  const sections = [{ name: 'RESULTS_MODELS', body: '| a |\n| b |' }];
  const once = replaceSections(doc, sections, 'results.md');
  assert.equal(replaceSections(once, sections, 'results.md'), once);
});

test('a section not asked for is left as it was', () => {
  const out = replaceSections(doc, [{ name: 'RESULTS_INTERESTS', body: 'x' }], 'results.md');
  assert.ok(out.includes('<!-- RESULTS_MODELS -->\n| old | table |\n<!-- /RESULTS_MODELS -->'));
});

test('a missing or reversed marker pair is an error naming the file and marker', () => {
  assert.throws(() => replaceSections(doc, [{ name: 'RESULTS_ABLATION', body: 'x' }], 'docs/results.md'), /docs\/results\.md has no <!-- RESULTS_ABLATION -->/);
  const reversed = '<!-- /RESULTS_MODELS -->\n<!-- RESULTS_MODELS -->';
  assert.throws(() => replaceSections(reversed, [{ name: 'RESULTS_MODELS', body: 'x' }], 'r.md'), /r\.md has no <!-- RESULTS_MODELS -->/);
});
