// What the import wizard starts from for the chosen files: the preset's mapping and kept columns,
// its positive rule, and the columns that rule may name (planImport decides the same).
import type { ImportDefaults } from '../../shared/api.ts';
import type { ImportPreset } from '../../shared/types.ts';
import { JOINED_COLUMN } from './plan.ts';
import { isFeedInfoHeader, PRESETS, presetRule } from './presets.ts';
import { previewFile } from './preview.ts';

export async function importDefaults(preset: ImportPreset, files: string[]): Promise<ImportDefaults> {
  const spec = PRESETS[preset];
  if (!files.length) throw new Error('no files chosen');
  const heads = await Promise.all(files.map((f) => previewFile(f, 0)));
  // WeChat's feed_info.csv may sit anywhere in the list; the rule can then read the video length.
  const feedInfo = preset === 'wechat' ? heads.find((h) => isFeedInfoHeader(h.header)) : undefined;
  const main = heads.find((h) => h !== feedInfo) ?? heads[0];
  const joins = feedInfo !== undefined && !main.header.includes(JOINED_COLUMN);
  return {
    preset,
    rule: presetRule(preset, feedInfo !== undefined),
    mapping: { ...spec.mapping },
    keep: [...spec.keep],
    columns: joins ? [...main.header, JOINED_COLUMN] : main.header,
  };
}
