// The audit log's lookup by subject and by actor: sorted runs of index rows, each covering a stretch of the log, built
// in one go behind the log (by the appender every few hundred entries, or by a worker for bulk writers) and merged a
// few at a time, so that no append writes index rows all over a large B-tree.
import type Database from "better-sqlite3";

/**
 * The SQL of one indexing step, from the last indexed entry to `:upto`; shared with the worker, which prepares it
 * itself. A run's rows are inserted in key order under a run id larger than any before, so they land at the end of
 * the table's B-tree, page after page, instead of one row on each of as many pages as there are subjects.
 */
export const INDEX_STEP = {
  state: "SELECT indexed_to AS indexedTo FROM audit_index_state WHERE id = 1",
  head: "SELECT coalesce(max(seq), 0) AS head FROM audit_log",
  newRun: "INSERT INTO audit_runs (level, first_seq, last_seq) VALUES (:level, :first, :last)",
  // An entry concerns its `subject`, or each of `detail.subjects` when it concerns several (a batch of checks), and
  // its actor.
  runKeys: `INSERT OR IGNORE INTO audit_run_keys (run, key, seq)
    SELECT :run, key, seq FROM (
      SELECT 's:' || subject AS key, seq FROM audit_log WHERE seq > :from AND seq <= :upto AND subject IS NOT NULL
      UNION ALL
      SELECT 's:' || j.value, seq FROM audit_log, json_each(audit_log.detail, '$.subjects') AS j
        WHERE seq > :from AND seq <= :upto AND subject IS NULL AND json_type(audit_log.detail, '$.subjects') = 'array'
      UNION ALL
      SELECT 'a:' || actor, seq FROM audit_log WHERE seq > :from AND seq <= :upto
    ) ORDER BY key, seq`,
  advance: "UPDATE audit_index_state SET indexed_to = :upto WHERE id = 1",
  fresh: "SELECT count(*) AS n, min(first_seq) AS first, max(last_seq) AS last FROM audit_runs WHERE level = 0",
  mergeKeys: `INSERT INTO audit_run_keys (run, key, seq)
    SELECT :run, key, seq FROM audit_run_keys WHERE run IN (SELECT id FROM audit_runs WHERE level = 0) ORDER BY key, seq`,
  dropKeys: "DELETE FROM audit_run_keys WHERE run IN (SELECT id FROM audit_runs WHERE level = 0)",
  dropRuns: "DELETE FROM audit_runs WHERE level = 0",
} as const;

/** Entries indexed per step when catching up, so that it never holds the write lock for long. */
export const INDEX_CHUNK = 20_000;

/**
 * Fresh runs merged into one at a time. Merged runs are not merged again (a merge of theirs would hold the write lock
 * for seconds); a lookup probes each of them, a few microseconds apiece.
 */
export const MERGE_FANOUT = 8;

/** The statements of INDEX_STEP, prepared on one connection. */
export type IndexStatements = { [K in keyof typeof INDEX_STEP]: { get(...a: unknown[]): unknown; run(...a: unknown[]): unknown } };

/**
 * Indexes up to `chunk` entries after the last indexed one as a new run, merging the fresh runs once there are
 * `fanout` of them, inside the caller's transaction; returns how many entries. Self-contained, because the background
 * worker runs a copy of its source text.
 */
export function indexStep(s: IndexStatements, chunk: number, fanout: number): number {
  const from = (s.state.get() as { indexedTo: number }).indexedTo;
  const head = (s.head.get() as { head: number }).head;
  const upto = Math.min(head, from + chunk);
  if (upto <= from) return 0;
  const run = (s.newRun.run({ level: 0, first: from + 1, last: upto }) as { lastInsertRowid: number | bigint }).lastInsertRowid;
  s.runKeys.run({ run, from, upto });
  s.advance.run({ upto });
  const fresh = s.fresh.get() as { n: number; first: number; last: number };
  if (fresh.n >= fanout) {
    const merged = (s.newRun.run({ level: 1, first: fresh.first, last: fresh.last }) as { lastInsertRowid: number | bigint }).lastInsertRowid;
    s.mergeKeys.run({ run: merged });
    s.dropKeys.run();
    s.dropRuns.run();
  }
  return upto - from;
}

/** The index steps of one connection, prepared once: a step may run with an append. */
export class AuditIndexer {
  private readonly stmts: IndexStatements;

  constructor(db: Database.Database) {
    this.stmts = Object.fromEntries(Object.entries(INDEX_STEP).map(([k, sql]) => [k, db.prepare(sql)])) as unknown as IndexStatements;
  }

  /** How far the index reaches, and the log's head. */
  progress(): { indexedTo: number; head: number } {
    const { indexedTo } = this.stmts.state.get() as { indexedTo: number };
    const { head } = this.stmts.head.get() as { head: number };
    return { indexedTo, head };
  }

  /** Indexes up to `chunk` entries after the last indexed one, inside the caller's transaction; returns how many. */
  step(chunk = INDEX_CHUNK): number {
    return indexStep(this.stmts, chunk, MERGE_FANOUT);
  }
}

/**
 * The sequence numbers of the indexed entries under `key` after `afterSeq`, up to `indexedTo`: one probe per run, the
 * runs walked first so the planner cannot scan a run for the key.
 */
export const INDEXED_SEQS = `SELECT k.seq FROM audit_runs AS r CROSS JOIN audit_run_keys AS k
  WHERE r.last_seq > @afterSeq AND k.run = r.id AND k.key = @key AND k.seq > @afterSeq AND k.seq <= @indexedTo`;
