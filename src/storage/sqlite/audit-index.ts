// The audit log's lookup by subject and by actor, kept off the write path: entries are appended with no index to
// update, and an indexer (a worker thread in a server, or the reader itself when far behind) catches the index up.

/** The SQL of one indexing step, from the last indexed entry to `:upto`; shared with the worker, which runs it as text. */
export const INDEX_STEP = {
  state: "SELECT indexed_to AS indexedTo FROM audit_index_state WHERE id = 1",
  head: "SELECT coalesce(max(seq), 0) AS head FROM audit_log",
  // An entry concerns its `subject`, or each of `detail.subjects` when it concerns several (a batch of checks).
  subjects: `INSERT OR IGNORE INTO audit_index (key, seq)
    SELECT 's:' || subject, seq FROM audit_log WHERE seq > :from AND seq <= :upto AND subject IS NOT NULL
    UNION ALL
    SELECT 's:' || j.value, seq FROM audit_log, json_each(audit_log.detail, '$.subjects') AS j
      WHERE seq > :from AND seq <= :upto AND subject IS NULL AND json_type(audit_log.detail, '$.subjects') = 'array'`,
  actors: "INSERT OR IGNORE INTO audit_index (key, seq) SELECT 'a:' || actor, seq FROM audit_log WHERE seq > :from AND seq <= :upto",
  advance: "UPDATE audit_index_state SET indexed_to = :upto WHERE id = 1",
} as const;

/** Entries indexed per transaction, so that catching up never holds the write lock for long. */
export const INDEX_CHUNK = 20_000;

/** The same step as a function of a better-sqlite3-like handle; the worker's copy is built from this source text. */
export function indexStep(db: { prepare(sql: string): { get(...a: unknown[]): unknown; run(...a: unknown[]): unknown } }, chunk: number): number {
  const from = (db.prepare(INDEX_STEP.state).get() as { indexedTo: number }).indexedTo;
  const head = (db.prepare(INDEX_STEP.head).get() as { head: number }).head;
  const upto = Math.min(head, from + chunk);
  if (upto <= from) return 0;
  db.prepare(INDEX_STEP.subjects).run({ from, upto });
  db.prepare(INDEX_STEP.actors).run({ from, upto });
  db.prepare(INDEX_STEP.advance).run({ upto });
  return upto - from;
}
