// Training progress on stderr: evaluation progress at most once a second per run when stderr
// is not a terminal (the first report of each evaluation always shows), runs told apart.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TrainEvent } from '../../src/shared/types.ts';
import { trainProgress } from '../../src/main/cli/progress.ts';

function capture(): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  const stream = { isTTY: false, write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => out };
}

const evalEvent = (runId: number, done: number, total = 1000): TrainEvent => ({ type: 'eval-progress', runId, phase: 'valid', step: 20, done, total, rate: 500, etaSeconds: (total - done) / 500 });

describe('training progress on stderr', () => {
  it('prints the first report of an evaluation, then rate-limits, per run', () => {
    const { stream, text } = capture();
    const print = trainProgress(stream);
    print(evalEvent(1, 0));
    print(evalEvent(1, 256));
    print(evalEvent(1, 512));
    print(evalEvent(2, 256));
    const lines = text().trim().split('\n');
    assert.deepEqual(lines, ['run 1: valid @20: 256/1,000 users, 500 users/s, eta 2 s', 'run 2: valid @20: 256/1,000 users, 500 users/s, eta 2 s']);
  });

  it('starts each evaluation afresh once the previous one ended', () => {
    const { stream, text } = capture();
    const print = trainProgress(stream);
    print(evalEvent(1, 1000));
    print({ type: 'eval-progress', runId: 1, phase: 'test', step: 20, done: 100, total: 300, rate: 50, etaSeconds: 4 });
    assert.deepEqual(text().trim().split('\n'), ['run 1: valid @20: 1,000/1,000 users, 500 users/s, eta 0 s', 'run 1: test: 100/300 users, 50 users/s, eta 4 s']);
  });

  it('prefixes step and validation lines with the run', () => {
    const { stream, text } = capture();
    const print = trainProgress(stream);
    print({ type: 'progress', runId: 4, step: 10, losses: { total: 1.5 }, stepsPerSecond: 2, seconds: 5, time: 0, etaSeconds: 12 });
    print({ type: 'validation', runId: 4, step: 10, metrics: { 'recall@50': 0.25 }, best: true, seconds: 6, time: 0 });
    assert.deepEqual(text().trim().split('\n'), ['run 4: step 10 total 1.5000 2.00 steps/s eta<=12s', 'run 4: valid @10: recall@50 0.2500  (best)']);
  });
});
