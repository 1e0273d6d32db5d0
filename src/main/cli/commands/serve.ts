import { fileURLToPath } from 'node:url';
import { createApi } from '../../api.ts';
import { startHttpHost } from '../../hosts/http.ts';
import { ensureRendererBuilt } from '../../hosts/renderer-build.ts';
import { resolveDbPath } from '../../store/db.ts';
import { parseCommand, parseSize, printHelp, stringOptions } from '../options.ts';

const HELP = `usage: cmi-studio serve [--port N] [--db PATH] [--max-upload SIZE] [--no-build]

Serves the studio UI and its API on http://127.0.0.1:PORT (loopback only) and prints the
address to open; it carries a one-time token, which every API call must present.
  --port N     port to listen on (default: a free port)
  --db PATH    the studio database (default: CMI_STUDIO_DB, then the app-data folder)
  --max-upload SIZE
               largest file a browser may upload, in bytes or with K, M, G (KiB, MiB,
               GiB); default 20G
  --no-build   serve out/renderer as it is, even when older than the sources`;

/**
 * The last line of defence: an error that escapes every handler is logged and the host keeps
 * serving. Exiting would kill the imports it is running and leave their uploads behind, while
 * what it guards (the database) changes only in transactions. The causes are fixed where found.
 */
function installSafetyNet(log: (line: string) => void): () => void {
  const onError = (err: unknown) => log(`internal error, still serving: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return () => {
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
  };
}

const projectRoot = fileURLToPath(new URL('../../../../', import.meta.url));

export async function run(argv: string[]): Promise<number> {
  const values = parseCommand(argv, { ...stringOptions('port', 'max-upload'), 'no-build': { type: 'boolean', default: false } });
  if (values.help) return printHelp(HELP);
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port expects a port number, got '${values.port}'`);

  const maxUploadBytes = values['max-upload'] === undefined ? undefined : parseSize(values['max-upload']);

  const log = (line: string) => process.stderr.write(line + '\n');
  const staticDir = values['no-build'] ? `${projectRoot}out/renderer` : await ensureRendererBuilt(projectRoot, log);
  const dbPath = resolveDbPath(values.db);
  const api = createApi({ dbPath });
  const host = await startHttpHost({ api, staticDir, port, log, ...(maxUploadBytes !== undefined ? { maxUploadBytes } : {}) });
  const removeSafetyNet = installSafetyNet(log);
  log(`database: ${dbPath}`);
  process.stdout.write(`${host.url}\n`);

  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await host.close();
  api.close();
  removeSafetyNet();
  return 0;
}
