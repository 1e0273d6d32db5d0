// The import wizard's first look at a file: delimiter, header, preset guess and a few rows.
import type { FilePreview } from '../../shared/types.ts';
import { readHead } from './head.ts';
import { PRESETS, detectPreset } from './presets.ts';

/** Reads the header and the first `rows` rows of `path` and guesses its preset. */
export async function previewFile(path: string, rows = 20): Promise<FilePreview> {
  // First with quoting (the safe guess for an unknown file), then with the detected preset's own
  // reading rules, which is how the import will read it.
  const probe = await readHead(path, { quoting: true, rows: 0 });
  const preset = detectPreset(probe.header, path);
  const spec = PRESETS[preset];
  const head = await readHead(path, { delimiter: spec.delimiter ?? probe.delimiter, quoting: spec.quoting, rows, stripTypes: spec.stripTypes });
  return { file: path, detectedPreset: preset, delimiter: head.delimiter, header: head.header, rows: head.rows };
}
