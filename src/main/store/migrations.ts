// Versioned schema. Each entry moves the database from version i to i+1 (PRAGMA user_version);
// never edit a shipped entry, append a new one.
import { SEQ_INDEX_SQL } from './sequence-index.ts';

export const migrations: string[] = [
  // v1: datasets, id maps, interactions, splits, runs and everything a run produces.
  `
  CREATE TABLE datasets (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    preset        TEXT NOT NULL,
    positive_rule TEXT NOT NULL,
    time_kind     TEXT NOT NULL CHECK (time_kind IN ('day', 'timestamp')),
    files         TEXT NOT NULL,            -- JSON array of source paths
    columns       TEXT NOT NULL,            -- JSON array: raw header of the main file
    kept_columns  TEXT NOT NULL,            -- JSON array: feedback columns stored per interaction
    mapping       TEXT NOT NULL,            -- JSON ColumnMapping used
    rows          INTEGER NOT NULL,
    interactions  INTEGER NOT NULL,
    users         INTEGER NOT NULL,
    items         INTEGER NOT NULL,
    days          INTEGER NOT NULL,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
  );

  -- Dense ids start at 1; 0 is reserved for padding.
  CREATE TABLE users (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    uid        INTEGER NOT NULL,
    raw        TEXT NOT NULL,
    PRIMARY KEY (dataset_id, uid)
  ) WITHOUT ROWID;

  CREATE TABLE items (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    iid        INTEGER NOT NULL,
    raw        TEXT NOT NULL,
    PRIMARY KEY (dataset_id, iid)
  ) WITHOUT ROWID;

  -- One row per positive interaction. time: epoch ms (or the day when only days are known);
  -- day: 1-based day index within the dataset. feedback: Float64 values of kept_columns.
  CREATE TABLE interactions (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    user       INTEGER NOT NULL,
    item       INTEGER NOT NULL,
    time       INTEGER NOT NULL,
    day        INTEGER NOT NULL,
    seq        INTEGER NOT NULL,           -- row order in the source, breaks time ties
    feedback   BLOB
  );

  CREATE TABLE splits (
    id          INTEGER PRIMARY KEY,
    dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    params      TEXT NOT NULL,             -- JSON SplitParams
    params_key  TEXT NOT NULL,             -- canonical JSON, to reuse an identical split
    vocab       BLOB NOT NULL,             -- Int32: split item id (index) -> dataset iid; [0] = 0
    users       INTEGER NOT NULL,
    items       INTEGER NOT NULL,
    train_interactions INTEGER NOT NULL,
    valid_users INTEGER NOT NULL,
    test_users  INTEGER NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (dataset_id, params_key)
  );

  -- Per-user sequences of a split, in split item ids, time order.
  CREATE TABLE split_users (
    split_id INTEGER NOT NULL REFERENCES splits(id) ON DELETE CASCADE,
    uid      INTEGER NOT NULL,             -- dataset uid
    train    BLOB NOT NULL,                -- Int32 items of the training part
    valid    BLOB NOT NULL,                -- Int32 items of the validation target
    test     BLOB NOT NULL,                -- Int32 items of the test target
    PRIMARY KEY (split_id, uid)
  ) WITHOUT ROWID;

  CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    split_id    INTEGER NOT NULL REFERENCES splits(id) ON DELETE CASCADE,
    model       TEXT NOT NULL,
    label       TEXT NOT NULL,
    config      TEXT NOT NULL,             -- JSON, complete (defaults filled in)
    seed        INTEGER NOT NULL,
    grp         TEXT,                      -- sweep / ablation set this run belongs to
    status      TEXT NOT NULL,
    backend     TEXT,
    device      TEXT,
    steps       INTEGER NOT NULL DEFAULT 0,
    best_step   INTEGER,
    seconds     REAL NOT NULL DEFAULT 0,
    valid       TEXT,                      -- JSON Metrics at the best step
    test        TEXT,                      -- JSON Metrics of the best checkpoint
    error       TEXT,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
  );

  CREATE TABLE run_curves (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step   INTEGER NOT NULL,
    kind   TEXT NOT NULL,                  -- 'train' | 'valid'
    stage  TEXT,
    vals   TEXT NOT NULL                   -- JSON Record<string, number>
  );
  CREATE INDEX run_curves_run ON run_curves (run_id, step);

  -- Per-user metric values for significance tests: Float32 arrays aligned with users.
  CREATE TABLE run_user_metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    phase  TEXT NOT NULL,                  -- 'valid' | 'test'
    metric TEXT NOT NULL,                  -- e.g. 'recall@50'
    users  BLOB NOT NULL,                  -- Int32 dataset uids
    vals   BLOB NOT NULL,                  -- Float32
    PRIMARY KEY (run_id, phase, metric)
  ) WITHOUT ROWID;

  -- Latest resumable state of a run (weights, optimiser slots, sampler state).
  CREATE TABLE checkpoints (
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,              -- 'last' (resume) | 'best' (evaluation)
    step       INTEGER NOT NULL,
    state      TEXT NOT NULL,              -- JSON trainer state (rng, early stopping, stage)
    tensors    BLOB NOT NULL,              -- packed named Float32 tensors
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (run_id, tag)
  ) WITHOUT ROWID;

  -- Learned embeddings kept for the interest inspector (items, categories, ...).
  CREATE TABLE run_embeddings (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name   TEXT NOT NULL,
    rows   INTEGER NOT NULL,
    cols   INTEGER NOT NULL,
    data   BLOB NOT NULL,                  -- Float32 row-major
    PRIMARY KEY (run_id, name)
  ) WITHOUT ROWID;
  `,
  // v2: the worker process id of a running run, so a run whose worker died shows as interrupted.
  `ALTER TABLE runs ADD COLUMN pid INTEGER;`,
  // v3 (import): per-user sequences in time order are read straight off this covering index
  // (no table lookups), and raw-id searches of the inspector use the two raw indexes.
  `
  ${SEQ_INDEX_SQL};
  CREATE INDEX users_raw ON users (dataset_id, raw);
  CREATE INDEX items_raw ON items (dataset_id, raw);
  `,
  // v4: DSSRec gained its fine-tune stage (trainStages, default 'both'). Runs stored before it
  // trained one joint stage: say so, or they would read as (and be reused for) two-stage runs.
  `
  UPDATE runs SET config = json_set(config, '$.trainStages', 'pretrain')
  WHERE model = 'dssrec' AND json_extract(config, '$.trainStages') IS NULL;
  `,
  // v5: a stage switch now starts a fresh optimiser (stageOptimizer, default 'fresh'). Runs that
  // switched stages before it kept Adam's state: say so. One-stage runs never switch; untouched.
  `
  UPDATE runs SET config = json_set(config, '$.stageOptimizer', 'keep')
  WHERE json_extract(config, '$.stageOptimizer') IS NULL AND (
    (model = 'opal' AND coalesce(json_extract(config, '$.trainStages'), 'both') = 'both')
    OR (model = 'dssrec' AND json_extract(config, '$.trainStages') = 'both' AND coalesce(json_extract(config, '$.lambdaSeq2seq'), 1) > 0)
  );
  `,
  // v6: the test-day lists of a run (what breakdowns by item popularity and imported
  // results need) and the beyond-accuracy values that have no per-user form (coverage, Gini).
  `
  CREATE TABLE run_lists (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    phase  TEXT NOT NULL,                  -- 'test'
    k      INTEGER NOT NULL,               -- list width
    users  BLOB NOT NULL,                  -- Int32 dataset uids
    items  BLOB NOT NULL,                  -- Int32 [users, k] split item ids, best first, 0 = empty
    PRIMARY KEY (run_id, phase)
  ) WITHOUT ROWID;
  CREATE TABLE run_list_metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    phase  TEXT NOT NULL,
    metric TEXT NOT NULL,                  -- e.g. 'coverage@50', 'novelty@50'
    value  REAL NOT NULL,
    PRIMARY KEY (run_id, phase, metric)
  ) WITHOUT ROWID;
  `,
  // v7: cached statistics of the dataset screen, computed once per dataset / split; they go
  // with their row (datasets and splits never change once stored).
  `
  CREATE TABLE dataset_charts (
    dataset_id INTEGER PRIMARY KEY REFERENCES datasets(id) ON DELETE CASCADE,
    charts     TEXT NOT NULL               -- JSON DatasetCharts
  );
  CREATE TABLE split_stats (
    split_id INTEGER PRIMARY KEY REFERENCES splits(id) ON DELETE CASCADE,
    stats    TEXT NOT NULL                 -- JSON SplitStats
  );
  -- Kept users with any validation / test positive before out-of-vocabulary items are dropped
  -- (NULL for splits stored before): says why a split has no evaluated user.
  ALTER TABLE splits ADD COLUMN valid_target_users INTEGER;
  ALTER TABLE splits ADD COLUMN test_target_users INTEGER;
  `,
  // v8: why a run stopped (early, max-steps, cancelled, failed). Runs stored before it: derived
  // from the status and the step cap; a done run that never stepped (most-popular) has none.
  `
  ALTER TABLE runs ADD COLUMN stopped TEXT;
  UPDATE runs SET stopped = CASE
    WHEN status = 'cancelled' THEN 'cancelled'
    WHEN status = 'failed' THEN 'failed'
    WHEN status = 'done' AND steps = 0 THEN NULL
    WHEN status = 'done' AND coalesce(json_extract(config, '$.maxSteps'), 0) > 0
      AND steps >= json_extract(config, '$.maxSteps') THEN 'max-steps'
    WHEN status = 'done' THEN 'early'
  END;
  `,
  // v9: run_embeddings was written after every run and never read: the inspector rebuilds
  // the model from its best checkpoint, which holds the same item table.
  `DROP TABLE run_embeddings;`,
  // v10: the analyst's tags and free-text note on a run (the experiments list searches both).
  `
  ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT '';
  CREATE TABLE run_tags (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    tag    TEXT NOT NULL,
    PRIMARY KEY (run_id, tag)
  ) WITHOUT ROWID;
  CREATE INDEX run_tags_tag ON run_tags (tag);
  `,
  // v11: item attributes (WeChat feed_info.csv fields, or any item-attribute file), one row per
  // item and attribute. value: the cell as written; label: the one value interest alignment
  // groups by (a list's first or highest-weight entry; docs/import.md "## Item attributes").
  `
  CREATE TABLE item_attributes (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('number', 'text', 'list', 'weighted-list')),
    source     TEXT NOT NULL,              -- the file it came from
    items      INTEGER NOT NULL,           -- items with a value
    labels     INTEGER NOT NULL,           -- distinct labels
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (dataset_id, name)
  );
  CREATE TABLE item_attribute_values (
    dataset_id INTEGER NOT NULL,
    name       TEXT NOT NULL,
    iid        INTEGER NOT NULL,
    value      TEXT NOT NULL,
    label      TEXT NOT NULL,
    PRIMARY KEY (dataset_id, name, iid),
    FOREIGN KEY (dataset_id, name) REFERENCES item_attributes (dataset_id, name) ON DELETE CASCADE
  ) WITHOUT ROWID;
  CREATE INDEX item_attribute_values_item ON item_attribute_values (dataset_id, iid);
  `,
];
