// The covering index per-user sequences are read from. One definition: migration v3 creates it,
// and a large import drops it and rebuilds it from this same text (import/writer.ts), so a
// rebuild can never bring back an older definition than the schema's.
export const SEQ_INDEX = 'interactions_seq';
export const SEQ_INDEX_SQL = `CREATE INDEX ${SEQ_INDEX} ON interactions (dataset_id, user, time, seq, item, day)`;
