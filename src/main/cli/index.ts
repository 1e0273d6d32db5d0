// cmi-studio: one sub-command per file under ./commands; each exports `run(argv): Promise<number>`.
type Command = { run(argv: string[]): Promise<number>; summary: string };

const commands: Record<string, () => Promise<Command>> = {
  import: () => import('./commands/import.ts'),
  datasets: () => import('./commands/datasets.ts'),
  train: () => import('./commands/train.ts'),
  runs: () => import('./commands/runs.ts'),
  sweep: () => import('./commands/sweep.ts'),
  compare: () => import('./commands/compare.ts'),
  'export-split': () => import('./commands/export-split.ts'),
  'import-results': () => import('./commands/import-results.ts'),
  serve: () => import('./commands/serve.ts'),
  demo: () => import('./commands/demo.ts'),
};

function usage(): string {
  return [
    'usage: cmi-studio <command> [options]',
    '',
    'commands:',
    ...Object.keys(commands).map((c) => `  ${c}`),
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
  const load = commands[name];
  if (!load) {
    process.stderr.write(`cmi-studio: unknown command '${name}'\n${usage()}\n`);
    return 2;
  }
  try {
    return await (await load()).run(rest);
  } catch (err) {
    process.stderr.write(`cmi-studio ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
