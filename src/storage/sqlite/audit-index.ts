// The audit log's lookup by subject and by actor: sorted runs of index rows, each covering a stretch of the log, cut
// behind the log (by the appender every few hundred entries, or by a worker for bulk writers) and merged into larger
// runs a piece at a time, so that no append writes index rows all over a large B-tree and none pays for a whole merge.
import type Database from "better-sqlite3";

/**
 * The SQL of indexing, shared with the worker, which prepares it itself. A run's rows are inserted in key order under
 * a run id larger than any before, so they land at the end of the table's B-tree page after page, instead of one row
 * on each of as many pages as there are subjects. A merge moves the rows of a stretch of keys at a time from its
 * sources into the merged run: every row is in exactly one run at every commit, so lookups stay exact throughout.
 */
export const INDEX_STEP = {
  state: "SELECT indexed_to AS indexedTo FROM audit_index_state WHERE id = 1",
  head: "SELECT coalesce(max(seq), 0) AS head FROM audit_log",
  newRun: "INSERT INTO audit_runs (level, first_seq, last_seq, rows, merged_to) VALUES (:level, :first, :last, :rows, :mergedTo)",
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
  setRows: "UPDATE audit_runs SET rows = :rows WHERE id = :run",
  advance: "UPDATE audit_index_state SET indexed_to = :upto WHERE id = 1",
  merging: "SELECT id, level, merged_to AS mergedTo FROM audit_runs WHERE merged_to IS NOT NULL",
  // The lowest level with enough complete runs to merge.
  due: `SELECT level, min(first_seq) AS first, max(last_seq) AS last FROM audit_runs
    WHERE merged_to IS NULL AND level < :top GROUP BY level HAVING count(*) >= :fanout ORDER BY level LIMIT 1`,
  // A merge's sources: the complete runs of the level below it that were there when it began.
  widest: "SELECT id, rows, (SELECT sum(rows) FROM audit_runs WHERE level = :level AND id < :merged) AS total FROM audit_runs WHERE level = :level AND id < :merged ORDER BY rows DESC LIMIT 1",
  boundary: "SELECT key FROM audit_run_keys WHERE run = :widest AND key > :from ORDER BY key LIMIT 1 OFFSET :offset",
  movePiece: `INSERT INTO audit_run_keys (run, key, seq)
    SELECT :merged, key, seq FROM audit_run_keys WHERE run IN (SELECT id FROM audit_runs WHERE level = :level AND id < :merged) AND key > :from AND key <= :to
    ORDER BY key, seq`,
  dropPiece: "DELETE FROM audit_run_keys WHERE run IN (SELECT id FROM audit_runs WHERE level = :level AND id < :merged) AND key > :from AND key <= :to",
  moveRest: `INSERT INTO audit_run_keys (run, key, seq)
    SELECT :merged, key, seq FROM audit_run_keys WHERE run IN (SELECT id FROM audit_runs WHERE level = :level AND id < :merged) AND key > :from
    ORDER BY key, seq`,
  dropRest: "DELETE FROM audit_run_keys WHERE run IN (SELECT id FROM audit_runs WHERE level = :level AND id < :merged) AND key > :from",
  mergedTo: "UPDATE audit_runs SET merged_to = :to, rows = rows + :moved WHERE id = :merged",
  dropSources: "DELETE FROM audit_runs WHERE level = :level AND id < :merged",
} as const;

/**
 * How indexing proceeds: entries per run at most, runs per merge, the highest level, and rows moved per piece at least;
 * with `keepUp`, a piece also moves `top + 1` times the rows just cut, so that merging keeps up by itself (the worker,
 * a reader catching up); without, the caller takes further pieces (see SqliteStore.indexLater).
 */
export interface IndexShape {
  chunk: number;
  fanout: number;
  top: number;
  piece: number;
  keepUp: boolean;
}

/** What one step did: entries indexed, rows cut into a new run, rows moved by a merge. */
export interface StepDone {
  entries: number;
  cut: number;
  moved: number;
}

/**
 * Runs merged at a time, and levels: fresh runs merge 64 at a time into runs that are not merged again, so that each
 * index row is written twice in all. A lookup probes every run, a few microseconds each: with the appender's runs of
 * about a thousand rows, fifteen thousand merged runs hold a billion rows, and a lookup over them takes some 30 ms.
 */
export const MERGE = { fanout: 64, top: 1 } as const;

/** Catching up a backlog (a reader far behind the log, the worker of a bulk writer): large runs, large pieces. */
export const CATCH_UP: IndexShape = { chunk: 20_000, piece: 100_000, keepUp: true, ...MERGE };

/** The statements of INDEX_STEP, prepared on one connection. */
export type IndexStatements = { [K in keyof typeof INDEX_STEP]: { get(...a: unknown[]): unknown; run(...a: unknown[]): { changes: number; lastInsertRowid: number | bigint } } };

/**
 * Cuts a run of up to `shape.chunk` entries after the last indexed one, then moves a piece of a merge (beginning one if
 * one is due) unless `shape.piece` is 0. Runs inside the caller's transaction. Self-contained, because the background
 * worker runs a copy of its source text.
 */
export function indexStep(s: IndexStatements, shape: IndexShape): StepDone {
  const from = (s.state.get() as { indexedTo: number }).indexedTo;
  const head = (s.head.get() as { head: number }).head;
  const upto = Math.min(head, from + shape.chunk);
  let cut = 0;
  if (upto > from) {
    const run = s.newRun.run({ level: 0, first: from + 1, last: upto, rows: 0, mergedTo: null }).lastInsertRowid;
    cut = s.runKeys.run({ run, from, upto }).changes;
    s.setRows.run({ run, rows: cut });
    s.advance.run({ upto });
  }
  if (shape.piece === 0) return { entries: Math.max(0, upto - from), cut, moved: 0 };
  let merge = s.merging.get() as { id: number | bigint; level: number; mergedTo: string } | undefined;
  if (!merge) {
    const due = s.due.get({ top: shape.top, fanout: shape.fanout }) as { level: number; first: number; last: number } | undefined;
    if (due) {
      const id = s.newRun.run({ level: due.level + 1, first: due.first, last: due.last, rows: 0, mergedTo: "" }).lastInsertRowid;
      merge = { id, level: due.level + 1, mergedTo: "" };
    }
  }
  let moved = 0;
  if (merge) {
    const at = { merged: merge.id, level: merge.level - 1, from: merge.mergedTo };
    const piece = shape.keepUp ? Math.max(shape.piece, (shape.top + 1) * cut) : shape.piece;
    // Where the piece ends: as far into the widest source as its share of the piece.
    const widest = s.widest.get(at) as { id: number | bigint; rows: number; total: number } | undefined;
    const offset = widest ? Math.max(0, Math.floor((piece * widest.rows) / Math.max(1, widest.total)) - 1) : 0;
    const end = widest ? (s.boundary.get({ widest: widest.id, from: merge.mergedTo, offset }) as { key: string } | undefined) : undefined;
    if (end) {
      moved = s.movePiece.run({ ...at, to: end.key }).changes;
      s.dropPiece.run({ ...at, to: end.key });
      s.mergedTo.run({ merged: merge.id, to: end.key, moved });
    } else {
      moved = s.moveRest.run(at).changes;
      s.dropRest.run(at);
      s.mergedTo.run({ merged: merge.id, to: null, moved });
      s.dropSources.run({ merged: merge.id, level: at.level });
    }
  }
  return { entries: Math.max(0, upto - from), cut, moved };
}

/** The index steps of one connection, prepared once: a step may run with an append. */
export class AuditIndexer {
  private readonly stmts: IndexStatements;

  constructor(db: Database.Database) {
    this.stmts = Object.fromEntries(Object.entries(INDEX_STEP).map(([k, sql]) => [k, db.prepare(sql)])) as unknown as IndexStatements;
  }

  /** The last entry the index reaches. */
  indexedTo(): number {
    return (this.stmts.state.get() as { indexedTo: number }).indexedTo;
  }

  /** How far the index reaches, and the log's head. */
  progress(): { indexedTo: number; head: number } {
    return { indexedTo: this.indexedTo(), head: (this.stmts.head.get() as { head: number }).head };
  }

  /** One step of indexing inside the caller's transaction. */
  step(shape: IndexShape = CATCH_UP): StepDone {
    return indexStep(this.stmts, shape);
  }
}

/**
 * The sequence numbers of the indexed entries under `key` after `afterSeq`, up to `indexedTo`: one probe per run, the
 * runs walked first so the planner cannot scan a run for the key.
 */
export const INDEXED_SEQS = `SELECT k.seq FROM audit_runs AS r CROSS JOIN audit_run_keys AS k
  WHERE r.last_seq > @afterSeq AND k.run = r.id AND k.key = @key AND k.seq > @afterSeq AND k.seq <= @indexedTo`;
