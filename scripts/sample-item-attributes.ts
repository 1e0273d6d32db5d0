// Writes resources/sample/kuairand_video_attributes.tsv: item attributes of the sample's videos
// derived from the sample log itself (the KuaiRand slice ships no video features), so the item
// import, the inspector's attributes and interest alignment have a real file to work on.
// Run: npx tsx scripts/sample-item-attributes.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const LOG = resolve('resources/sample/kuairand_likes_hates.tsv');
const OUT = resolve('resources/sample/kuairand_video_attributes.tsv');
const FLAGS = ['long_view', 'is_follow', 'is_comment', 'is_forward', 'is_profile_enter'] as const;

interface Video {
  durationMs: number;
  rows: number;
  flags: number[];
}

const [head, ...lines] = readFileSync(LOG, 'utf8').trimEnd().split('\n');
const col = head.split('\t');
const at = (name: string): number => col.indexOf(name);
const videos = new Map<string, Video>();
for (const line of lines) {
  const f = line.split('\t');
  const id = f[at('video_id')];
  let v = videos.get(id);
  if (!v) videos.set(id, (v = { durationMs: 0, rows: 0, flags: FLAGS.map(() => 0) }));
  // Some rows carry duration 0 (unknown): the largest value seen is the video's length.
  v.durationMs = Math.max(v.durationMs, Number(f[at('duration_ms')]));
  v.rows++;
  FLAGS.forEach((flag, k) => (v.flags[k] += Number(f[at(flag)]) > 0 ? 1 : 0));
}

/** Length classes as short-video apps use them; empty when the log never gave the length. */
function durationClass(ms: number): string {
  if (ms <= 0) return '';
  if (ms < 15_000) return 'short';
  if (ms < 60_000) return 'medium';
  if (ms < 180_000) return 'long';
  return 'very-long';
}

const out = ['video_id\tduration_class\tduration_s\tengagement'];
const ids = [...videos.keys()].sort((a, b) => Number(a) - Number(b));
for (const id of ids) {
  const v = videos.get(id) as Video;
  // Each flag's share of the video's rows, as `name weight` entries (a weighted list).
  const engagement = FLAGS.map((flag, k) => [flag.replace(/^is_/, ''), v.flags[k] / v.rows] as const)
    .filter(([, w]) => w > 0)
    .map(([name, w]) => `${name} ${w.toFixed(2)}`)
    .join(';');
  out.push([id, durationClass(v.durationMs), v.durationMs > 0 ? String(Math.round(v.durationMs / 1000)) : '', engagement].join('\t'));
}
writeFileSync(OUT, out.join('\n') + '\n');
process.stdout.write(`${OUT}: ${ids.length} videos\n`);
