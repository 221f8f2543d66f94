// The audit log's lookup by subject and by actor: an index table written in the same transaction as the entries it
// indexes, or by a worker behind the log for bulk writers, and caught up from wherever it stands.
import type Database from "better-sqlite3";

/** The SQL of one indexing step, from the last indexed entry to `:upto`; shared with the worker, which prepares it itself. */
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

/** Entries indexed per step, so that catching up never holds the write lock for long. */
export const INDEX_CHUNK = 20_000;

/** The statements of INDEX_STEP, prepared on one connection. */
export type IndexStatements = { [K in keyof typeof INDEX_STEP]: { get(...a: unknown[]): unknown; run(...a: unknown[]): unknown } };

/**
 * Indexes up to `chunk` entries after the last indexed one, inside the caller's transaction; returns how many. Self-
 * contained, because the background worker runs a copy of its source text.
 */
export function indexStep(s: IndexStatements, chunk: number): number {
  const from = (s.state.get() as { indexedTo: number }).indexedTo;
  const head = (s.head.get() as { head: number }).head;
  const upto = Math.min(head, from + chunk);
  if (upto <= from) return 0;
  s.subjects.run({ from, upto });
  s.actors.run({ from, upto });
  s.advance.run({ upto });
  return upto - from;
}

/** The index steps of one connection, prepared once: a step may run with every append. */
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
    return indexStep(this.stmts, chunk);
  }
}
