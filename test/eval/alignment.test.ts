// NMI and purity (eval/alignment.ts) against their definitions: invariants that hold for any
// labelling, small cases worked out by hand, and, where python3 with numpy is installed, an
// independent implementation of scikit-learn's formula on random labellings.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { nmi, purity } from '../../src/main/eval/alignment.ts';
import { alignmentOf, shuffledWithinUsers } from '../../src/main/inspect/alignment.ts';
import { lcg } from '../data/fixtures.ts';

const I = (xs: number[]) => Int32Array.from(xs);

function randomLabels(n: number, k: number, seed: number): Int32Array {
  const rand = lcg(seed);
  return Int32Array.from({ length: n }, () => Math.floor(rand() * k));
}

describe('normalised mutual information', () => {
  it('is 1 for a relabelled copy and symmetric', () => {
    const a = randomLabels(500, 7, 1);
    const perm = [3, 6, 0, 5, 1, 4, 2];
    const b = a.map((v) => perm[v] + 10);
    assert.ok(Math.abs(nmi(a, b) - 1) < 1e-12);
    const c = randomLabels(500, 4, 2);
    assert.ok(Math.abs(nmi(a, c) - nmi(c, a)) < 1e-12);
  });

  it('is 0 for independent labellings (a full cross design) and stays within [0, 1]', () => {
    // Every (cluster, class) pair equally often: MI is exactly 0.
    const clusters: number[] = [];
    const classes: number[] = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) for (let r = 0; r < 5; r++) (clusters.push(i), classes.push(j));
    assert.equal(nmi(I(clusters), I(classes)), 0);
    for (let s = 0; s < 20; s++) {
      const v = nmi(randomLabels(200, 5, 10 + s), randomLabels(200, 3, 50 + s));
      assert.ok(v >= 0 && v <= 1, String(v));
    }
  });

  it('matches a hand computation, and the limit cases of scikit-learn', () => {
    // clusters [0,0,1,1], classes [0,0,0,1]: p(0,0)=1/2, p(1,0)=1/4, p(1,1)=1/4;
    // marginals (1/2, 1/2) and (3/4, 1/4); MI = Σ p ln(p / (pa pb)).
    const mi = 0.5 * Math.log(0.5 / (0.5 * 0.75)) + 0.25 * Math.log(0.25 / (0.5 * 0.75)) + 0.25 * Math.log(0.25 / (0.5 * 0.25));
    const ha = Math.log(2);
    const hb = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
    assert.ok(Math.abs(nmi(I([0, 0, 1, 1]), I([0, 0, 0, 1])) - mi / ((ha + hb) / 2)) < 1e-12);
    assert.equal(nmi(I([2, 2, 2]), I([5, 5, 5])), 1, 'one group each: a perfect match');
    assert.equal(nmi(I([0, 0, 0]), I([0, 1, 2])), 0, 'one cluster against several classes');
    assert.equal(nmi(I([]), I([])), 1);
    assert.throws(() => nmi(I([0]), I([0, 1])), /different lengths/);
  });

  it('agrees with an independent numpy implementation of sklearn normalized_mutual_info_score', (t) => {
    const cases = Array.from({ length: 5 }, (_, s) => ({ a: Array.from(randomLabels(300, 2 + s, 100 + s)), b: Array.from(randomLabels(300, 6 - s, 200 + s)).map((v, i) => (i % 3 === 0 ? v : 0)) }));
    const script = `
import json, sys
import numpy as np
def nmi(a, b):
    a = np.asarray(a); b = np.asarray(b); n = len(a)
    ua, ia = np.unique(a, return_inverse=True); ub, ib = np.unique(b, return_inverse=True)
    if len(ua) == len(ub) == 1: return 1.0
    c = np.zeros((len(ua), len(ub))); np.add.at(c, (ia, ib), 1)
    p = c / n; pa = p.sum(1, keepdims=True); pb = p.sum(0, keepdims=True)
    nz = p > 0
    mi = float((p[nz] * np.log(p[nz] / (pa @ pb)[nz])).sum())
    if abs(mi) < np.finfo(float).eps: return 0.0
    h = lambda q: float(-(q[q > 0] * np.log(q[q > 0])).sum())
    return mi / ((h(pa) + h(pb)) / 2)
print(json.dumps([nmi(c['a'], c['b']) for c in json.load(sys.stdin)]))
`;
    let out: string;
    try {
      out = execFileSync('python3', ['-c', script], { input: JSON.stringify(cases), encoding: 'utf8' });
    } catch {
      t.skip('python3 with numpy is not installed');
      return;
    }
    const want = JSON.parse(out) as number[];
    cases.forEach((c, i) => assert.ok(Math.abs(nmi(I(c.a), I(c.b)) - want[i]) < 1e-9, `case ${i}: ${nmi(I(c.a), I(c.b))} vs ${want[i]}`));
  });
});

describe('purity', () => {
  it('follows its definition on constructed cases', () => {
    // Cluster 0 holds classes {0,0,1}, cluster 1 {2,2}, cluster 2 {1}: (2 + 2 + 1) / 6.
    assert.equal(purity(I([0, 0, 0, 1, 1, 2]), I([0, 0, 1, 2, 2, 1])), 5 / 6);
    assert.equal(purity(I([0, 1, 2, 3]), I([7, 7, 8, 8])), 1, 'singleton clusters are pure');
    assert.equal(purity(I([0, 0, 0, 0]), I([1, 1, 1, 2])), 3 / 4, 'one cluster: the top class share');
    assert.equal(purity(I([]), I([])), 1);
  });

  it('is 1 for a relabelled copy and never below the top class share', () => {
    const a = randomLabels(400, 6, 3);
    assert.equal(purity(a, a.map((v) => 5 - v)), 1);
    const classes = randomLabels(400, 4, 4);
    const top = purity(new Int32Array(400), classes);
    for (let s = 0; s < 10; s++) assert.ok(purity(randomLabels(400, 3, 20 + s), classes) >= top - 1e-12);
  });
});

describe('alignmentOf (pooled and per user)', () => {
  it('pools every item, averages users with two labels or more, and reports the majority share', () => {
    // User 0: interests match labels exactly; user 1: one label only (left out of the mean);
    // user 2: one interest for two labels (NMI 0, purity 1/2).
    const users = I([0, 0, 0, 0, 1, 1, 2, 2]);
    const interests = I([0, 0, 1, 1, 0, 1, 0, 0]);
    const classes = I([3, 3, 4, 4, 3, 3, 3, 4]);
    const r = alignmentOf({ users, interests, classes });
    assert.equal(r.users, 3);
    assert.equal(r.perUser.users, 2);
    assert.ok(Math.abs(r.perUser.nmi - (1 + 0) / 2) < 1e-12);
    assert.ok(Math.abs(r.perUser.purity - (1 + 0.5) / 2) < 1e-12);
    assert.equal(r.pooled.nmi, nmi(interests, classes));
    assert.equal(r.pooled.purity, purity(interests, classes));
    assert.equal(r.majorityShare, 5 / 8);
  });

  it('measures chance by shuffling interests within each user: sizes kept, nothing crosses users, deterministic', () => {
    const users = Int32Array.from({ length: 300 }, (_, i) => Math.floor(i / 30));
    const interests = randomLabels(300, 4, 7);
    const a = shuffledWithinUsers(users, interests, 1);
    assert.deepEqual(a, shuffledWithinUsers(users, interests, 1), 'the same seed gives the same shuffle');
    assert.notDeepEqual(a, interests);
    for (let u = 0; u < 10; u++) {
      const block = (x: Int32Array) => Array.from(x.subarray(u * 30, (u + 1) * 30)).sort((p, q) => p - q);
      assert.deepEqual(block(a), block(interests), `user ${u} keeps its interest sizes`);
    }
    // Interests that copy the labels align perfectly; their shuffle falls to chance, and one
    // interest for everything is its own chance level.
    const classes = interests.map((v) => v + 3);
    const r = alignmentOf({ users, interests, classes });
    assert.ok(Math.abs(r.pooled.nmi - 1) < 1e-12);
    assert.ok(r.chance.pooled.nmi < 0.1, String(r.chance.pooled.nmi));
    assert.ok(r.chance.perUser.nmi < r.perUser.nmi);
    const one = alignmentOf({ users, interests: new Int32Array(300), classes });
    assert.deepEqual(one.chance, { pooled: one.pooled, perUser: { nmi: one.perUser.nmi, purity: one.perUser.purity } });
  });
});
