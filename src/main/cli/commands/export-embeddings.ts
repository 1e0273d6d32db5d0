import { writeFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { isOneOf } from '../../../shared/one-of.ts';
import { EMBEDDING_FORMATS } from '../../../shared/run-actions.ts';
import { itemEmbeddings } from '../../inspect/embeddings.ts';
import { openDb, resolveDbPath } from '../../store/db.ts';
import { parseCommand, printHelp } from '../options.ts';

const HELP = `usage: cmi-studio export-embeddings --run RUN --out FILE [--format tsv|csv] [--db PATH]
Writes the trained item embeddings of a finished run: a header raw_item_id, v0..v{d-1}, then one
row per item of the run's split (raw ids). The format follows FILE's extension (.csv or .tsv)
unless --format says; tsv otherwise. Refused for results imported with import-results (no model)
and for Pop (no learned embeddings).`;

export async function run(argv: string[]): Promise<number> {
  const values = parseCommand(argv, { run: { type: 'string' }, out: { type: 'string' }, format: { type: 'string' } });
  if (values.help) return printHelp(HELP);
  const id = Number(values.run);
  if (values.run === undefined || !Number.isInteger(id)) throw new Error(`--run expects a run id, got '${values.run ?? ''}'\n${HELP}`);
  if (!values.out) throw new Error(`--out FILE is required\n${HELP}`);
  const byExtension = extname(values.out).slice(1).toLowerCase();
  const format = values.format ?? (byExtension === 'csv' ? 'csv' : 'tsv');
  if (!isOneOf(EMBEDDING_FORMATS, format)) throw new Error(`--format must be ${EMBEDDING_FORMATS.join(' or ')}, got '${format}'`);
  const out = resolve(values.out);
  const db = openDb(resolveDbPath(values.db));
  try {
    const text = await itemEmbeddings(db, id, format);
    writeFileSync(out, text);
    const rows = text.split('\n').length - 2;
    process.stderr.write(`wrote ${out} (${rows} items)\n`);
    return 0;
  } finally {
    db.close();
  }
}
