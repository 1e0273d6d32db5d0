// Import and training progress on stderr (never stdout, which carries the result): redrawn in
// place on a terminal, otherwise a plain line now and then, so logs stay readable.
import type { ImportProgress, Metrics, TrainEvent } from '../../shared/types.ts';

const BAR = 28;
/** Seconds between plain lines when stderr is not a terminal. */
const LINE_EVERY = 1;

const mb = (bytes: number): string => (bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0);
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

export function describeProgress(p: ImportProgress): string {
  if (p.phase === 'waiting') return 'waiting for another import to finish…';
  if (p.phase === 'finishing') return `${int(p.rows)} rows read; finishing…`;
  const file = p.file.split(/[\\/]/).pop() ?? p.file;
  return `${(p.fraction * 100).toFixed(1).padStart(5)}%  ${int(p.rows)} rows  ${int(p.rowsPerSecond)} rows/s  ${mb(p.bytesRead)}/${mb(p.bytesTotal)} MB  ${file}`;
}

export interface ProgressView {
  update(p: ImportProgress): void;
  /** Ends the bar line (on a terminal) so later output starts on a fresh line. */
  done(): void;
}

export function progressView(stream: NodeJS.WriteStream = process.stderr): ProgressView {
  const tty = stream.isTTY === true;
  let lastLine = -Infinity;
  let lastPhase: ImportProgress['phase'];
  let drawn = false;
  return {
    update(p) {
      if (tty) {
        const filled = Math.round(p.fraction * BAR);
        stream.write(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${describeProgress(p)}`);
        drawn = true;
        return;
      }
      const now = performance.now() / 1000;
      if (now - lastLine < LINE_EVERY && p.phase === lastPhase) return;
      lastLine = now;
      lastPhase = p.phase;
      stream.write(`import: ${describeProgress(p)}\n`);
    },
    done() {
      if (tty && drawn) stream.write('\r\x1b[K');
    },
  };
}

export function formatMetrics(m: Metrics | null, keys = ['recall@20', 'recall@50', 'hitrate@50', 'ndcg@50']): string {
  if (!m) return '-';
  return keys.filter((k) => k in m).map((k) => `${k} ${m[k].toFixed(4)}`).join('  ');
}

/** Seconds between plain evaluation-progress lines of one run when stderr is not a terminal. */
const EVAL_LINE_EVERY = 1;

const phaseName = (e: Extract<TrainEvent, { type: 'eval-progress' }>): string =>
  e.phase === 'valid' ? `valid @${e.step}` : e.phase === 'final-valid' ? 'final valid' : 'test';

export function describeEvalProgress(e: Extract<TrainEvent, { type: 'eval-progress' }>): string {
  const eta = e.etaSeconds !== null ? `, eta ${Math.ceil(e.etaSeconds)} s` : '';
  return `${phaseName(e)}: ${int(e.done)}/${int(e.total)} users, ${int(e.rate)} users/s${eta}`;
}

export function describeStep(e: Extract<TrainEvent, { type: 'progress' }>): string {
  const losses = Object.entries(e.losses).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' ');
  const eta = e.etaSeconds !== null ? ` eta<=${Math.round(e.etaSeconds)}s` : '';
  return `step ${e.step}${e.stage ? ` [${e.stage}]` : ''} ${losses} ${e.stepsPerSecond.toFixed(2)} steps/s${eta}`;
}

/**
 * Training events on stderr. On a terminal the live state of every running run (steps or the
 * evaluation in progress) shares one line redrawn in place; otherwise each report is a line,
 * evaluation progress at most once a second per run.
 */
export function trainProgress(stream: NodeJS.WriteStream = process.stderr): (e: TrainEvent) => void {
  const tty = stream.isTTY === true;
  const live = new Map<number, string>();
  const lastEvalLine = new Map<number, number>();
  const clear = tty ? '\r\x1b[K' : '';
  const redraw = () => stream.write(`${clear}${[...live].map(([id, text]) => `run ${id}: ${text}`).join(' | ')}`);
  const line = (text: string) => {
    stream.write(`${clear}${text}\n`);
    if (tty && live.size) redraw();
  };
  return (e) => {
    if (e.type === 'started') line(`run ${e.runId}: backend ${e.backend} (${e.device})${e.resumedFrom !== null ? `, resumed from step ${e.resumedFrom}` : ''}`);
    else if (e.type === 'progress') {
      if (tty) (live.set(e.runId, describeStep(e)), redraw());
      else line(`run ${e.runId}: ${describeStep(e)}`);
    } else if (e.type === 'eval-progress') {
      if (tty) (live.set(e.runId, describeEvalProgress(e)), redraw());
      else if (e.done > 0) {
        // The first report of each evaluation, then one a second; the end forgets the clock.
        const now = performance.now() / 1000;
        const last = lastEvalLine.get(e.runId);
        if (last === undefined || now - last >= EVAL_LINE_EVERY) {
          lastEvalLine.set(e.runId, now);
          line(`run ${e.runId}: ${describeEvalProgress(e)}`);
        }
        if (e.done >= e.total) lastEvalLine.delete(e.runId);
      }
    } else if (e.type === 'validation') line(`run ${e.runId}: valid @${e.step}: ${formatMetrics(e.metrics)}${e.best ? '  (best)' : ''}`);
    else if (e.type === 'finished') {
      live.delete(e.runId);
      line(`run ${e.runId} ${e.status}${e.test ? `: test ${formatMetrics(e.test)}` : ''}${e.error ? `: ${e.error}` : ''}`);
    }
  };
}
