import { test } from 'node:test';
import assert from 'node:assert/strict';
import Papa from 'papaparse';
import { buildTable, meanPerUser, type PerUserValues, type TableRow } from '../../src/main/report/table.ts';
import { formatComparison, parseTableJson } from '../../src/main/report/format.ts';
import { escapeLatex } from '../../src/main/report/latex.ts';
import { lcg } from '../data/fixtures.ts';

const close = (a: number | null, b: number, tol = 1e-9) => assert.ok(a !== null && Math.abs(a - b) <= tol, `${a} vs ${b}`);

/** A model whose per-user values are given; its run metric is their mean (as evaluate() reports). */
function modelRow(label: string, interests: number, values: Record<string, number[]>): TableRow {
  const users = Int32Array.from(Object.values(values)[0], (_, i) => i + 1);
  const metrics = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.reduce((a, b) => a + b, 0) / v.length]));
  return { label, interests, runs: [metrics], perUser: { users, values } };
}

// recall@10 ties at the top (A, B); recall@20 has a clear order B > C > D > A.
const simple: TableRow[] = [
  { label: 'A', interests: 1, runs: [{ 'recall@10': 0.3, 'recall@20': 0.1 }] },
  { label: 'B', interests: 4, runs: [{ 'recall@10': 0.30004, 'recall@20': 0.4 }] },
  { label: 'C', interests: 8, runs: [{ 'recall@10': 0.2, 'recall@20': 0.3 }] },
  { label: 'D', interests: 1, runs: [{ 'recall@10': 0.1, 'recall@20': 0.2 }] },
];

test('best bold, second underlined; ties at the shown precision share a rank', () => {
  const t = buildTable(simple, { metrics: ['recall'], ks: [10, 20], significance: 'none' });
  assert.deepEqual(t.columns.map((c) => c.key), ['recall@10', 'recall@20']);
  assert.deepEqual(t.rows.map((r) => r.cells[0].rank), [1, 1, 2, null], '0.3000 and 0.3000 tie; 0.2 is second');
  assert.deepEqual(t.rows.map((r) => r.cells[1].rank), [null, 1, 2, null]);
  assert.equal(t.summary[0].best, null, 'no single best');
  assert.equal(t.summary[0].improvement, null);
  assert.equal(t.summary[1].best, 1);
  assert.equal(t.summary[1].runnerUp, 2);
  close(t.summary[1].improvement, ((0.4 - 0.3) / 0.3) * 100);
  // With more digits the tie is broken.
  const fine = buildTable(simple, { metrics: ['recall'], ks: [10], significance: 'none', digits: 5 });
  assert.deepEqual(fine.rows.map((r) => r.cells[0].rank), [2, 1, null, null]);
  close(fine.summary[0].improvement, ((0.30004 - 0.3) / 0.3) * 100);
});

test('Improv. about a focus model: negative where it trails the best other model', () => {
  const t = buildTable(simple, { metrics: ['recall'], ks: [10, 20], significance: 'none', focus: 'C' });
  // C trails B in both columns: its gap to the best other model shows, with its sign.
  close(t.summary[0].improvement, ((0.2 - 0.30004) / 0.30004) * 100);
  close(t.summary[1].improvement, ((0.3 - 0.4) / 0.4) * 100);
  assert.ok(t.summary.every((s) => s.improvement !== null && s.improvement < 0), 'both gaps are negative');
  assert.match(formatComparison(t, 'md'), /\| Improv\. \| {2}\| -33\.34% \| -25\.00% \|/, 'the Markdown row shows the negative values');
  const rows = simple.map((r) => (r.label === 'C' ? { ...r, runs: [{ 'recall@10': 0.5, 'recall@20': 0.3 }] } : r));
  const t2 = buildTable(rows, { metrics: ['recall'], ks: [10, 20], significance: 'none', focus: 'C' });
  close(t2.summary[0].improvement, ((0.5 - 0.30004) / 0.30004) * 100);
  close(t2.summary[1].improvement, ((0.3 - 0.4) / 0.4) * 100);
  assert.throws(() => buildTable(simple, { metrics: ['recall'], ks: [10], significance: 'none', focus: 'Z' }), /focus model 'Z'/);
});

test('Gini: lowest is best, and a lower value counts as a gain in Improv.', () => {
  const rows: TableRow[] = [
    { label: 'A', interests: 1, runs: [{ 'gini@50': 0.9 }] },
    { label: 'B', interests: 1, runs: [{ 'gini@50': 0.6 }] },
    { label: 'C', interests: 1, runs: [{ 'gini@50': 0.8 }] },
  ];
  const t = buildTable(rows, { metrics: ['gini'], ks: [50], significance: 'none' });
  assert.deepEqual(t.rows.map((r) => r.cells[0].rank), [null, 1, 2], 'B (0.6) bold, C (0.8) underlined');
  close(t.summary[0].improvement, ((0.8 - 0.6) / 0.8) * 100);
  const focused = buildTable(rows, { metrics: ['gini'], ks: [50], significance: 'none', focus: 'A' });
  close(focused.summary[0].improvement, ((0.6 - 0.9) / 0.6) * 100);
  assert.ok(focused.notes.some((n) => n.startsWith('Gini: lower is better')), 'the notes say which way Gini goes');
});

test('mean ± sample std over seeds', () => {
  const runs = [0.10, 0.12, 0.17].map((v) => ({ 'hitrate@50': v }));
  const t = buildTable([{ label: 'M', interests: 8, runs }], { metrics: ['hitrate'], ks: [50], significance: 'none' });
  const m = (0.10 + 0.12 + 0.17) / 3;
  const sd = Math.sqrt(((0.10 - m) ** 2 + (0.12 - m) ** 2 + (0.17 - m) ** 2) / 2);
  close(t.rows[0].cells[0].mean, m);
  close(t.rows[0].cells[0].std, sd);
  assert.equal(t.rows[0].runs, 3);
  assert.match(formatComparison(t, 'md'), new RegExp(`\\*\\*${m.toFixed(4)} ± ${sd.toFixed(4)}\\*\\*`));
  assert.ok(t.notes.some((n) => n.includes('standard deviation')));
});

// Per-user data: in recall@50 "best" beats "runner" by 0.1 on every user (plus noise):
// significant. In ndcg@50 "best" is ahead by a hair relative to the noise: not significant.
function significanceRows(): TableRow[] {
  const r = lcg(8);
  const n = 60;
  const base = Array.from({ length: n }, () => r() * 0.5);
  const noise = () => (r() - 0.5) * 0.2;
  return [
    modelRow('runner', 4, { 'recall@50': base, 'ndcg@50': base.map((x) => x + noise()) }),
    modelRow('best', 8, { 'recall@50': base.map((x) => x + 0.1 + noise() * 0.1), 'ndcg@50': base.map((x) => x + 0.004 + noise()) }),
    modelRow('floor', 1, { 'recall@50': base.map((x) => x * 0.2), 'ndcg@50': base.map((x) => x * 0.2) }),
  ];
}

for (const test_ of ['ttest', 'bootstrap'] as const) {
  test(`significance marker follows the paired ${test_} over per-user values`, () => {
    const rows = significanceRows();
    assert.ok(rows[1].runs[0]['ndcg@50'] > rows[0].runs[0]['ndcg@50'], 'fixture: best is ahead in ndcg too');
    const t = buildTable(rows, { metrics: ['recall', 'ndcg'], ks: [50], significance: test_, resamples: 2000 });
    assert.equal(t.summary[0].best, 1);
    assert.equal(t.summary[0].runnerUp, 0);
    assert.ok(t.summary[0].p! < 0.05 && t.rows[1].cells[0].significant);
    assert.equal(t.summary[0].users, 60);
    assert.ok(t.summary[1].p! >= 0.05 && !t.rows[1].cells[1].significant);
    assert.ok(t.rows.every((r, i) => r.cells.every((c, j) => !c.significant || (i === 1 && j === 0))), 'only the best cell carries a marker');
    const md = formatComparison(t, 'md');
    assert.equal(md.split('\\*').length - 1, 2, 'one marker in the table, one in the note');
    assert.ok(t.notes.some((n) => n.includes(test_ === 'ttest' ? 't-test' : 'bootstrap')));
  });
}

test('no test, or no per-user values: no p, no marker', () => {
  const rows = significanceRows();
  const none = buildTable(rows, { metrics: ['recall'], ks: [50], significance: 'none' });
  assert.equal(none.summary[0].p, null);
  assert.ok(!none.rows[1].cells[0].significant);
  const bare = rows.map(({ perUser: _, ...r }) => r);
  const t = buildTable(bare, { metrics: ['recall'], ks: [50], significance: 'ttest' });
  assert.equal(t.summary[0].p, null);
  assert.ok(!t.rows[1].cells[0].significant);
});

test('CSV parses back to the table', () => {
  const t = buildTable(significanceRows(), { metrics: ['recall', 'ndcg'], ks: [50], significance: 'ttest' });
  const parsed = Papa.parse<string[]>(formatComparison(t, 'csv').trim()).data;
  assert.deepEqual(parsed[0], ['Model', '#I', 'Runs', 'Recall@50', 'NDCG@50']);
  assert.equal(parsed.length, 1 + 3 + 2);
  t.rows.forEach((r, i) => {
    assert.equal(parsed[i + 1][0], r.label);
    assert.equal(Number(parsed[i + 1][1]), r.interests);
    r.cells.forEach((c, j) => assert.equal(parsed[i + 1][3 + j], c.mean!.toFixed(4)));
  });
  assert.equal(parsed[4][0], 'Improv.');
  assert.equal(parsed[4][3], `${t.summary[0].improvement!.toFixed(2)}%`);
  assert.equal(parsed[5][0], 'p (ttest)');
  // Labels with commas and quotes survive.
  const odd = buildTable([{ label: 'Re4, "v2"', interests: 4, runs: [{ 'recall@10': 0.1 }, { 'recall@10': 0.2 }] }], { metrics: ['recall'], ks: [10], significance: 'none' });
  const back = Papa.parse<string[]>(formatComparison(odd, 'csv').trim()).data;
  assert.deepEqual(back[0], ['Model', '#I', 'Runs', 'Recall@10', 'Recall@10 std']);
  assert.equal(back[1][0], 'Re4, "v2"');
  assert.equal(back[1][2], '2');
});

test('Markdown: a well-formed pipe table with bold, underline and the Improv. row', () => {
  const t = buildTable(simple, { metrics: ['recall'], ks: [10, 20], significance: 'none' });
  const lines = formatComparison(t, 'md').split('\n').filter((l) => l.startsWith('|'));
  assert.equal(lines.length, 2 + simple.length + 1);
  for (const l of lines) assert.equal(l.split(' | ').length, 4, l);
  assert.match(lines[1], /^\| :-- \| --: \| --: \| --: \|$/);
  assert.equal(lines[2], '| A | 1 | **0.3000** | 0.1000 |');
  assert.equal(lines[4], '| C | 8 | <u>0.2000</u> | <u>0.3000</u> |');
  assert.equal(lines[6], `| Improv. |  | / | ${(((0.4 - 0.3) / 0.3) * 100).toFixed(2)}% |`);
});

test('the Improv. row leaves the #I cell empty in every export', () => {
  const t = buildTable(simple, { metrics: ['recall'], ks: [10, 20], significance: 'none', focus: 'C' });
  const improvements = t.summary.map((s) => s.improvement!.toFixed(2));
  const md = formatComparison(t, 'md').split('\n').find((l) => l.startsWith('| Improv.'));
  assert.deepEqual(md?.slice(1, -1).split('|').map((c) => c.trim()), ['Improv.', '', ...improvements.map((v) => `${v}%`)]);
  const tex = formatComparison(t, 'latex').split('\n').find((l) => l.trim().startsWith('Improv.'));
  assert.deepEqual(tex?.trim().replace(/ \\\\$/, '').split(' & '), ['Improv.', '', ...improvements.map((v) => `${v}\\%`)]);
  const csv = Papa.parse<string[]>(formatComparison(t, 'csv').trim()).data.find((r) => r[0] === 'Improv.');
  assert.deepEqual(csv, ['Improv.', '', '', ...improvements.map((v) => `${v}%`)]);
});

test('LaTeX: booktabs structure, escaped labels, marks', () => {
  const rows = significanceRows();
  rows[2] = { ...rows[2], label: 'Pop & Co_1 100%' };
  const t = buildTable(rows, { metrics: ['recall', 'ndcg'], ks: [50], significance: 'ttest', title: 'WeChat #1' });
  const tex = formatComparison(t, 'latex');
  const at = (s: string) => tex.indexOf(s);
  assert.ok(at('\\toprule') > 0 && at('\\toprule') < at('\\midrule') && at('\\midrule') < at('\\bottomrule'));
  assert.ok(tex.includes('\\begin{tabular}{lrrr}') && tex.includes('\\end{tabular}'));
  assert.ok(tex.includes('\\caption{WeChat \\#1}'));
  assert.ok(tex.includes('Pop \\& Co\\_1 100\\%'));
  assert.equal(tex.split('\\textbf{').length - 1, t.rows.flatMap((r) => r.cells).filter((c) => c.rank === 1).length);
  assert.equal(tex.split('\\underline{').length - 1, t.rows.flatMap((r) => r.cells).filter((c) => c.rank === 2).length);
  assert.ok(tex.includes(`\\textbf{${t.rows[1].cells[0].mean!.toFixed(4)}}$^{*}$`));
  // Every body row has Model, #I and one cell per column.
  const body = tex.split('\n').filter((l) => l.trim().endsWith('\\\\') && !l.includes('multicolumn') && !l.includes('@'));
  assert.equal(body.length, rows.length + 1);
  for (const l of body) assert.equal(l.split(' & ').length, 2 + t.columns.length, l);
  assert.ok(tex.includes('\\multicolumn{1}{c}{Recall}') && tex.includes('\\cmidrule(lr){3-3}'));
  assert.equal(escapeLatex('a\\b~c^d{e}$<'), 'a\\textbackslash{}b\\textasciitilde{}c\\textasciicircum{}d\\{e\\}\\$\\textless{}');
});

test('JSON round-trips', () => {
  const t = buildTable(significanceRows(), { metrics: ['recall', 'hitrate', 'ndcg'], ks: [50], significance: 'bootstrap', resamples: 500, focus: 'best' });
  assert.deepEqual(parseTableJson(formatComparison(t, 'json')), t);
  assert.throws(() => parseTableJson('{"rows": 1}'), /not a comparison table/);
});

test('meanPerUser averages seeds on their common users', () => {
  const a: PerUserValues = { users: Int32Array.from([3, 1, 2]), values: { 'recall@50': [0.3, 0.1, 0.2], 'x': [1, 1, 1] } };
  const b: PerUserValues = { users: Int32Array.from([2, 3, 4]), values: { 'recall@50': [0.4, 0.5, 0.9] } };
  const m = meanPerUser([a, b])!;
  assert.deepEqual(Array.from(m.users), [2, 3]);
  assert.deepEqual(Object.keys(m.values), ['recall@50']);
  close(m.values['recall@50'][0], 0.3);
  close(m.values['recall@50'][1], 0.4);
  assert.equal(meanPerUser([a]), a);
  assert.equal(meanPerUser([]), undefined);
});
