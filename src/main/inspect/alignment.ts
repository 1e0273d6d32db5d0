// Interest alignment of a finished run against an item attribute (docs/protocol.md
// "## Interest alignment"): each test user's history (as the model sees it, the last maxlen
// items) gets one interest per item (models/assignment.ts), and NMI and purity measure how well
// those interests match the items' attribute labels, pooled over every (user, item) and as the
// mean of the per-user figures.
import * as tf from '@tensorflow/tfjs';
import type { AlignmentResult, AlignmentScores } from '../../shared/attributes.ts';
import { requireModelAction } from '../../shared/run-actions.ts';
import { Rng } from '../data/rng.ts';
import { nmi, purity } from '../eval/alignment.ts';
import { assignInterests, type AssignmentKind } from '../models/assignment.ts';
import type { Db } from '../store/db.ts';
import { attributeLabels } from '../store/item-attributes.ts';
import { requireRun } from '../store/runs.ts';
import { loadRunModel } from './user.ts';

/** Users per forward pass: bounds the [B, L, m] score tensor. */
const BATCH = 256;

/** Seed of the chance baseline's shuffle: fixed, so a run's figures are reproducible. */
const CHANCE_SEED = 1;

/** Pooled and per-user figures of labelled items grouped by user (rows ascending). */
function scores(users: Int32Array, interests: Int32Array, classes: Int32Array): { pooled: AlignmentScores; perUser: AlignmentScores & { users: number }; users: number } {
  let sumNmi = 0;
  let sumPurity = 0;
  let counted = 0;
  let distinct = 0;
  for (let s = 0; s < users.length; ) {
    let e = s;
    while (e < users.length && users[e] === users[s]) e++;
    distinct++;
    // A user whose labelled items share one label has nothing to align (NMI's limit case would
    // call one interest a perfect match): such users are left out of the mean.
    if (new Set(classes.subarray(s, e)).size >= 2) {
      sumNmi += nmi(interests.subarray(s, e), classes.subarray(s, e));
      sumPurity += purity(interests.subarray(s, e), classes.subarray(s, e));
      counted++;
    }
    s = e;
  }
  return {
    pooled: { nmi: nmi(interests, classes), purity: purity(interests, classes) },
    perUser: { nmi: counted ? sumNmi / counted : 0, purity: counted ? sumPurity / counted : 0, users: counted },
    users: distinct,
  };
}

/** The interests shuffled among each user's own items (Fisher-Yates, seeded): the same
 *  interest sizes per user with no relation to the labels. */
export function shuffledWithinUsers(users: Int32Array, interests: Int32Array, seed: number): Int32Array {
  const rng = new Rng(seed);
  const out = interests.slice();
  for (let s = 0; s < users.length; ) {
    let e = s;
    while (e < users.length && users[e] === users[s]) e++;
    for (let i = e - 1; i > s; i--) {
      const j = s + rng.int(i - s + 1);
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    s = e;
  }
  return out;
}

/** The figures, their chance level (the same interests shuffled within each user) and the
 *  one-group baseline, of labelled items grouped by user (rows ascending). */
export function alignmentOf(items: { users: Int32Array; interests: Int32Array; classes: Int32Array }): Pick<AlignmentResult, 'pooled' | 'perUser' | 'users' | 'chance' | 'majorityShare'> {
  const { users, interests, classes } = items;
  const got = scores(users, interests, classes);
  const chance = scores(users, shuffledWithinUsers(users, interests, CHANCE_SEED), classes);
  return {
    ...got,
    chance: { pooled: chance.pooled, perUser: { nmi: chance.perUser.nmi, purity: chance.perUser.purity } },
    majorityShare: purity(new Int32Array(classes.length), classes),
  };
}

export async function runAlignment(db: Db, runId: number, attribute: string): Promise<AlignmentResult> {
  const run = requireRun(db, runId);
  requireModelAction(run, 'inspect');
  const byItem = attributeLabels(db, run.datasetId, attribute);
  const loaded = await loadRunModel(db, runId);
  try {
    const { test, model, split } = loaded;
    const L = test.maxlen;
    const labelIndex = new Map<string, number>();
    // Split item id -> label index (-1: no value).
    const classOf = Int32Array.from(split.vocab, (iid, sid) => {
      const label = sid === 0 ? undefined : byItem.get(iid);
      if (label === undefined) return -1;
      let k = labelIndex.get(label);
      if (k === undefined) labelIndex.set(label, (k = labelIndex.size));
      return k;
    });
    const users: number[] = [];
    const interests: number[] = [];
    const classes: number[] = [];
    let unlabelled = 0;
    let kind: AssignmentKind = 'argmax-score';
    const n = test.users.length;
    for (let from = 0; from < n; from += BATCH) {
      const rows = Math.min(BATCH, n - from);
      const block = test.histories.subarray(from * L, (from + rows) * L);
      const h = tf.tensor2d(block, [rows, L], 'int32');
      const got = assignInterests(model, h);
      h.dispose();
      kind = got.kind;
      for (let i = 0; i < block.length; i++) {
        if (block[i] === 0) continue;
        const c = classOf[block[i]];
        if (c < 0) {
          unlabelled++;
          continue;
        }
        users.push(from + Math.floor(i / L));
        interests.push(got.interests[i]);
        classes.push(c);
      }
    }
    const figures = alignmentOf({ users: Int32Array.from(users), interests: Int32Array.from(interests), classes: Int32Array.from(classes) });
    return {
      runId,
      label: run.label,
      model: run.model,
      attribute,
      assignment: kind,
      numInterests: model.numInterests,
      users: figures.users,
      items: classes.length,
      unlabelled,
      labels: new Set(classes).size,
      pooled: figures.pooled,
      perUser: figures.perUser,
      chance: figures.chance,
      majorityShare: figures.majorityShare,
    };
  } finally {
    loaded.model.dispose();
  }
}
