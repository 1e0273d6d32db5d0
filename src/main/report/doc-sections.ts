// Generated tables live inside hand-written docs between <!-- NAME --> and <!-- /NAME -->
// markers, so a report can be rewritten in place without touching the prose around it.

export interface DocSection {
  /** Marker name, e.g. RESULTS_MODELS. */
  name: string;
  body: string;
}

/** Replaces the text between each section's markers with its body. Throws, naming the file
 *  and the marker, when a marker pair is missing or out of order: a silently skipped table
 *  would leave stale numbers in the docs. */
export function replaceSections(doc: string, sections: DocSection[], file: string): string {
  let out = doc;
  for (const { name, body } of sections) {
    const open = `<!-- ${name} -->`;
    const close = `<!-- /${name} -->`;
    const from = out.indexOf(open);
    const to = out.indexOf(close);
    if (from < 0 || to < from + open.length) throw new Error(`${file} has no ${open} ... ${close} section`);
    out = `${out.slice(0, from + open.length)}\n${body.trim()}\n${out.slice(to)}`;
  }
  return out;
}
