// Import progress on stderr (never stdout, which carries the result): a bar redrawn in place on
// a terminal, otherwise a plain line now and then, so logs stay readable.
import type { ImportProgress } from '../../shared/types.ts';

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
