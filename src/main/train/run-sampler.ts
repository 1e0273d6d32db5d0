// The training sampler of a run: the model's needs and the run config's sampler keys, as the
// loop draws batches (and as the benchmarks must, to time the same batches).
import { Sampler } from '../data/sampler.ts';
import type { SplitData } from '../data/split.ts';
import type { Config, SeqRecModel } from '../models/types.ts';

export function runSampler(split: SplitData, needs: SeqRecModel['needs'], config: Config, seed: number): Sampler {
  return new Sampler(split, {
    batchSize: Number(config.batchSize),
    maxlen: Number(config.maxlen),
    historyPool: Number(config.historyPool),
    minSplit: Number(config.minSplit),
    views: needs.views === true,
    viewLen: Number(config.viewLen),
    future: needs.future === true,
    futureLen: Number(config.futureLen),
    target: config.target === 'next' ? 'next' : 'future',
    seed,
  });
}
