// The run ETA counts the evaluations left, not only the steps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evalsLeft, runEta } from '../../src/main/train/eta.ts';

describe('run ETA', () => {
  it('counts the evaluations between now and the last step, and the one at an uneven cap', () => {
    assert.equal(evalsLeft(0, 100, 20, true), 5, 'steps 20, 40, 60, 80, 100');
    assert.equal(evalsLeft(20, 100, 20, true), 4, 'the evaluation at step 20 is behind');
    assert.equal(evalsLeft(19, 100, 20, true), 5, 'the one at 20 is still ahead');
    assert.equal(evalsLeft(0, 50, 20, true), 3, '20, 40 and the cap at 50');
    assert.equal(evalsLeft(0, 50, 20, false), 2, 'without a cap no evaluation at 50');
    assert.equal(evalsLeft(100, 100, 20, true), 0, 'nothing left at the end');
  });

  it('adds the evaluations left at their measured time per user, and the final ones on every user', () => {
    const base = { step: 40, lastStep: 100, evalEvery: 20, capped: true, stepSeconds: 0.5, evalSecondsPerUser: 0.01, validUsers: 100, finalUsers: 700 };
    const stepsOnly = 60 * 0.5;
    const evals = 3 * 100 * 0.01 + 700 * 0.01;
    assert.equal(runEta(base), stepsOnly + evals);
    assert.ok((runEta({ ...base, validUsers: 50 }) ?? 0) < (runEta(base) ?? 0), 'a validation sample shortens the ETA');
    assert.equal(runEta({ ...base, evalSecondsPerUser: null }), null, 'no ETA before an evaluation was timed');
    assert.equal(runEta({ ...base, stepSeconds: null }), null, 'no ETA before a step was timed');
  });
});
