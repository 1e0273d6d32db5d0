import { basename } from 'node:path';

/**
 * What an import error's column counts: the 1-based field index of the record, or the 1-based
 * character position in the line (for errors inside a field, such as an unterminated quote).
 */
export type ColumnKind = 'field' | 'char';

/** A problem in an input file (or in the positive rule), located as file:line:column. */
export class ImportError extends Error {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly columnKind: ColumnKind;
  /** The message without the location prefix. */
  readonly reason: string;

  constructor(file: string, line: number, column: number, columnKind: ColumnKind, reason: string) {
    const where = columnKind === 'field' ? `field ${column}` : `character ${column}`;
    super(`${basename(file)}:${line}:${column}: ${where}: ${reason}`);
    this.name = 'ImportError';
    this.file = file;
    this.line = line;
    this.column = column;
    this.columnKind = columnKind;
    this.reason = reason;
  }
}

/** The positive rule's own errors: "file" is the rule, line 1, column = character position. */
export class RuleError extends ImportError {
  constructor(column: number, reason: string) {
    super('positive rule', 1, column, 'char', reason);
    this.name = 'RuleError';
  }
}

/** A plain message for a file that cannot be opened, instead of Node's raw `ENOENT: ...`. */
export function fileOpenError(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new Error(`file not found: ${path}`);
  if (code === 'EACCES' || code === 'EPERM') return new Error(`permission denied: ${path}`);
  if (code === 'EISDIR') return new Error(`${path} is a folder, not a file`);
  return new Error(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
}

/** The import was cancelled through its AbortSignal; the store was rolled back. */
export class ImportAbortedError extends Error {
  constructor() {
    super('import cancelled; nothing was written');
    this.name = 'ImportAbortedError';
  }
}
