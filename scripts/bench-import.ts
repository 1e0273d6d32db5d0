// npm run bench:import [-- --repeat N]
// Times our WeChat import of a 7.3M-row user_action.csv against the sqlite3 shell's
// `.import --csv` of the same file (a plain table, nothing else), both into fresh databases, in
// the same run, and reports our peak memory. The files are generated once into .bench/.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFeedInfo, writeUserActions, type WechatGenOptions } from '../test/import/fixtures/wechat-gen.ts';

const DIR = resolve('.bench');
const ACTIONS = join(DIR, 'user_action.csv');
const FEEDS = join(DIR, 'feed_info.csv');
const GEN: WechatGenOptions = { users: 20_000, feeds: 100_000, rows: 7_300_000, days: 14, seed: 2021 };
const BIN = resolve('bin/cmi-studio.mjs');
const TIME = '/usr/bin/time';

interface Timed {
  seconds: number;
  /** User + system CPU seconds: unlike wall time, barely moved by other load on the machine. */
  cpu: number;
  /** Peak resident memory in bytes. */
  peakRss: number;
  stdout: string;
}

/** Generated once; written under a temporary name so an interrupted run is not reused. */
async function ensureFiles(): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  if (existsSync(ACTIONS) && existsSync(FEEDS)) return;
  process.stderr.write(`generating ${GEN.rows.toLocaleString('en-US')} rows into ${DIR} (once)…\n`);
  const vps = await writeFeedInfo(FEEDS + '.tmp', GEN);
  await writeUserActions(ACTIONS + '.tmp', GEN, vps);
  renameSync(FEEDS + '.tmp', FEEDS);
  renameSync(ACTIONS + '.tmp', ACTIONS);
}

function freshDb(name: string): string {
  const path = join(DIR, name);
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(path + suffix, { force: true });
  return path;
}

/** Runs a command under GNU time, which reports wall time, CPU time and peak RSS exactly. */
function timed(cmd: string, args: string[]): Promise<Timed> {
  const report = join(DIR, 'time.txt');
  return new Promise((done, fail) => {
    const child = spawn(TIME, ['-f', '%e %U %S %M', '-o', report, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('exit', (code) => {
      if (code !== 0) return fail(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${stderr.slice(-2000)}`));
      const [wall, user, sys, maxKb] = readFileSync(report, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
      done({ seconds: wall, cpu: user + sys, peakRss: maxKb * 1024, stdout });
    });
  });
}

function sqliteImport(): Promise<Timed> {
  return timed('sqlite3', [freshDb('sqlite3-import.db'), '.import --csv ' + ACTIONS + ' user_action']);
}

function ourImport(files: string[]): Promise<Timed> {
  return timed(process.execPath, [BIN, 'import', ...files, '--preset', 'wechat', '--name', 'bench', '--db', freshDb('ours.sqlite'), '--json']);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (s: number): string => `${s.toFixed(2)} s`.padStart(8);
const gib = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { repeat: { type: 'string', default: '1' } } });
  const repeat = Math.max(1, Number(values.repeat));
  for (const tool of [TIME, '/usr/bin/sqlite3']) {
    if (!existsSync(tool)) throw new Error(`${tool} is needed (apt-get install time sqlite3)`);
  }
  await ensureFiles();
  const rows = GEN.rows;
  const mb = statSync(ACTIONS).size / 1e6;
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${gib(totalmem())} RAM, node ${process.version}`);
  console.log(`input: user_action.csv, ${rows.toLocaleString('en-US')} rows, ${mb.toFixed(0)} MB (feed_info.csv ${(statSync(FEEDS).size / 1e6).toFixed(0)} MB)`);

  const sqlite: Timed[] = [];
  const ours: Timed[] = [];
  const oursFeed: Timed[] = [];
  // Interleaved, so a change in machine load hits both sides alike.
  for (let i = 0; i < repeat; i++) {
    sqlite.push(await sqliteImport());
    ours.push(await ourImport([ACTIONS]));
    oursFeed.push(await ourImport([ACTIONS, FEEDS]));
  }
  const line = (label: string, runs: Timed[], extra = ''): { wall: number; cpu: number } => {
    const wall = median(runs.map((t) => t.seconds));
    const cpu = median(runs.map((t) => t.cpu));
    console.log(`${label.padEnd(48)} ${fmt(wall)} wall  ${fmt(cpu)} cpu  ${Math.round(rows / wall).toLocaleString('en-US')} rows/s  peak ${gib(Math.max(...runs.map((t) => t.peakRss)))}${extra}`);
    return { wall, cpu };
  };
  const counts = (t: Timed): string => {
    const r = JSON.parse(t.stdout) as { interactions: number; users: number; items: number };
    return `  (${r.interactions.toLocaleString('en-US')} interactions, ${r.users} users, ${r.items} items)`;
  };
  console.log(`runs: ${repeat} each, interleaved (medians)`);
  const s = line('sqlite3 .import --csv (all rows, text columns)', sqlite);
  const o = line('cmi-studio import --preset wechat', ours, counts(ours[0]));
  const f = line('  + feed_info.csv (full-play rule)', oursFeed, counts(oursFeed[0]));
  console.log(`speed-up vs sqlite3, wall: ${(s.wall / o.wall).toFixed(2)}× (with feed_info ${(s.wall / f.wall).toFixed(2)}×); cpu: ${(s.cpu / o.cpu).toFixed(2)}× (${(s.cpu / f.cpu).toFixed(2)}×)`);
  console.log(`goal ≥ 3× faster: ${s.wall / o.wall >= 3 ? 'met' : 'NOT met'}`);
  const peak = Math.max(...ours.map((t) => t.peakRss), ...oursFeed.map((t) => t.peakRss));
  console.log(`goal peak RSS < 1 GiB: ${peak < 2 ** 30 ? 'met' : 'NOT met'} (${gib(peak)})`);
  console.log(`load average during the run: ${loadavg().map((x) => x.toFixed(1)).join(' ')} (other work on the machine slows both sides)`);
}

await main();
