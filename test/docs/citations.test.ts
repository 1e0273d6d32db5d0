// Source comments point readers at docs/ for the why; a citation of a file or section that does
// not exist (renamed, renumbered) sends them nowhere, so every one is checked here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.(ts|svelte|mjs)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

const headingsOf = new Map<string, string[]>();
function headings(doc: string): string[] {
  let h = headingsOf.get(doc);
  if (!h) headingsOf.set(doc, (h = readFileSync(join('docs', doc), 'utf8').split('\n').filter((l) => l.startsWith('#'))));
  return h;
}

/** What a citation names: the file, and a section number, heading or heading text after it. */
const CITATION = /docs\/([\w-]+\.md)(?:,? section (\d+)| "(#+ [^"]+)"|, "([^"]+)"|, ([A-Z][A-Za-z -]+))?/g;

test('every docs/ file and section a source comment cites exists', () => {
  const broken: string[] = [];
  let checked = 0;
  for (const file of [...sources('src'), ...sources('scripts')]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(CITATION)) {
      const [cited, doc, number, heading, quoted, named] = m;
      const where = `${relative('.', file)}: ${cited}`;
      checked++;
      if (!existsSync(join('docs', doc))) {
        broken.push(`${where} (no such file)`);
        continue;
      }
      const hs = headings(doc);
      const ok =
        number !== undefined
          ? hs.some((h) => h.startsWith(`## ${number}.`))
          : heading !== undefined
            ? hs.includes(heading)
            : quoted !== undefined || named !== undefined
              ? hs.some((h) => h.replace(/^#+ (\d+\. )?/, '').startsWith((quoted ?? named)!.trim()))
              : true;
      if (!ok) broken.push(`${where} (no such section)`);
    }
  }
  assert.ok(checked > 10, `found the citations (${checked})`);
  assert.deepEqual(broken, [], 'no citation points at a missing file or section');
});
