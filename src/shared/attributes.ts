// Item attributes (WeChat feed_info.csv fields, or any item-attribute file) and the
// interest-alignment figure of a run against one of them. Plain data for the contract.

/** How an attribute's cells are read: a number or text (one value), a `;`/`|`-separated list,
 *  or a list of `token weight` entries (WeChat's machine_tag_list). */
export const ATTRIBUTE_KINDS = ['number', 'text', 'list', 'weighted-list'] as const;
export type AttributeKind = (typeof ATTRIBUTE_KINDS)[number];

export interface ItemAttribute {
  name: string;
  kind: AttributeKind;
  /** The file it was imported from. */
  source: string;
  /** Items of the dataset with a value. */
  items: number;
  /** Distinct labels (the value alignment groups by: a list's first / highest-weight entry). */
  labels: number;
}

export interface ItemImportRequest {
  datasetId: number;
  file: string;
  /** The item id column; WeChat's feed_info.csv: feedid; else the dataset's item column when
   *  the file has it, else the first column. */
  idColumn?: string;
  /** The columns to import; every other column when absent (feed_info.csv: its item fields). */
  columns?: string[];
  /** One ASCII character; detected from the header when absent. */
  delimiter?: string;
}

export interface ItemImportResult {
  datasetId: number;
  file: string;
  idColumn: string;
  /** Data rows read. */
  rows: number;
  /** Malformed rows dropped (only within a dataset import with onError 'skip'; else an error). */
  skipped: number;
  /** Rows whose item the dataset has. */
  matched: number;
  /** Rows whose item the dataset does not know (not an error: the file may cover more items). */
  unknown: number;
  /** The first few unknown raw ids. */
  unknownExamples: string[];
  /** Items of the dataset the file has no row for. */
  missing: number;
  attributes: ItemAttribute[];
  /** Attributes that already existed and were replaced. */
  replaced: string[];
}

/** NMI and purity of the assigned interests against one attribute's labels. */
export interface AlignmentScores {
  /** Normalised mutual information, arithmetic-mean normalisation (sklearn's default). */
  nmi: number;
  /** Share of items whose label is their interest's most common label. */
  purity: number;
}

export interface AlignmentResult {
  runId: number;
  label: string;
  model: string;
  attribute: string;
  /** How each history item's interest is chosen (docs/protocol.md "## Interest alignment"). */
  assignment: 'category' | 'argmax-score';
  numInterests: number;
  /** Test users whose history had at least one labelled item. */
  users: number;
  /** History items (user, position) with a label: the N of the pooled figures. */
  items: number;
  /** History items without a value for the attribute (left out). */
  unlabelled: number;
  /** Distinct labels among the counted items. */
  labels: number;
  /** Every (user, position) pooled, interest ids as global categories. */
  pooled: AlignmentScores;
  /** Mean of the per-user figures over the users whose labelled items hold two labels or more. */
  perUser: AlignmentScores & { users: number };
  /** Chance level: the same figures with each user's interests shuffled among the user's own
   *  items (seeded), so interest sizes stay and any relation to the labels goes. NMI is not
   *  adjusted for chance; compare with these. */
  chance: { pooled: AlignmentScores; perUser: AlignmentScores };
  /** Baseline: purity when every item sits in one interest (the top label's share). */
  majorityShare: number;
}
