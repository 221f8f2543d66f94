// The embedded backend: one SQLite file through better-sqlite3, in WAL mode.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { chain, detailJson, type AuditDraft, type AuditEntry, type Checkpoint } from "../../core/audit.js";
import type { Objection, Restoration } from "../../core/due-process.js";
import { NO_CASE, type Status } from "../../core/evaluate.js";
import { noticesForChange, type NoticeDraft } from "../../core/notices.js";
import type { RecordOp } from "../../core/record-input.js";
import { parseInstant, type Instant } from "../../core/time.js";
import type {
  ApiKeyRecord,
  AuditQuery,
  RecordOutcome,
  RecordRevision,
  StatusRow,
  StatusSummary,
  Store,
  StoredLayer,
  StoredRecord,
  StoredMeasures,
  StoreTx,
  SubjectEvaluator,
} from "../store.js";
import { AuditIndexer, INDEXED_SEQS, MERGE, type IndexShape } from "./audit-index.js";
import { DueProcessTables } from "./due-process-tables.js";
import { toAuditEntry, toKey, toMeasures, firstRevisionRow, historyOf, toRecord, writtenRecord, type AuditRow, type HistoryRow, type KeyRow, type MeasuresRow, type RecordRow } from "../rows.js";
import { startCheckpointer, type Checkpointer } from "./checkpointer.js";
import { migrate } from "./migrations.js";
import { contentHash, contentOf } from "../record-content.js";
import { sameContent, sameStatus, statusOfRow, storedStatus, type StoredStatus } from "../status-rows.js";

export { contentHash } from "../record-content.js";

export interface SqliteOptions {
  /**
   * Copy the WAL into the database from a worker thread instead of in the committing thread: for long-running
   * servers, where otherwise every thousandth commit pays for copying the pages of all the others.
   */
  backgroundCheckpoints?: boolean;
  /**
   * With backgroundCheckpoints, leave the audit log's index to the worker, which keeps it up behind the log on the
   * other core: for bulk writers (import, generate, the feed), whose every record is an entry. A server indexes in
   * its own appends instead, so that no worker's step holds the write lock while a request waits.
   */
  indexAuditBehind?: boolean;
  /**
   * Runs of the audit index this connection may cut while its merging waits for a quiet moment, before merging goes
   * with the appends again (default 2,048, see MAX_RUNS_UNMERGED): fewer keep lookups cheaper under sustained load.
   */
  maxRunsUnmerged?: number;
}

/** Opens (creating if needed) a SQLite store at a path; ":memory:" gives a private in-memory one. */
export function openSqliteStore(path: string, options: SqliteOptions = {}): SqliteStore {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // Statuses and records are reached by subject in no particular order: a page cache of a few pages (the default 2 MB)
  // turns every write into reads from the file. 64 MB of cache and the file mapped into memory keep them in reach.
  db.pragma("cache_size = -65536");
  db.pragma("mmap_size = 1073741824");
  migrate(db);
  const store = new SqliteStore(db, options.maxRunsUnmerged);
  if (options.backgroundCheckpoints && path !== ":memory:") {
    // The worker copies the WAL into the file as it goes, but the WAL only starts over once a checkpoint has finished
    // between two transactions, which a writer that never pauses never allows: it grew to 50 GB while a Beijing-size
    // city was generated. So the connection still checkpoints by itself at a much larger size, when there is little
    // left to copy, and the file is cut back afterwards.
    db.pragma(`wal_autocheckpoint = ${WAL_LIMIT_PAGES}`);
    db.pragma(`journal_size_limit = ${WAL_LIMIT_PAGES * 4096}`);
    let failed = false;
    const behind = options.indexAuditBehind === true;
    store.indexAuditWithEntries(!behind);
    store.checkpointer = startCheckpointer(path, 200, behind, (reason) => {
      // Never let the WAL grow without bound: the connection checkpoints by itself again. The worker keeps trying (a
      // long bulk write that kept it waiting ends), but one warning says it all.
      db.pragma("wal_autocheckpoint = 1000");
      store.indexAuditWithEntries(true);
      if (failed) return;
      failed = true;
      process.emitWarning(`background WAL checkpoints failed (${reason}); the connection checkpoints by itself as well from now on`);
    });
  }
  return store;
}

/** Every store operation on one connection; the bodies are synchronous, so each is atomic on the event loop. */
class SqliteOps implements StoreTx {
  private readonly s;
  /**
   * The measures of subjects as last read, valid while the statuses epoch is `cacheEpoch`: every change of statuses,
   * by any connection, moves the epoch in the same transaction, and a rolled-back change moves it back. Shared objects:
   * callers read them, never change them.
   */
  private readonly measuresCache = new Map<string, StoredMeasures | null>();
  private cacheEpoch: number | undefined;
  /**
   * The store's transaction in progress, if any, and the one the epoch was last read in: no other connection can
   * change statuses while this one holds the write lock, so a batch of a thousand checks reads the epoch once.
   */
  transactionToken: object | undefined;
  private epochReadIn: object | undefined;

  private readonly dp: DueProcessTables;
  private readonly indexer: AuditIndexer;
  /** Whether appends index their entries themselves; off while a worker indexes behind the log. */
  indexWithEntries = true;
  /** Index rows (subjects and actors) this connection appended since it last indexed: a run is cut when they are many. */
  private unindexedRows = 0;
  /** Whether enough entries wait for the index that a step should follow the commit that appended them. */
  indexDue = false;

  /**
   * Runs this connection cut since its steps last found nothing left to merge: while there are any, a merge may be
   * owed; past maxRunsUnmerged, lookups would probe too many.
   */
  private runsUnmerged = 0;

  /**
   * A write that failed inside the store's transaction: that transaction then rolls back whatever its work returns, so
   * that a failure caught by the caller cannot commit half a write.
   */
  failedWrite: unknown;

  /**
   * Runs work whole or not at all: in the store's transaction when one is open (which then rolls back, see
   * failedWrite), else in an immediate transaction of its own. Nested, better-sqlite3 would open a savepoint, and SQLite
   * copies every page changed under a savepoint to a sub-journal first: 8% of an import's time, measured.
   */
  private atomically<T>(work: () => T): T {
    if (!this.db.inTransaction) return this.db.transaction(work).immediate();
    try {
      return work();
    } catch (e) {
      this.failedWrite ??= e;
      throw e;
    }
  }

  /**
   * One step of the audit index, in the caller's transaction: a run of what this connection (or another) appended, or
   * a piece of a merge. The index reaches one watermark, so a backlog (a bulk writer's beside this one) is indexed too,
   * a bounded chunk per step; each step is short (under a millisecond or so), so that none stalls the requests behind
   * it for long; a merge goes a piece per step until a step finds nothing left to merge.
   */
  indexAuditStep(): void {
    const cutting = this.indexDue;
    this.indexDue = false;
    if (cutting) this.unindexedRows = 0;
    const done = this.indexer.step(cutting ? (this.mergeOverdue ? APPEND_STEP : CUT_STEP) : MERGE_STEP);
    this.runsUnmerged = done.moved === 0 && done.cut === 0 ? 0 : this.runsUnmerged + (done.cut > 0 ? 1 : 0);
    const { indexedTo, head } = this.indexer.progress();
    if (head - indexedTo >= RUN_ENTRIES) this.indexDue = true;
  }

  /** Whether a step of the audit index should follow at once: a run to cut, or a merge so far behind it cannot wait. */
  get indexWork(): boolean {
    return this.indexDue || this.mergeOverdue;
  }

  /** Whether a merge may be owed, to be advanced when nothing else is going on. */
  get mergeWork(): boolean {
    return this.runsUnmerged > 0;
  }

  private get mergeOverdue(): boolean {
    return this.runsUnmerged > this.maxRunsUnmerged;
  }

  constructor(
    readonly db: Database.Database,
    private readonly maxRunsUnmerged = MAX_RUNS_UNMERGED,
  ) {
    this.dp = new DueProcessTables(db);
    this.indexer = new AuditIndexer(db);
    this.s = {
      getRecord: db.prepare<[string], RecordRow>("SELECT * FROM records WHERE id = ?"),
      // DO NOTHING: a submission whose id is taken is then compared with the stored record. Positional parameters, as
      // for every statement run once a record or a subject: binding by name costs a third of the insert.
      insertNewRecord: db.prepare<[string, string, string, string, string, number, string, string, string | null, string, number]>(
        `INSERT INTO records (id, source, external_id, subject, category, occurred_at, attributes, legal_ref, evidence_ref, state, revision, content_hash, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', 1, ?, ?)
         ON CONFLICT (id) DO NOTHING`,
      ),
      updateRecord: db.prepare(
        `UPDATE records SET subject = @subject, category = @category, occurred_at = @occurred_at, attributes = @attributes,
           legal_ref = @legal_ref, evidence_ref = @evidence_ref, revision = @revision, content_hash = @content_hash
         WHERE id = @id`,
      ),
      retractRecord: db.prepare("UPDATE records SET state = 'retracted', revision = ? WHERE id = ?"),
      insertHistory: db.prepare("INSERT INTO record_history (record_id, revision, op, content, content_hash, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)"),
      // OR IGNORE: a database written before first revisions were kept only once superseded already holds the row.
      keepFirstRevision: db.prepare(
        `INSERT OR IGNORE INTO record_history (record_id, revision, op, content, content_hash, reason, at)
         VALUES (@record_id, @revision, @op, @content, @content_hash, @reason, @at)`,
      ),
      sentBefore: db.prepare<[string, string], { one: number }>("SELECT 1 AS one FROM record_history WHERE record_id = ? AND content_hash = ? LIMIT 1"),
      activeRecordsOf: db.prepare<[string], RecordRow>("SELECT * FROM records WHERE subject = ? AND state = 'active'"),
      // What evaluation needs, without the content hash: a page of a rescore reads every record of its subjects.
      activeRecordsBetween: db.prepare<[string, string], Omit<RecordRow, "content_hash">>(
        `SELECT id, source, external_id, subject, category, occurred_at, attributes, legal_ref, evidence_ref, state, revision, received_at
         FROM records WHERE subject BETWEEN ? AND ? AND state = 'active'`,
      ),
      statusesBetween: db.prepare<[string, string], StoredStatus & { subject: string }>(
        "SELECT subject, body, measures, valid_from, valid_until FROM statuses WHERE subject BETWEEN ? AND ?",
      ),
      allRecordsOf: db.prepare<[string], RecordRow>("SELECT * FROM records WHERE subject = ? ORDER BY occurred_at, id"),
      history: db.prepare<[string], HistoryRow>(
        "SELECT revision, op, content, reason, at FROM record_history WHERE record_id = ? ORDER BY revision",
      ),
      getStatus: db.prepare<[string], StoredStatus>("SELECT body, measures, valid_from, valid_until FROM statuses WHERE subject = ?"),
      putStatus: db.prepare<[string, number, string | null, string, number | null, number | null, string, string]>(
        `INSERT INTO statuses (subject, score, grade, ruleset_hash, valid_from, valid_until, body, measures)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (subject) DO UPDATE SET score = excluded.score, grade = excluded.grade, ruleset_hash = excluded.ruleset_hash,
           valid_from = excluded.valid_from, valid_until = excluded.valid_until, body = excluded.body, measures = excluded.measures`,
      ),
      deleteStatus: db.prepare("DELETE FROM statuses WHERE subject = ?"),
      getMeasures: db.prepare<[string], MeasuresRow>(
        "SELECT ruleset_hash, valid_from, valid_until, measures FROM statuses WHERE subject = ?",
      ),
      activationSeq: db.prepare<[], { seq: number | null }>("SELECT max(seq) AS seq FROM activations"),
      statusEpoch: db.prepare<[], number>("SELECT n FROM store_epochs WHERE name = 'statuses'").pluck(),
      bumpStatusEpoch: db.prepare<[], number>("UPDATE store_epochs SET n = n + 1 WHERE name = 'statuses' RETURNING n").pluck(),
      auditHead: db.prepare<[], { seq: number; hash: string }>("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"),
      insertAudit: db.prepare(
        `INSERT INTO audit_log (seq, at, actor, action, subject, decision_id, detail, prev, hash)
         VALUES (@seq, @at, @actor, @action, @subject, @decisionId, @detail, @prev, @hash)`,
      ),
      getKey: db.prepare<[string], KeyRow>("SELECT * FROM api_keys WHERE id = ?"),
    };
  }

  async activeLayers(): Promise<StoredLayer[]> {
    const rows = this.db
      .prepare(
        `SELECT a.layer AS id, v.file, v.text, v.sha256, a.activated_at AS activatedAt
         FROM active_layers a JOIN rulebook_versions v ON v.sha256 = a.sha256 ORDER BY a.layer`,
      )
      .all() as StoredLayer[];
    return rows;
  }

  async activateLayers(layers: readonly Omit<StoredLayer, "activatedAt">[], rulesetHash: string, at: Instant): Promise<void> {
    this.atomically(() => {
      const previous = new Map(
        (this.db.prepare("SELECT layer, sha256, activated_at FROM active_layers").all() as { layer: string; sha256: string; activated_at: number }[]).map(
          (r) => [r.layer, r] as const,
        ),
      );
      this.db.prepare("DELETE FROM active_layers").run();
      const putVersion = this.db.prepare("INSERT OR IGNORE INTO rulebook_versions (sha256, layer, file, text) VALUES (?, ?, ?, ?)");
      const putActive = this.db.prepare("INSERT INTO active_layers (layer, sha256, activated_at) VALUES (?, ?, ?)");
      for (const l of layers) {
        putVersion.run(l.sha256, l.id, l.file, l.text);
        // A layer whose text did not change keeps the instant it was first activated.
        const same = previous.get(l.id);
        putActive.run(l.id, l.sha256, same && same.sha256 === l.sha256 ? same.activated_at : at);
      }
      this.db
        .prepare("INSERT INTO activations (ruleset_hash, layers, at) VALUES (?, ?, ?)")
        .run(rulesetHash, JSON.stringify(layers.map((l) => ({ id: l.id, sha256: l.sha256 }))), at);
    });
  }

  async activationSeq(): Promise<number> {
    return this.s.activationSeq.get()?.seq ?? 0;
  }

  async writeRecords(ops: readonly RecordOp[], evaluate: SubjectEvaluator, at: Instant): Promise<RecordOutcome[]> {
    return this.atomically(() => {
      const touched = new Set<string>();
      const written = new Written();
      // Expected refusals are outcomes, not exceptions; anything that throws rolls the whole batch back,
      // so each record is still applied whole or not at all without a savepoint per record.
      const outcomes = ops.map((op) => this.applyOne(op, at, touched, written));
      this.refreshNow([...touched], evaluate, undefined, written);
      return outcomes;
    });
  }

  /** Applies one operation inside the batch's transaction. */
  private applyOne(op: RecordOp, at: Instant, touched: Set<string>, written: Written): RecordOutcome {
    if (op.op === "retract") {
      const existing = this.s.getRecord.get(op.id);
      if (!existing) return { kind: "rejected", id: op.id, reason: `no record ${op.id} to retract` };
      if (existing.state === "retracted") return { kind: "duplicate", id: op.id, subject: existing.subject };
      const revision = existing.revision + 1;
      if (existing.revision === 1) this.s.keepFirstRevision.run(firstRevisionRow(existing));
      this.s.retractRecord.run(revision, op.id);
      this.s.insertHistory.run(op.id, revision, "retract", null, null, op.reason, at);
      written.drop(existing.subject, op.id);
      touched.add(existing.subject);
      return { kind: "retracted", id: op.id, subject: existing.subject };
    }
    const r = op.record;
    const hash = op.contentHash ?? contentHash(r);
    const row: RecordRow = {
      id: r.id,
      source: r.source,
      external_id: r.externalId,
      subject: r.subject,
      category: r.category,
      occurred_at: r.occurredAt,
      attributes: JSON.stringify(r.attributes),
      legal_ref: r.legalRef,
      evidence_ref: r.evidenceRef ?? null,
      content_hash: hash,
      received_at: at,
      revision: 1,
      state: "active",
    };
    // A submission is nearly always of a new record: inserted first, and looked up only when its id is taken.
    if (
      op.op === "submit" &&
      this.s.insertNewRecord.run(row.id, row.source, row.external_id, row.subject, row.category, row.occurred_at, row.attributes, row.legal_ref, row.evidence_ref, row.content_hash, row.received_at).changes === 1
    ) {
      written.put(row, r.attributes);
      touched.add(r.subject);
      return { kind: "accepted", id: r.id, subject: r.subject };
    }
    const existing = this.s.getRecord.get(r.id);
    // Only a correction finds no record here: a submission's insert gave way to an existing one.
    if (!existing) return { kind: "rejected", id: r.id, reason: `no record ${r.id} to correct; send it without "op": "correct"` };
    // Content sent before (an earlier revision, re-sent with the rest of its file) changes nothing.
    if (existing.content_hash === hash || (op.op === "submit" && this.s.sentBefore.get(r.id, hash))) return { kind: "duplicate", id: r.id, subject: existing.subject };
    if (existing.state === "retracted") {
      return { kind: "rejected", id: r.id, reason: `record ${r.id} was retracted; a retracted record cannot be reported again under the same externalId` };
    }
    if (op.op !== "correct") {
      return { kind: "rejected", id: r.id, reason: `record ${r.id} already exists with different content; send it with "op": "correct" to correct it` };
    }
    const revision = existing.revision + 1;
    if (existing.revision === 1) this.s.keepFirstRevision.run(firstRevisionRow(existing));
    row.revision = revision;
    // A correction keeps the instant the record was first received.
    row.received_at = existing.received_at;
    this.s.updateRecord.run(row);
    this.s.insertHistory.run(r.id, revision, "correct", JSON.stringify(contentOf(r)), hash, null, at);
    written.drop(existing.subject, r.id);
    written.put(row, r.attributes);
    touched.add(existing.subject);
    touched.add(r.subject);
    return { kind: "corrected", id: r.id, subject: r.subject };
  }

  /**
   * The records, statuses and reviewers' decisions of every subject from the first to the last, each read in one pass
   * over its range: a page of a rescore costs three range scans instead of thousands of seeks.
   */
  private pageOf(subjects: readonly string[]): PageRead | undefined {
    const first = subjects[0];
    const last = subjects[subjects.length - 1];
    if (first === undefined || last === undefined) return undefined;
    const records: PageRead["records"] = new Map();
    for (const r of this.s.activeRecordsBetween.iterate(first, last)) {
      const mine = records.get(r.subject);
      if (mine) mine.push(r);
      else records.set(r.subject, [r]);
    }
    const statuses = new Map(this.s.statusesBetween.all(first, last).map((r) => [r.subject, r]));
    return { records, statuses, withCases: this.dp.subjectsWithCasesBetween(first, last) };
  }

  private refreshNow(subjects: readonly string[], evaluate: SubjectEvaluator, page?: PageRead, written?: Written): void {
    if (subjects.length === 0) return;
    const epoch = this.s.bumpStatusEpoch.get() as number;
    // Only this connection changed statuses since the cache was valid: it stays valid but for the subjects changed now.
    // Otherwise the next read compares the epoch again.
    if (this.cacheEpoch === epoch - 1) this.cacheEpoch = epoch;
    else this.epochReadIn = undefined;
    const withCases = page ? page.withCases : subjects.length > 1 ? this.dp.subjectsWithCasesAmong(subjects) : undefined;
    for (const subject of subjects) {
      this.measuresCache.delete(subject);
      const row = page ? page.statuses.get(subject) : this.s.getStatus.get(subject);
      // Without a stored status a subject had no active record before this batch (every write stores the status of
      // each subject it touches, and drops it only with the last active record), so its records are those the batch
      // wrote: nothing to read back. Most subjects of an import are new.
      const fresh = row === undefined ? written?.of(subject) : undefined;
      const records = fresh ?? (page ? (page.records.get(subject) ?? []) : this.s.activeRecordsOf.all(subject)).map(toRecord);
      const next = evaluate(subject, records, !withCases || withCases.has(subject) ? this.dp.caseFacts(subject) : NO_CASE);
      if (records.length === 0) {
        // A subject whose every record was retracted is as if never reported.
        this.follow(subject, row && statusOfRow(subject, row).status, next.status);
        this.s.deleteStatus.run(subject);
        continue;
      }
      const stored = storedStatus(subject, next);
      // The same status but for the instant it was evaluated at: the stored one still holds, and nothing follows from
      // it. Most subjects of a rescore or a sweep come out so; neither the old status nor the new is then written or parsed.
      if (row && sameStatus(row, stored)) continue;
      // Only the ruleset, the instant or the validity moved (a rulebook change that spares this subject): written, and
      // nothing follows, so the old status is not even parsed.
      if (!(row && sameContent(row, stored))) this.follow(subject, row && statusOfRow(subject, row).status, next.status);
      this.s.putStatus.run(stored.subject, stored.score, stored.grade, stored.ruleset_hash, stored.valid_from, stored.valid_until, stored.body, stored.measures);
    }
  }

  /** What a change of status entails, in the same transaction: notices, the sign-off queue and list members. */
  private follow(subject: string, prev: StatusSummary | undefined, next: Status): void {
    const at = parseInstant(next.at);
    if (typeof at === "string") throw new Error(`the status of ${subject} was evaluated at ${next.at}, which is not an instant: ${at}`);
    const before = prev?.awaitingSignOff ?? [];
    if (before.length > 0 || next.awaitingSignOff.length > 0) this.dp.syncSignOffs(subject, before, next.awaitingSignOff, at);
    const hadLists = (prev?.lists.length ?? 0) > 0;
    if (hadLists || next.lists.length > 0) this.dp.syncMembers(subject, hadLists, next.lists);
    const notices = noticesForChange(prev, next, at);
    if (notices.length > 0) this.dp.appendNotices(notices);
  }

  async recordsOf(subject: string): Promise<StoredRecord[]> {
    return this.s.allRecordsOf.all(subject).map(toRecord);
  }

  async getRecord(id: string): Promise<StoredRecord | undefined> {
    const row = this.s.getRecord.get(id);
    return row ? toRecord(row) : undefined;
  }

  async recordHistory(id: string): Promise<RecordRevision[]> {
    const rows = this.s.history.all(id);
    return historyOf(rows, rows[0]?.revision === 1 ? undefined : this.s.getRecord.get(id));
  }

  async getStatus(subject: string): Promise<StatusRow | undefined> {
    return this.readStatus(subject);
  }

  private readStatus(subject: string): StatusRow | undefined {
    const row = this.s.getStatus.get(subject);
    return row && statusOfRow(subject, row);
  }

  async getMeasures(subject: string): Promise<StoredMeasures | undefined> {
    return this.measuresNow(subject);
  }

  async getMeasuresMany(subjects: readonly string[]): Promise<(StoredMeasures | undefined)[]> {
    return subjects.map((s) => this.measuresNow(s));
  }

  private measuresNow(subject: string): StoredMeasures | undefined {
    if (this.transactionToken === undefined || this.epochReadIn !== this.transactionToken) {
      const epoch = this.s.statusEpoch.get() as number;
      if (epoch !== this.cacheEpoch) {
        this.measuresCache.clear();
        this.cacheEpoch = epoch;
      }
      this.epochReadIn = this.transactionToken;
    }
    const known = this.measuresCache.get(subject);
    if (known !== undefined) return known ?? undefined;
    const row = this.s.getMeasures.get(subject);
    const value = row ? toMeasures(row) : null;
    if (this.measuresCache.size >= MAX_CACHED_MEASURES) this.measuresCache.clear();
    this.measuresCache.set(subject, value);
    return value ?? undefined;
  }

  async refreshStatuses(subjects: readonly string[], evaluate: SubjectEvaluator, options: { wholeRange?: boolean } = {}): Promise<void> {
    this.atomically(() => this.refreshNow(subjects, evaluate, options.wholeRange ? this.pageOf(subjects) : undefined));
  }

  async dueSubjects(at: Instant, rulesetHash: string, after: string | null, limit: number): Promise<string[]> {
    // One pass in subject order over the whole table, however many pages: no re-scan per page.
    const rows = this.db
      .prepare(
        `SELECT subject FROM statuses
         WHERE subject > ? AND (valid_until <= ? OR valid_from > ? OR ruleset_hash <> ?)
         ORDER BY subject LIMIT ?`,
      )
      .all(after ?? "", at, at, rulesetHash, limit) as { subject: string }[];
    return rows.map((r) => r.subject);
  }

  async subjectsAfter(cursor: string | null, limit: number): Promise<string[]> {
    const rows = this.db
      .prepare("SELECT DISTINCT subject FROM records WHERE subject > ? ORDER BY subject LIMIT ?")
      .all(cursor ?? "", limit) as { subject: string }[];
    return rows.map((r) => r.subject);
  }

  async counts(): Promise<{ subjects: number; records: number; retracted: number }> {
    const r = this.db
      .prepare(
        `SELECT count(DISTINCT subject) AS subjects, count(*) AS records, coalesce(sum(state = 'retracted'), 0) AS retracted FROM records`,
      )
      .get() as { subjects: number; records: number; retracted: number };
    return r;
  }

  async putNames(names: readonly { subject: string; name: string }[]): Promise<void> {
    const put = this.db.prepare("INSERT INTO subject_names (subject, name) VALUES (?, ?) ON CONFLICT (subject) DO UPDATE SET name = excluded.name");
    this.atomically(() => {
      for (const n of names) put.run(n.subject, n.name);
    });
  }

  async namesOf(subjects: readonly string[]): Promise<Map<string, string>> {
    const get = this.db.prepare<[string], { name: string }>("SELECT name FROM subject_names WHERE subject = ?");
    const out = new Map<string, string>();
    for (const s of subjects) {
      const row = get.get(s);
      if (row) out.set(s, row.name);
    }
    return out;
  }

  async listSizes(at: Instant): Promise<Map<string, number>> {
    return this.dp.listSizes(at);
  }

  async listMembers(...a: Parameters<StoreTx["listMembers"]>) {
    return this.dp.listMembers(...a);
  }

  async listStatistics(at: Instant) {
    return this.dp.listStatistics(at);
  }

  async caseFactsOf(subject: string) {
    return this.dp.caseFacts(subject);
  }

  async getSignOff(entry: string) {
    return this.dp.getSignOff(entry);
  }

  async signOffs(...a: Parameters<StoreTx["signOffs"]>) {
    return this.dp.signOffs(...a);
  }

  async decideSignOff(...a: Parameters<StoreTx["decideSignOff"]>) {
    return this.dp.decideSignOff(...a);
  }

  async putObjection(o: Objection) {
    this.dp.putObjection(o);
  }

  async getObjection(id: string) {
    return this.dp.getObjection(id);
  }

  async objections(...a: Parameters<StoreTx["objections"]>) {
    return this.dp.objections(...a);
  }

  async objectionStatistics(at: Instant) {
    return this.dp.objectionStatistics(at);
  }

  async putRestoration(r: Restoration) {
    this.dp.putRestoration(r);
  }

  async getRestoration(id: string) {
    return this.dp.getRestoration(id);
  }

  async restorations(...a: Parameters<StoreTx["restorations"]>) {
    return this.dp.restorations(...a);
  }

  async appendNotices(drafts: readonly NoticeDraft[]) {
    return this.dp.appendNotices(drafts);
  }

  async notices(...a: Parameters<StoreTx["notices"]>) {
    return this.dp.notices(...a);
  }

  async outboxDue(at: Instant, limit: number) {
    return this.dp.outboxDue(at, limit);
  }

  async markDelivered(seq: number, at: Instant) {
    this.dp.markDelivered(seq, at);
  }

  async markFailed(seq: number, error: string, nextAttemptAt: Instant) {
    this.dp.markFailed(seq, error, nextAttemptAt);
  }

  async outboxBacklog() {
    return this.dp.outboxBacklog();
  }

  async appendAudit(drafts: readonly AuditDraft[]): Promise<AuditEntry[]> {
    if (drafts.length === 0) return [];
    // Immediate: the head must not move between reading it and chaining after it, even across processes.
    return this.atomically(() => {
      const entries = chain(drafts, this.s.auditHead.get());
      for (const e of entries) {
        this.s.insertAudit.run({ seq: e.seq, at: e.at, actor: e.actor, action: e.action, subject: e.subject, decisionId: e.decisionId, detail: detailJson(e.detail), prev: e.prev, hash: e.hash });
      }
      // Indexed by this connection every few hundred entries, as one sorted run, right after the commit (see
      // SqliteStore.indexLater), unless a worker indexes behind the log (bulk writers): a worker would hold the write
      // lock by turns and take a core from a server's requests. Until then, lookups scan the entries past the index.
      if (this.indexWithEntries) {
        this.unindexedRows += drafts.reduce((n, d) => n + 1 + (d.subject !== null ? 1 : Array.isArray(d.detail.subjects) ? d.detail.subjects.length : 0), 0);
        const head = entries[entries.length - 1]?.seq ?? 0;
        if (head - this.indexer.indexedTo() >= RUN_ENTRIES || this.unindexedRows >= RUN_ROWS) this.indexDue = true;
      }
      return entries;
    });
  }

  async auditEntries(q: AuditQuery): Promise<AuditEntry[]> {
    const params = { afterSeq: q.afterSeq ?? 0, subject: q.subject, actor: q.actor, action: q.action, limit: q.limit, key: "", indexedTo: 0 };
    const conditions: string[] = [];
    if (q.subject !== undefined) {
      conditions.push(`(subject = @subject OR (subject IS NULL AND json_type(detail, '$.subjects') = 'array'
        AND EXISTS (SELECT 1 FROM json_each(detail, '$.subjects') WHERE value = @subject)))`);
    }
    if (q.actor !== undefined) conditions.push("actor = @actor");
    if (q.action !== undefined) conditions.push("action = @action");
    const and = conditions.map((c) => ` AND ${c}`).join("");
    if (q.subject === undefined && q.actor === undefined) {
      const rows = this.db.prepare(`SELECT * FROM audit_log WHERE seq > @afterSeq${and} ORDER BY seq LIMIT @limit`).all(params) as AuditRow[];
      return rows.map(toAuditEntry);
    }
    // Indexed entries through the index; any not yet indexed (behind a bulk writer's worker, or left by an older
    // version) by scanning them, after catching up when there are many.
    params.indexedTo = this.catchUpAuditIndex();
    params.key = q.subject !== undefined ? `s:${q.subject}` : `a:${q.actor as string}`;
    const rows = this.db
      .prepare(
        `SELECT * FROM (
           SELECT * FROM audit_log WHERE seq IN (${INDEXED_SEQS})${and}
           UNION ALL
           SELECT * FROM audit_log WHERE seq > max(@afterSeq, @indexedTo)${and}
         ) ORDER BY seq LIMIT @limit`,
      )
      .all(params) as AuditRow[];
    return rows.map(toAuditEntry);
  }

  /** Indexes the audit log until it is no longer far behind; returns how far the index reaches. */
  private catchUpAuditIndex(): number {
    while (this.auditIndexFarBehind()) this.db.transaction(() => this.catchUpAuditIndexStep()).immediate();
    return this.indexer.indexedTo();
  }

  /** Whether more entries are past the index than a filtered read should scan: it catches the index up first. */
  auditIndexFarBehind(): boolean {
    const { indexedTo, head } = this.indexer.progress();
    return head - indexedTo > MAX_UNINDEXED;
  }

  /** One step of catching the audit index up, in the caller's transaction. */
  catchUpAuditIndexStep(): void {
    this.indexer.step();
  }

  async auditHead(): Promise<{ seq: number; hash: string } | undefined> {
    return this.s.auditHead.get();
  }

  async putCheckpoint(c: Checkpoint): Promise<void> {
    this.db.prepare("INSERT OR REPLACE INTO audit_checkpoints (seq, hash, at, signature) VALUES (?, ?, ?, ?)").run(c.seq, c.hash, c.at, c.signature);
  }

  async checkpoints(): Promise<Checkpoint[]> {
    return this.db.prepare("SELECT seq, hash, at, signature FROM audit_checkpoints ORDER BY seq").all() as Checkpoint[];
  }

  async putKey(k: ApiKeyRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO api_keys (id, role, source, measures, subject, label, secret_hash, created_at, created_by, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(k.id, k.role, k.source, k.measures === null ? null : JSON.stringify(k.measures), k.subject, k.label, k.secretHash, k.createdAt, k.createdBy, k.revokedAt);
  }

  async getKey(id: string): Promise<ApiKeyRecord | undefined> {
    const row = this.s.getKey.get(id);
    return row ? toKey(row) : undefined;
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    return (this.db.prepare("SELECT * FROM api_keys ORDER BY created_at, id").all() as KeyRow[]).map(toKey);
  }

  async revokeKey(id: string, at: Instant): Promise<boolean> {
    return this.db.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(at, id).changes > 0;
  }
}

// Subjects whose measures a connection remembers at most (a few hundred bytes each, most of them empty).
const MAX_CACHED_MEASURES = 500_000;

// Entries a filtered read of the audit log scans instead of finding through the index.
const MAX_UNINDEXED = 5000;

/**
 * Entries, or index rows, after which an append cuts a run: each cut (with its piece of a merge) blocks the thread
 * for a couple of milliseconds. Fewer would cut more, smaller runs; more would make that commit slower, and leave lookups
 * more entries to scan past the index (a batch of checks is a thousand rows).
 */
const RUN_ENTRIES = 128;
const RUN_ROWS = 1024;

/**
 * An append's step: its own entries and a bounded share of any backlog (about 0.6 ms for 1,000 rows), and a small
 * piece of a merge; further pieces follow in steps of their own (about 0.7 ms each).
 */
const APPEND_STEP: IndexShape = { chunk: 1024, piece: 256, keepUp: false, ...MERGE };
const MERGE_STEP: IndexShape = { ...APPEND_STEP, chunk: 0, piece: 512 };
/** A cut alone, while merging waits for a quiet moment. */
const CUT_STEP: IndexShape = { ...APPEND_STEP, piece: 0 };

/**
 * Merging is upkeep for lookups, done a piece (about 0.7 ms) at a time once no store operation has begun for this long:
 * under saturating load, merging with the appends cost the check server a sixth of its throughput and doubled its p99,
 * every moved row dirtying pages that go to the WAL. As in an LSM tree, merging that falls too far behind goes with the
 * appends again until it has caught up: past 2,048 runs cut since it last had, about 80 s of saturated single checks on
 * a 2-core machine (a run every thousand checks, some 26 a second), when a lookup probes that many runs (a few ms).
 */
const MERGE_IDLE_MS = 10;
const MAX_RUNS_UNMERGED = 2048;

const settle = () => undefined;

/** What refreshing a page of subjects reads first, by range. */
interface PageRead {
  records: Map<string, Omit<RecordRow, "content_hash">[]>;
  statuses: Map<string, StoredStatus & { subject: string }>;
  /** Subjects with reviewers' decisions or open objections; the others' case facts are empty. */
  withCases: Set<string>;
}

/** The active records a batch wrote, by subject, as their rows now stand: what its subjects without a stored status hold. */
class Written {
  private readonly bySubject = new Map<string, Map<string, StoredRecord>>();

  /** A row written, with the attributes serialised into it. */
  put(row: RecordRow, attributes: Record<string, unknown>): void {
    let mine = this.bySubject.get(row.subject);
    if (!mine) this.bySubject.set(row.subject, (mine = new Map()));
    mine.set(row.id, writtenRecord(row, attributes));
  }

  /** A record retracted, or moved to another subject by a correction. */
  drop(subject: string, id: string): void {
    this.bySubject.get(subject)?.delete(id);
  }

  of(subject: string): StoredRecord[] | undefined {
    const mine = this.bySubject.get(subject);
    return mine && [...mine.values()];
  }
}

/** WAL pages (4 KiB) after which a connection with a background checkpointer checkpoints by itself: 64 MiB. */
const WAL_LIMIT_PAGES = 16_384;

/** How long a statement waits for another connection's write lock before giving up with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 10_000;

/** Pauses between attempts at the write lock, in ms; the last repeats until the busy timeout. */
const BEGIN_BACKOFF_MS = [0, 0, 1, 1, 2];

const isBusy = (e: unknown) => e instanceof Database.SqliteError && e.code.startsWith("SQLITE_BUSY");

const pause = (ms: number) => new Promise<void>((resolve) => (ms === 0 ? setImmediate(resolve) : setTimeout(resolve, ms)));

/**
 * The SQLite store. Operations run at once, except while a transaction's work is in progress: then they wait
 * their turn, so that nothing from a concurrent request slips into (or reads from) an open transaction.
 */
export class SqliteStore implements Store {
  readonly backend = "sqlite";
  readonly importBatchSize = 1000;
  private readonly ops: SqliteOps;
  private readonly beginNow: Database.Statement;
  private readonly waitWhenBusy: Database.Statement;
  private readonly failWhenBusy: Database.Statement;
  private waiting = 0;
  private tail: Promise<unknown> = Promise.resolve();
  /** The audit index's next step, once scheduled. */
  private indexing: Promise<void> | undefined;
  /** Operations and transactions begun: a merge waiting for a quiet moment sees whether any began meanwhile. */
  private begun = 0;
  /** The wait for a quiet moment to merge in, if one is set. */
  private quiet: NodeJS.Timeout | undefined;
  private closed = false;
  checkpointer?: Checkpointer;

  constructor(
    readonly db: Database.Database,
    maxRunsUnmerged?: number,
  ) {
    this.ops = new SqliteOps(db, maxRunsUnmerged);
    this.beginNow = db.prepare("BEGIN IMMEDIATE");
    this.waitWhenBusy = db.prepare(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.failWhenBusy = db.prepare("PRAGMA busy_timeout = 0");
  }

  /**
   * Takes the write lock, waiting for it without blocking the thread. Another connection (the audit indexer, a CLI
   * importer) may hold it for milliseconds or seconds, and SQLite's own busy wait would sleep on the event loop, stalling
   * every request meanwhile; so each attempt fails at once, and the retries wait on timers.
   */
  private async beginImmediate(): Promise<void> {
    const deadline = Date.now() + BUSY_TIMEOUT_MS;
    for (let attempt = 0; ; attempt++) {
      this.failWhenBusy.run();
      try {
        this.beginNow.run();
        return;
      } catch (e) {
        if (!isBusy(e) || Date.now() >= deadline) throw e;
      } finally {
        this.waitWhenBusy.run();
      }
      await pause(BEGIN_BACKOFF_MS[Math.min(attempt, BEGIN_BACKOFF_MS.length - 1)] as number);
    }
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.then(settle, settle);
    return result;
  }

  private run<T>(work: () => Promise<T>): Promise<T> {
    this.begun++;
    return this.waiting === 0 ? work() : this.enqueue(work);
  }

  /**
   * A write outside any transaction: in a transaction of its own, so that it too waits for another connection's write
   * lock on timers rather than in SQLite's busy handler on the thread. The writes that run whole by themselves
   * (records, statuses, names, layers, audit entries) are not wrapped: services make them inside a transaction, which
   * they join, except the command line's bulk work (generate, simulate, rescore), where waiting in the busy handler
   * blocks nobody else.
   */
  private write<T>(work: () => Promise<T>): Promise<T> {
    return this.transaction(() => work());
  }

  async transaction<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
    this.waiting++;
    try {
      return await this.enqueue(async () => {
        await this.beginImmediate();
        this.begun++;
        this.ops.transactionToken = {};
        this.ops.failedWrite = undefined;
        try {
          const result = await work(this.ops);
          // The work caught a failed write and went on: the failure still ends the transaction.
          if (this.ops.failedWrite !== undefined) throw this.ops.failedWrite;
          this.db.exec("COMMIT");
          this.indexLater();
          return result;
        } catch (e) {
          if (this.db.inTransaction) this.db.exec("ROLLBACK");
          throw e;
        } finally {
          this.ops.transactionToken = undefined;
        }
      });
    } finally {
      this.waiting--;
    }
  }

  /**
   * Schedules a step of the audit index after the commit that made one due, in a transaction of its own: the request
   * whose entries complete a run is answered first, and a client that waits between requests (an enforcer with one
   * passenger list after another) never waits for the index at all. A merge waits for a quiet moment (MERGE_IDLE_MS).
   */
  private indexLater(): void {
    if (this.indexing || this.closed) return;
    if (!this.ops.indexWork) {
      if (this.ops.mergeWork) this.mergeWhenQuiet(this.begun);
      return;
    }
    this.step(new Promise<void>((resolve) => setImmediate(resolve)));
  }

  /** Advances the merge by a piece once no operation or transaction has begun since `seen`, for MERGE_IDLE_MS. */
  private mergeWhenQuiet(seen: number): void {
    if (this.quiet) return;
    this.quiet = setTimeout(() => {
      this.quiet = undefined;
      if (this.closed || this.indexing) return;
      if (this.begun !== seen || this.waiting > 0) this.mergeWhenQuiet(this.begun);
      else this.step(Promise.resolve());
    }, MERGE_IDLE_MS).unref();
  }

  /** Runs a step of the audit index, in a transaction of its own, once `ready`; then schedules whatever is left. */
  private step(ready: Promise<void>): void {
    this.indexing = ready
      .then(() => (this.closed ? undefined : this.transaction(async () => this.ops.indexAuditStep())))
      // The index is derived from the log and lookups scan what it does not reach yet: a step that could not take the
      // write lock is taken again after a later append. Anything else is a fault worth a warning.
      .catch((e: unknown) => {
        if (!isBusy(e)) process.emitWarning(`the audit index could not be brought up to date: ${e instanceof Error ? e.message : String(e)}`);
      })
      .finally(() => {
        this.indexing = undefined;
        this.indexLater();
      });
  }

  /** Resolves once the audit index has caught up with what this connection appended (for tests and tools). */
  async indexSettled(): Promise<void> {
    while (this.indexing) await this.indexing;
  }

  /** Whether appends index their entries (the default), or leave it to the worker. */
  indexAuditWithEntries(yes: boolean): void {
    this.ops.indexWithEntries = yes;
  }

  async close(): Promise<void> {
    await this.indexSettled();
    this.closed = true;
    // What a merge still owes is taken up after the next cut, by whichever connection makes it.
    clearTimeout(this.quiet);
    await this.tail;
    await this.checkpointer?.stop();
    this.db.close();
  }

  activeLayers() { return this.run(() => this.ops.activeLayers()); }
  activationSeq() { return this.run(() => this.ops.activationSeq()); }
  activateLayers(...a: Parameters<StoreTx["activateLayers"]>) { return this.run(() => this.ops.activateLayers(...a)); }
  writeRecords(...a: Parameters<StoreTx["writeRecords"]>) { return this.run(() => this.ops.writeRecords(...a)); }
  recordsOf(subject: string) { return this.run(() => this.ops.recordsOf(subject)); }
  getRecord(id: string) { return this.run(() => this.ops.getRecord(id)); }
  recordHistory(id: string) { return this.run(() => this.ops.recordHistory(id)); }
  getStatus(subject: string) { return this.run(() => this.ops.getStatus(subject)); }
  getMeasures(subject: string) { return this.run(() => this.ops.getMeasures(subject)); }
  getMeasuresMany(subjects: readonly string[]) { return this.run(() => this.ops.getMeasuresMany(subjects)); }
  refreshStatuses(...a: Parameters<StoreTx["refreshStatuses"]>) { return this.run(() => this.ops.refreshStatuses(...a)); }
  dueSubjects(...a: Parameters<StoreTx["dueSubjects"]>) { return this.run(() => this.ops.dueSubjects(...a)); }
  subjectsAfter(...a: Parameters<StoreTx["subjectsAfter"]>) { return this.run(() => this.ops.subjectsAfter(...a)); }
  counts() { return this.run(() => this.ops.counts()); }
  listSizes(at: Instant) { return this.run(() => this.ops.listSizes(at)); }
  putNames(names: readonly { subject: string; name: string }[]) { return this.run(() => this.ops.putNames(names)); }
  namesOf(subjects: readonly string[]) { return this.run(() => this.ops.namesOf(subjects)); }
  appendAudit(drafts: readonly AuditDraft[]) {
    return this.run(() => this.ops.appendAudit(drafts)).then((entries) => {
      if (this.waiting === 0) this.indexLater();
      return entries;
    });
  }
  async auditEntries(q: AuditQuery) {
    // A filtered read far behind the index (a bulk writer's worker lagging) catches it up first, step by step, each
    // step taking the write lock on timers rather than in SQLite's busy handler, which would block every request.
    if (q.subject !== undefined || q.actor !== undefined) {
      while (await this.run(async () => this.ops.auditIndexFarBehind())) await this.transaction(async () => this.ops.catchUpAuditIndexStep());
    }
    return this.run(() => this.ops.auditEntries(q));
  }
  auditHead() { return this.run(() => this.ops.auditHead()); }
  putCheckpoint(c: Checkpoint) { return this.write(() => this.ops.putCheckpoint(c)); }
  checkpoints() { return this.run(() => this.ops.checkpoints()); }
  putKey(k: ApiKeyRecord) { return this.write(() => this.ops.putKey(k)); }
  getKey(id: string) { return this.run(() => this.ops.getKey(id)); }
  listKeys() { return this.run(() => this.ops.listKeys()); }
  revokeKey(id: string, at: Instant) { return this.write(() => this.ops.revokeKey(id, at)); }
  listMembers(...a: Parameters<StoreTx["listMembers"]>) { return this.run(() => this.ops.listMembers(...a)); }
  listStatistics(at: Instant) { return this.run(() => this.ops.listStatistics(at)); }
  caseFactsOf(subject: string) { return this.run(() => this.ops.caseFactsOf(subject)); }
  getSignOff(entry: string) { return this.run(() => this.ops.getSignOff(entry)); }
  signOffs(...a: Parameters<StoreTx["signOffs"]>) { return this.run(() => this.ops.signOffs(...a)); }
  decideSignOff(...a: Parameters<StoreTx["decideSignOff"]>) { return this.write(() => this.ops.decideSignOff(...a)); }
  putObjection(o: Objection) { return this.write(() => this.ops.putObjection(o)); }
  getObjection(id: string) { return this.run(() => this.ops.getObjection(id)); }
  objections(...a: Parameters<StoreTx["objections"]>) { return this.run(() => this.ops.objections(...a)); }
  objectionStatistics(at: Instant) { return this.run(() => this.ops.objectionStatistics(at)); }
  putRestoration(r: Restoration) { return this.write(() => this.ops.putRestoration(r)); }
  getRestoration(id: string) { return this.run(() => this.ops.getRestoration(id)); }
  restorations(...a: Parameters<StoreTx["restorations"]>) { return this.run(() => this.ops.restorations(...a)); }
  appendNotices(drafts: readonly NoticeDraft[]) { return this.write(() => this.ops.appendNotices(drafts)); }
  notices(...a: Parameters<StoreTx["notices"]>) { return this.run(() => this.ops.notices(...a)); }
  outboxDue(at: Instant, limit: number) { return this.run(() => this.ops.outboxDue(at, limit)); }
  markDelivered(seq: number, at: Instant) { return this.write(() => this.ops.markDelivered(seq, at)); }
  markFailed(seq: number, error: string, nextAttemptAt: Instant) { return this.write(() => this.ops.markFailed(seq, error, nextAttemptAt)); }
  outboxBacklog() { return this.run(() => this.ops.outboxBacklog()); }
}
