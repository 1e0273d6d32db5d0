// cmi-studio: one sub-command per file under ./commands; each exports `run(argv): Promise<number>`.
// Loaded on demand (a command's imports stay unloaded unless it runs); the one-line summaries
// live here so `cmi-studio --help` needs none of them.
type Command = { run(argv: string[]): Promise<number> };

const commands: Record<string, { load: () => Promise<Command>; summary: string }> = {
  import: { load: () => import('./commands/import.ts'), summary: 'import interaction logs (WeChat, KuaiRand, any CSV/TSV, RecBole .inter) as a dataset' },
  datasets: { load: () => import('./commands/datasets.ts'), summary: 'list the imported datasets with their counts, or delete one' },
  train: { load: () => import('./commands/train.ts'), summary: 'train a model on a dataset (or --resume a run) and evaluate it on the test day' },
  runs: { load: () => import('./commands/runs.ts'), summary: 'list, search and sort runs (experiments); tag, annotate, diff, export their config, or delete one' },
  sweep: { load: () => import('./commands/sweep.ts'), summary: 'launch a set of runs (ablations, interests sweep, config grid, seeds), one after another' },
  compare: { load: () => import('./commands/compare.ts'), summary: "comparison table of a dataset's runs (best bold, second underlined, Improv., significance), as md/csv/latex/json" },
  'export-split': { load: () => import('./commands/export-split.ts'), summary: "write a dataset's stored split as RecBole atomic files (train/valid/test .inter, raw ids)" },
  'import-results': { load: () => import('./commands/import-results.ts'), summary: "evaluate another system's test-day lists (user, item, rank) with our metrics, as a row of compare" },
  'export-embeddings': { load: () => import('./commands/export-embeddings.ts'), summary: "write a finished run's trained item embeddings (raw_item_id, v0..) as TSV or CSV" },
  'import-items': { load: () => import('./commands/import-items.ts'), summary: 'import item attributes (WeChat feed_info.csv, or item id + columns) onto a dataset' },
  alignment: { load: () => import('./commands/alignment.ts'), summary: "how well a run's interests match an item attribute (NMI, purity over the test users)" },
  serve: { load: () => import('./commands/serve.ts'), summary: 'open the studio in a browser: a local web server on 127.0.0.1 (no Electron)' },
  demo: { load: () => import('./commands/demo.ts'), summary: 'the main job on the bundled KuaiRand sample: import, train CMI and every baseline, print the comparison' },
};

function usage(): string {
  return [
    'usage: cmi-studio <command> [options]',
    '',
    'commands:',
    ...Object.entries(commands).map(([c, { summary }]) => `  ${c.padEnd(17)} ${summary}`),
    '',
    'Run `cmi-studio <command> --help` for a command\'s options.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    process.stderr.write(`cmi-studio: unknown command '${name}'\n${usage()}\n`);
    return 2;
  }
  try {
    return await (await command.load()).run(rest);
  } catch (err) {
    process.stderr.write(`cmi-studio ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
