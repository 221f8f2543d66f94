// The server backend: PostgreSQL through a connection pool, tables hash-partitioned by subject (docs/scaling.md).
import pg from "pg";
import { chain, detailJson, type AuditDraft, type AuditEntry, type Checkpoint } from "../../core/audit.js";
import type { Objection, Restoration } from "../../core/due-process.js";
import type { CaseFacts, ListMembership, Status } from "../../core/evaluate.js";
import { noticesForChange, type NoticeDraft } from "../../core/notices.js";
import type { RecordOp } from "../../core/record-input.js";
import { parseInstant, type Instant } from "../../core/time.js";
import { contentHash, contentOf } from "../record-content.js";
import { sameContent, sameStatus, statusOfRow, storedStatus, type StatusWrite, type StoredStatus } from "../status-rows.js";
import type {
  ApiKeyRecord,
  AuditQuery,
  RecordOutcome,
  RecordRevision,
  StatusRow,
  StatusSummary,
  Store,
  StoredLayer,
  StoredMeasures,
  StoredRecord,
  StoreTx,
  SubjectEvaluator,
} from "../store.js";
import { copyRows, type CopyValue } from "./copy.js";
import { PgDueProcess, type SignOffChanges, type Sql } from "./due-process-tables.js";
import { migrate } from "./migrations.js";
import { toAuditEntry, toKey, firstRevisionRow, historyOf, toMeasures, type FirstRevisionRow, toRecord, type AuditRow, type HistoryRow, type KeyRow, type MeasuresRow, type RecordRow } from "../rows.js";
import { describeDb } from "../describe-db.js";

const RECORD_COLUMNS = ["subject", "id", "source", "external_id", "category", "occurred_at", "attributes", "legal_ref", "evidence_ref", "state", "revision", "content_hash", "received_at"] as const;

const recordValues = (r: RecordRow): CopyValue[] => RECORD_COLUMNS.map((c) => r[c]);

/** A statuses row as read: the stored row (see status-rows.ts) and its subject. */
type StatusDbRow = StoredStatus & { subject: string };

/** The channel on which a transaction that changed statuses names the subjects (or "*", too many to name). */
export const STATUS_CHANNEL = "social_credit_statuses";
// Subjects named one by one in a notification at most; more and the payload (limited to 8,000 bytes) says "*".
const MAX_NAMED = 200;
// Subjects whose measures a process remembers at most (a few hundred bytes each, most of them empty).
const MAX_CACHED_MEASURES = 500_000;
// Audit entries appended with one INSERT at most; more go through COPY.
const INSERT_AUDIT_MAX = 200;
// Names written per statement.
const NAMES_PER_STATEMENT = 10_000;
// A constant of our own: activations take it so that two never interleave.
const ACTIVATION_LOCK = 0x5c_0002;

/**
 * The measures of subjects as last read, shared by the connections of one process. It is only used while a LISTEN
 * connection hears every change of statuses: each is forgotten when its transaction commits (here, at once; elsewhere,
 * when the notification arrives). A read that began before a change was heard is not remembered, so a value read
 * before a commit never outlives the notice of that commit.
 */
class MeasuresCache {
  readonly map = new Map<string, StoredMeasures | null>();
  generation = 0;
  live = false;
  /** Asked on each use while not live: starts (or restarts) the LISTEN connection. */
  wake: () => void = () => undefined;

  forget(subjects: Iterable<string> | "all"): void {
    this.generation++;
    if (subjects === "all") this.map.clear();
    else for (const s of subjects) this.map.delete(s);
  }

  setLive(live: boolean): void {
    this.live = live;
    this.forget("all");
  }

  /** Remembers what was read, if no change was heard since `generation`: that change may have come after the read. */
  remember(subject: string, value: StoredMeasures | null, generation: number): void {
    if (!this.live || this.generation !== generation) return;
    if (this.map.size >= MAX_CACHED_MEASURES) this.map.clear();
    this.map.set(subject, value);
  }
}

/**
 * A string as an SQL literal. Dollar-quoted when it holds no "$", as nearly every audit detail does: pg's escapeLiteral
 * scans a string character by character in JavaScript, and a group's detail runs to kilobytes.
 */
function quoted(client: pg.PoolClient, text: string): string {
  return text.includes("$") ? client.escapeLiteral(text) : `$q$${text}$q$`;
}

/**
 * Where this process expects the audit log's head once its appends in flight commit. An append chains after it without
 * waiting for the head's lock, and moves the head at commit only if it is still there; otherwise (another process
 * appended, or the append chained after failed) the transaction fails as a serialization failure and is retried from
 * the locked head. Appends in flight then queue at the head inside PostgreSQL, not in a round trip to this process each.
 * Only a transaction that has sent nothing yet chains ahead (a group of checks answered from memory): a retry then
 * repeats no database work. When another process moved the head, chaining ahead pauses for a while: with several
 * processes appending, most appends would fail once before taking the lock anyway.
 */
class AuditTip {
  expected: { seq: number; hash: string } | undefined;
  /** Until when (Date.now()) appends take the head's lock instead of chaining ahead. */
  pausedUntil = 0;

  /** Whether a transaction that has sent nothing may chain ahead now. */
  usable(): { seq: number; hash: string } | undefined {
    return this.pausedUntil > Date.now() ? undefined : this.expected;
  }

  /** After a failed transaction: what chained after its entries must not count on them, and another process's append pauses chaining ahead. */
  failed(e: unknown): void {
    this.expected = undefined;
    if ((e as { code?: string; detail?: string }).code === "40001" && (e as { detail?: string }).detail === ANOTHER_APPENDER) this.pausedUntil = Date.now() + CHAIN_AHEAD_PAUSE_MS;
  }
}

/** What social_credit_advance_audit_head says, as the failure's detail, when the head is past where an append chained after. */
const ANOTHER_APPENDER = "the head is past the expected entry: another process appended";
const CHAIN_AHEAD_PAUSE_MS = 1000;

/** Every store operation on one connection (inside a transaction) or on the pool (single reads). */
class PgOps implements StoreTx {
  /** Subjects whose status this transaction changed: forgotten from the cache once it commits. */
  readonly changed = new Set<string>();
  private readonly dp: PgDueProcess;

  constructor(
    private readonly db: pg.Pool | pg.PoolClient,
    private readonly cache: MeasuresCache,
    private readonly client: pg.PoolClient | null,
    private readonly tip: AuditTip = new AuditTip(),
    /** Whether an append may chain after the expected head: not on a retry, which then cannot fail the same way again. */
    private readonly chainAhead = false,
  ) {
    this.dp = new PgDueProcess(this.sql);
  }

  /**
   * Whether the transaction's BEGIN was sent. It goes with the first statement when that one has no parameters (a
   * group of checks answered from memory starts with the audit head's lock), and not at all when the work sent nothing.
   */
  begun = false;
  /**
   * Statements without parameters whose results nobody waits for (a small audit append), sent with the next statement
   * or with COMMIT: a round trip fewer, and the audit head's lock held for one round trip instead of three.
   */
  private deferred: string[] = [];

  readonly sql: Sql = async <R>(text: string, values?: readonly unknown[]): Promise<R[]> => {
    const before = this.takePending();
    if (before !== "" && this.client) {
      if (values === undefined || values.length === 0) {
        const results = (await this.client.query(`${before} ${text}`)) as unknown as pg.QueryResult[];
        return (results[results.length - 1]?.rows ?? []) as R[];
      }
      await this.client.query(before);
    }
    const result = await this.db.query(text, values as unknown[] | undefined);
    return result.rows as R[];
  };

  /** BEGIN if not sent yet and the deferred statements, as one text to send ahead of the next statement. */
  private takePending(): string {
    if (!this.client) return "";
    const parts = this.begun ? [] : ["BEGIN"];
    this.begun = true;
    parts.push(...this.deferred);
    this.deferred = [];
    return parts.length > 0 ? `${parts.join("; ")};` : "";
  }

  /** Sends what is pending now: before a COPY, which does not go through `sql`. */
  private async begin(client: pg.PoolClient): Promise<void> {
    const before = this.takePending();
    if (before !== "") await client.query(before);
  }

  /**
   * What ends the transaction, in one round trip: BEGIN if nothing was sent yet (a group of checks answered from memory
   * sends its audit append only here), the deferred statements and COMMIT; undefined if the work sent and deferred nothing.
   */
  commitText(): string | undefined {
    if (!this.begun && this.deferred.length === 0) return undefined;
    const text = [...(this.begun ? [] : ["BEGIN"]), ...this.deferred, "COMMIT"].join("; ");
    this.begun = true;
    this.deferred = [];
    return text;
  }

  /** The transaction's connection: what COPY and row locks need. */
  private tx(what: string): pg.PoolClient {
    if (!this.client) throw new Error(`${what} must run inside a transaction of the PostgreSQL store`);
    return this.client;
  }

  async activeLayers(): Promise<StoredLayer[]> {
    return this.sql<StoredLayer>(
      `SELECT a.layer AS id, v.file, v.text, v.sha256, a.activated_at AS "activatedAt"
       FROM active_layers a JOIN rulebook_versions v ON v.sha256 = a.sha256 ORDER BY a.layer`,
    );
  }

  async activateLayers(layers: readonly Omit<StoredLayer, "activatedAt">[], rulesetHash: string, at: Instant): Promise<void> {
    this.tx("activateLayers");
    await this.sql("SELECT pg_advisory_xact_lock($1)", [ACTIVATION_LOCK]);
    const previous = new Map((await this.sql<{ layer: string; sha256: string; activated_at: number }>("SELECT layer, sha256, activated_at FROM active_layers")).map((r) => [r.layer, r] as const));
    await this.sql("DELETE FROM active_layers");
    for (const l of layers) {
      await this.sql("INSERT INTO rulebook_versions (sha256, layer, file, text) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING", [l.sha256, l.id, l.file, l.text]);
      // A layer whose text did not change keeps the instant it was first activated.
      const same = previous.get(l.id);
      await this.sql("INSERT INTO active_layers (layer, sha256, activated_at) VALUES ($1, $2, $3)", [l.id, l.sha256, same && same.sha256 === l.sha256 ? same.activated_at : at]);
    }
    await this.sql("INSERT INTO activations (ruleset_hash, layers, at) VALUES ($1, $2, $3)", [rulesetHash, JSON.stringify(layers.map((l) => ({ id: l.id, sha256: l.sha256 }))), at]);
  }

  async activationSeq(): Promise<number> {
    const [r] = await this.sql<{ seq: number | null }>("SELECT max(seq) AS seq FROM activations");
    return r?.seq ?? 0;
  }

  /**
   * A write that failed in this transaction: the transaction then rolls back whatever its work returns, so that a
   * failure caught by the caller cannot commit half a write (a failed statement aborts a PostgreSQL transaction, a
   * failure in between, such as an evaluation's, does not).
   */
  failedWrite: unknown;

  private async guarded<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      this.failedWrite ??= e;
      throw e;
    }
  }

  /**
   * Applies a batch set-based: the ids are claimed or locked in the id directory (so two importers never both write
   * one record), the existing records read in one statement, the operations applied in memory in order exactly as the
   * SQLite store applies them, then new records and history go in by COPY and changed ones by one UPDATE.
   */
  async writeRecords(ops: readonly RecordOp[], evaluate: SubjectEvaluator, at: Instant): Promise<RecordOutcome[]> {
    return this.guarded(() => this.writeRecordsNow(ops, evaluate, at));
  }

  private async writeRecordsNow(ops: readonly RecordOp[], evaluate: SubjectEvaluator, at: Instant): Promise<RecordOutcome[]> {
    const client = this.tx("writeRecords");
    const idOf = (op: RecordOp) => (op.op === "retract" ? op.id : op.record.id);
    const firstSubmit = new Map<string, string>();
    for (const op of ops) if (op.op === "submit" && !firstSubmit.has(op.record.id)) firstSubmit.set(op.record.id, op.record.subject);
    const claimIds = [...firstSubmit.keys()];
    // Sorted, so that two transactions claiming overlapping ids wait on each other in the same order, never in a cycle.
    const claimed = new Set(
      claimIds.length === 0
        ? []
        : (
            await this.sql<{ id: string }>(
              `INSERT INTO record_ids (id, subject) SELECT id, subject FROM unnest($1::text[], $2::text[]) AS u(id, subject) ORDER BY id COLLATE "C"
               ON CONFLICT (id) DO NOTHING RETURNING id`,
              [claimIds, claimIds.map((i) => firstSubmit.get(i))],
            )
          ).map((r) => r.id),
    );
    const others = [...new Set(ops.map(idOf))].filter((id) => !claimed.has(id));
    let existing: RecordRow[] = [];
    if (others.length > 0) {
      await this.sql(`SELECT id FROM record_ids WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`, [others]);
      // Read after the locks are held: a fresh snapshot, with whatever the transactions waited for committed.
      existing = await this.sql<RecordRow>(`SELECT r.* FROM record_ids d JOIN records r ON r.subject = d.subject AND r.id = d.id WHERE d.id = ANY($1::text[])`, [others]);
    }
    const hashes = ops.map((op) => (op.op === "retract" ? "" : (op.contentHash ?? contentHash(op.record))));

    interface Current {
      row: RecordRow;
      fromDb: boolean;
      origSubject: string;
      dirty: boolean;
      /** Content hashes this record ever had (as far as they can matter to this batch). */
      sent: Set<string>;
    }
    const current = new Map<string, Current>(existing.map((row) => [row.id, { row, fromDb: true, origSubject: row.subject, dirty: false, sent: new Set([row.content_hash]) }]));
    // Earlier revisions' hashes are read only for the records re-submitted here with content other than their current one.
    const needHistory = [...new Set(ops.flatMap((op, i) => (op.op === "submit" && current.has(op.record.id) && current.get(op.record.id)?.row.content_hash !== hashes[i] ? [op.record.id] : [])))];
    if (needHistory.length > 0) {
      for (const h of await this.sql<{ record_id: string; content_hash: string }>(
        "SELECT record_id, content_hash FROM record_history WHERE record_id = ANY($1::text[]) AND content_hash IS NOT NULL",
        [needHistory],
      )) {
        current.get(h.record_id)?.sent.add(h.content_hash);
      }
    }

    const history: CopyValue[][] = [];
    const firsts: FirstRevisionRow[] = [];
    /** Keeps a record's first revision in the history before a correction or retraction supersedes it (see firstRevisionRow). */
    const supersede = (e: Current) => {
      if (e.row.revision === 1) firsts.push(firstRevisionRow(e.row));
    };
    const touched = new Set<string>();
    const outcomes = ops.map((op, i): RecordOutcome => {
      if (op.op === "retract") {
        const e = current.get(op.id);
        if (!e) return { kind: "rejected", id: op.id, reason: `no record ${op.id} to retract` };
        if (e.row.state === "retracted") return { kind: "duplicate", id: op.id, subject: e.row.subject };
        supersede(e);
        e.row = { ...e.row, state: "retracted", revision: e.row.revision + 1 };
        e.dirty = true;
        history.push([op.id, e.row.revision, "retract", null, null, op.reason, at]);
        touched.add(e.row.subject);
        return { kind: "retracted", id: op.id, subject: e.row.subject };
      }
      const r = op.record;
      const hash = hashes[i] as string;
      const fields = {
        subject: r.subject,
        category: r.category,
        occurred_at: r.occurredAt,
        attributes: JSON.stringify(r.attributes),
        legal_ref: r.legalRef,
        evidence_ref: r.evidenceRef ?? null,
        content_hash: hash,
      };
      const e = current.get(r.id);
      if (!e) {
        if (op.op === "correct") return { kind: "rejected", id: r.id, reason: `no record ${r.id} to correct; send it without "op": "correct"` };
        const row: RecordRow = { id: r.id, source: r.source, external_id: r.externalId, ...fields, state: "active", revision: 1, received_at: at };
        current.set(r.id, { row, fromDb: false, origSubject: r.subject, dirty: true, sent: new Set([hash]) });
        touched.add(r.subject);
        return { kind: "accepted", id: r.id, subject: r.subject };
      }
      // Content sent before (an earlier revision, re-sent with the rest of its file) changes nothing.
      if (e.row.content_hash === hash || (op.op === "submit" && e.sent.has(hash))) return { kind: "duplicate", id: r.id, subject: e.row.subject };
      if (e.row.state === "retracted") {
        return { kind: "rejected", id: r.id, reason: `record ${r.id} was retracted; a retracted record cannot be reported again under the same externalId` };
      }
      if (op.op !== "correct") {
        return { kind: "rejected", id: r.id, reason: `record ${r.id} already exists with different content; send it with "op": "correct" to correct it` };
      }
      touched.add(e.row.subject);
      supersede(e);
      // A correction keeps the record's identity and the instant it was first received.
      e.row = { ...e.row, ...fields, revision: e.row.revision + 1 };
      e.dirty = true;
      e.sent.add(hash);
      history.push([r.id, e.row.revision, "correct", JSON.stringify(contentOf(r)), hash, null, at]);
      touched.add(r.subject);
      return { kind: "corrected", id: r.id, subject: r.subject };
    });

    const all = [...current.values()];
    await this.begin(client);
    await copyRows(client, "records", RECORD_COLUMNS, all.filter((c) => !c.fromDb).map((c) => recordValues(c.row)));
    const updated = all.filter((c) => c.fromDb && c.dirty);
    if (updated.length > 0) {
      const col = <K extends keyof RecordRow>(k: K) => updated.map((c) => c.row[k]);
      // Changing the subject moves the row to its new partition.
      await this.sql(
        `UPDATE records r SET subject = u.subject, category = u.category, occurred_at = u.occurred_at, attributes = u.attributes, legal_ref = u.legal_ref,
           evidence_ref = u.evidence_ref, state = u.state, revision = u.revision, content_hash = u.content_hash
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::int[], $11::text[])
           AS u(old_subject, id, subject, category, occurred_at, attributes, legal_ref, evidence_ref, state, revision, content_hash)
         WHERE r.subject = u.old_subject AND r.id = u.id`,
        [updated.map((c) => c.origSubject), col("id"), col("subject"), col("category"), col("occurred_at"), col("attributes"), col("legal_ref"), col("evidence_ref"), col("state"), col("revision"), col("content_hash")],
      );
    }
    const moved = all.filter((c) => c.row.subject !== (c.fromDb ? c.origSubject : firstSubmit.get(c.row.id)));
    if (moved.length > 0) {
      await this.sql("UPDATE record_ids d SET subject = u.subject FROM unnest($1::text[], $2::text[]) AS u(id, subject) WHERE d.id = u.id", [moved.map((c) => c.row.id), moved.map((c) => c.row.subject)]);
    }
    if (firsts.length > 0) {
      const col = <K extends keyof (typeof firsts)[number]>(k: K) => firsts.map((f) => f[k]);
      // DO NOTHING: a database written before first revisions were kept only once superseded already holds the row.
      await this.sql(
        `INSERT INTO record_history (record_id, revision, op, content, content_hash, reason, at)
         SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[]) ON CONFLICT DO NOTHING`,
        [col("record_id"), col("revision"), col("op"), col("content"), col("content_hash"), col("reason"), col("at")],
      );
    }
    await copyRows(client, "record_history", ["record_id", "revision", "op", "content", "content_hash", "reason", "at"], history);
    const written = new Map<string, RecordRow[]>();
    for (const c of all) {
      if (c.row.state !== "active") continue;
      const mine = written.get(c.row.subject);
      if (mine) mine.push(c.row);
      else written.set(c.row.subject, [c.row]);
    }
    await this.refreshNow([...touched], evaluate, written);
    return outcomes;
  }

  /**
   * Re-evaluates subjects and writes what follows, set-based: their lock rows are taken in subject order (so that two
   * transactions re-evaluating a subject do it one after the other, the second seeing the first's records), then their
   * statuses, records (read back only for subjects with a stored status) and reviewers' decisions are read set-based,
   * and statuses, sign-offs, list members and notices written in a handful more statements.
   */
  private async refreshNow(subjects: readonly string[], evaluate: SubjectEvaluator, written?: ReadonlyMap<string, readonly RecordRow[]>): Promise<void> {
    if (subjects.length === 0) return;
    const client = this.tx("refreshStatuses");
    const ordered = [...new Set(subjects)];
    await this.sql(
      `INSERT INTO subject_locks (subject) SELECT s FROM unnest($1::text[]) AS s ORDER BY s COLLATE "C"
       ON CONFLICT (subject) DO UPDATE SET n = subject_locks.n + 1`,
      [ordered],
    );
    const rowBy = new Map((await this.sql<StatusDbRow>("SELECT subject, body, measures, valid_from, valid_until FROM statuses WHERE subject = ANY($1::text[])", [ordered])).map((r) => [r.subject, r] as const));
    // As in the SQLite store: without a stored status (read under the subject's lock) a subject had no active record
    // before this batch, so its records are the active ones the batch holds, and are not read back. Most subjects of
    // an import are new.
    const recordsBy = new Map<string, StoredRecord[]>();
    const reread: string[] = [];
    for (const subject of ordered) {
      const fresh = rowBy.has(subject) ? undefined : written?.get(subject);
      if (fresh) recordsBy.set(subject, fresh.map(toRecord));
      else reread.push(subject);
    }
    if (reread.length > 0) {
      for (const row of await this.sql<RecordRow>("SELECT * FROM records WHERE subject = ANY($1::text[]) AND state = 'active'", [reread])) {
        const list = recordsBy.get(row.subject);
        if (list) list.push(toRecord(row));
        else recordsBy.set(row.subject, [toRecord(row)]);
      }
    }
    const facts: Map<string, CaseFacts> = await this.dp.caseFactsMany(ordered);

    const signOffs: SignOffChanges = { lapse: [], request: [] };
    const hadLists: string[] = [];
    const members: { subject: string; l: ListMembership }[] = [];
    const notices: NoticeDraft[] = [];
    const gone: string[] = [];
    const put: StatusWrite[] = [];
    const out = { signOffs, hadLists, members, notices };
    for (const subject of ordered) {
      const records = recordsBy.get(subject) ?? [];
      const row = rowBy.get(subject);
      const next = evaluate(subject, records, facts.get(subject) as CaseFacts);
      // A subject whose every record was retracted is as if never reported.
      if (records.length === 0) {
        this.follow(subject, row && statusOfRow(subject, row).status, next.status, out);
        this.changed.add(subject);
        gone.push(subject);
        continue;
      }
      const stored = storedStatus(subject, next);
      // As in the SQLite store: a status that only got older is left as it is, and nothing follows from it (most
      // subjects of a sweep or a rescore); one whose ruleset, instant or validity alone moved is written, and nothing
      // follows from it either.
      if (row && sameStatus(row, stored)) continue;
      if (!(row && sameContent(row, stored))) this.follow(subject, row && statusOfRow(subject, row).status, next.status, out);
      this.changed.add(subject);
      put.push(stored);
    }
    await this.dp.syncSignOffs(signOffs);
    await this.dp.syncMembers(hadLists, members);
    await this.dp.appendNotices(notices);
    if (gone.length > 0) await this.sql("DELETE FROM statuses WHERE subject = ANY($1::text[])", [gone]);
    // A subject without a stored status gets its first by COPY: its lock is held, so no other transaction can write one
    // meanwhile, and COPY takes a third of the time of the upsert below.
    const first = put.filter((p) => !rowBy.has(p.subject));
    if (first.length > 0) await this.begin(client);
    await copyRows(
      client,
      "statuses",
      ["subject", "score", "grade", "ruleset_hash", "valid_from", "valid_until", "body", "measures"],
      first.map((p) => [p.subject, p.score, p.grade, p.ruleset_hash, p.valid_from, p.valid_until, p.body, p.measures]),
    );
    const again = put.filter((p) => rowBy.has(p.subject));
    if (again.length > 0) {
      await this.sql(
        `INSERT INTO statuses (subject, score, grade, ruleset_hash, valid_from, valid_until, body, measures)
         SELECT * FROM unnest($1::text[], $2::float8[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::text[])
         ON CONFLICT (subject) DO UPDATE SET score = excluded.score, grade = excluded.grade, ruleset_hash = excluded.ruleset_hash,
           valid_from = excluded.valid_from, valid_until = excluded.valid_until, body = excluded.body, measures = excluded.measures`,
        [
          again.map((p) => p.subject),
          again.map((p) => p.score),
          again.map((p) => p.grade),
          again.map((p) => p.ruleset_hash),
          again.map((p) => p.valid_from),
          again.map((p) => p.valid_until),
          again.map((p) => p.body),
          again.map((p) => p.measures),
        ],
      );
    }
    // Delivered to listeners (other processes' caches) only if this transaction commits; statuses left as they were
    // change nothing a listener remembers.
    const moved = [...gone, ...put.map((p) => p.subject)];
    if (moved.length > 0) await this.sql("SELECT pg_notify($1, $2)", [STATUS_CHANNEL, moved.length <= MAX_NAMED ? moved.join(",") : "*"]);
  }

  /** What a change of status entails: notices, the sign-off queue and list members, collected for the batch's statements. */
  private follow(
    subject: string,
    prev: StatusSummary | undefined,
    next: Status,
    out: { signOffs: SignOffChanges; hadLists: string[]; members: { subject: string; l: ListMembership }[]; notices: NoticeDraft[] },
  ): void {
    const at = parseInstant(next.at);
    if (typeof at === "string") throw new Error(`the status of ${subject} was evaluated at ${next.at}, which is not an instant: ${at}`);
    const before = prev?.awaitingSignOff ?? [];
    const still = new Set(next.awaitingSignOff.map((a) => a.entry));
    for (const a of before) if (!still.has(a.entry)) out.signOffs.lapse.push({ subject, entry: a.entry });
    for (const a of next.awaitingSignOff) out.signOffs.request.push({ subject, a, at });
    if ((prev?.lists.length ?? 0) > 0) out.hadLists.push(subject);
    for (const l of next.lists) out.members.push({ subject, l });
    out.notices.push(...noticesForChange(prev, next, at));
  }

  async recordsOf(subject: string): Promise<StoredRecord[]> {
    return (await this.sql<RecordRow>("SELECT * FROM records WHERE subject = $1 ORDER BY occurred_at, id", [subject])).map(toRecord);
  }

  async getRecord(id: string): Promise<StoredRecord | undefined> {
    const row = await this.recordRow(id);
    return row ? toRecord(row) : undefined;
  }

  /** A record's row by id, found through the id directory. */
  private async recordRow(id: string): Promise<RecordRow | undefined> {
    const [row] = await this.sql<RecordRow>("SELECT r.* FROM record_ids d JOIN records r ON r.subject = d.subject AND r.id = d.id WHERE d.id = $1", [id]);
    return row;
  }

  async recordHistory(id: string): Promise<RecordRevision[]> {
    const rows = await this.sql<HistoryRow>(
      "SELECT revision, op, content, reason, at FROM record_history WHERE record_id = $1 ORDER BY revision",
      [id],
    );
    return historyOf(rows, rows[0]?.revision === 1 ? undefined : await this.recordRow(id));
  }

  async getStatus(subject: string): Promise<StatusRow | undefined> {
    const [row] = await this.sql<StatusDbRow>("SELECT subject, body, measures, valid_from, valid_until FROM statuses WHERE subject = $1", [subject]);
    return row ? statusOfRow(row.subject, row) : undefined;
  }

  async getMeasures(subject: string): Promise<StoredMeasures | undefined> {
    const cache = this.cache;
    if (!cache.live) cache.wake();
    // A transaction that changed statuses reads its own writes, which no one else may see yet: not through the cache.
    const usable = cache.live && this.changed.size === 0;
    if (usable) {
      const known = cache.map.get(subject);
      if (known !== undefined) return known ?? undefined;
    }
    const generation = cache.generation;
    const [row] = await this.sql<MeasuresRow>("SELECT ruleset_hash, valid_from, valid_until, measures FROM statuses WHERE subject = $1", [subject]);
    const value = row ? toMeasures(row) : null;
    if (usable) cache.remember(subject, value, generation);
    return value ?? undefined;
  }

  async getMeasuresMany(subjects: readonly string[]): Promise<(StoredMeasures | undefined)[]> {
    const cache = this.cache;
    if (!cache.live) cache.wake();
    const usable = cache.live && this.changed.size === 0;
    const found = new Map<string, StoredMeasures | null>();
    const missing: string[] = [];
    for (const s of subjects) {
      const known = usable ? cache.map.get(s) : undefined;
      if (known !== undefined) found.set(s, known);
      else if (!found.has(s)) missing.push(s);
    }
    if (missing.length > 0) {
      const generation = cache.generation;
      // One query for the subjects not remembered, rather than one round trip each.
      const rows = await this.sql<MeasuresRow & { subject: string }>(
        "SELECT subject, ruleset_hash, valid_from, valid_until, measures FROM statuses WHERE subject = ANY($1::text[])",
        [[...new Set(missing)]],
      );
      for (const s of missing) found.set(s, null);
      for (const row of rows) found.set(row.subject, toMeasures(row));
      if (usable) for (const s of missing) cache.remember(s, found.get(s) ?? null, generation);
    }
    return subjects.map((s) => found.get(s) ?? undefined);
  }

  async refreshStatuses(subjects: readonly string[], evaluate: SubjectEvaluator): Promise<void> {
    await this.guarded(() => this.refreshNow(subjects, evaluate));
  }

  async dueSubjects(at: Instant, rulesetHash: string, after: string | null, limit: number): Promise<string[]> {
    const rows = await this.sql<{ subject: string }>(
      `SELECT subject FROM statuses WHERE subject > $1 AND (valid_until <= $2 OR valid_from > $2 OR ruleset_hash <> $3) ORDER BY subject LIMIT $4`,
      [after ?? "", at, rulesetHash, limit],
    );
    return rows.map((r) => r.subject);
  }

  async subjectsAfter(cursor: string | null, limit: number): Promise<string[]> {
    const rows = await this.sql<{ subject: string }>("SELECT DISTINCT subject FROM records WHERE subject > $1 ORDER BY subject LIMIT $2", [cursor ?? "", limit]);
    return rows.map((r) => r.subject);
  }

  async counts(): Promise<{ subjects: number; records: number; retracted: number }> {
    const [r] = await this.sql<{ subjects: number; records: number; retracted: number }>(
      "SELECT count(DISTINCT subject)::int AS subjects, count(*)::int AS records, count(*) FILTER (WHERE state = 'retracted')::int AS retracted FROM records",
    );
    return r ?? { subjects: 0, records: 0, retracted: 0 };
  }

  async putNames(names: readonly { subject: string; name: string }[]): Promise<void> {
    // A later name replaces an earlier one, and one statement may not write a row twice: the last of each subject only.
    const last = new Map(names.map((n) => [n.subject, n.name] as const));
    const all = [...last];
    for (let i = 0; i < all.length; i += NAMES_PER_STATEMENT) {
      const chunk = all.slice(i, i + NAMES_PER_STATEMENT);
      await this.sql(
        "INSERT INTO subject_names (subject, name) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (subject) DO UPDATE SET name = excluded.name",
        [chunk.map((c) => c[0]), chunk.map((c) => c[1])],
      );
    }
  }

  async namesOf(subjects: readonly string[]): Promise<Map<string, string>> {
    const rows = await this.sql<{ subject: string; name: string }>("SELECT subject, name FROM subject_names WHERE subject = ANY($1::text[])", [subjects]);
    return new Map(rows.map((r) => [r.subject, r.name] as const));
  }

  listSizes(at: Instant) {
    return this.dp.listSizes(at);
  }

  listMembers(...a: Parameters<StoreTx["listMembers"]>) {
    return this.dp.listMembers(...a);
  }

  listStatistics(at: Instant) {
    return this.dp.listStatistics(at);
  }

  async caseFactsOf(subject: string): Promise<CaseFacts> {
    return (await this.dp.caseFactsMany([subject])).get(subject) as CaseFacts;
  }

  getSignOff(entry: string) {
    return this.dp.getSignOff(entry);
  }

  signOffs(...a: Parameters<StoreTx["signOffs"]>) {
    return this.dp.signOffs(...a);
  }

  decideSignOff(...a: Parameters<StoreTx["decideSignOff"]>) {
    return this.dp.decideSignOff(...a);
  }

  putObjection(o: Objection) {
    return this.dp.putObjection(o);
  }

  getObjection(id: string) {
    return this.dp.getObjection(id);
  }

  objections(...a: Parameters<StoreTx["objections"]>) {
    return this.dp.objections(...a);
  }

  objectionStatistics(at: Instant) {
    return this.dp.objectionStatistics(at);
  }

  putRestoration(r: Restoration) {
    return this.dp.putRestoration(r);
  }

  getRestoration(id: string) {
    return this.dp.getRestoration(id);
  }

  restorations(...a: Parameters<StoreTx["restorations"]>) {
    return this.dp.restorations(...a);
  }

  appendNotices(drafts: readonly NoticeDraft[]) {
    return this.dp.appendNotices(drafts);
  }

  notices(...a: Parameters<StoreTx["notices"]>) {
    return this.dp.notices(...a);
  }

  outboxDue(at: Instant, limit: number) {
    return this.dp.outboxDue(at, limit);
  }

  markDelivered(seq: number, at: Instant) {
    return this.dp.markDelivered(seq, at);
  }

  markFailed(seq: number, error: string, nextAttemptAt: Instant) {
    return this.dp.markFailed(seq, error, nextAttemptAt);
  }

  outboxBacklog() {
    return this.dp.outboxBacklog();
  }

  /**
   * Chains after the head this process expects (see AuditTip), or else after the head read under its lock, which stays
   * locked until the transaction ends: either way, concurrent appends never fork the chain.
   */
  async appendAudit(drafts: readonly AuditDraft[]): Promise<AuditEntry[]> {
    return this.guarded(() => this.appendAuditNow(drafts));
  }

  private async appendAuditNow(drafts: readonly AuditDraft[]): Promise<AuditEntry[]> {
    if (drafts.length === 0) return [];
    const client = this.tx("appendAudit");
    const columns = ["seq", "at", "actor", "action", "subject", "decision_id", "detail", "prev", "hash"];
    const rowsOf = (entries: readonly AuditEntry[]) => entries.map((e): CopyValue[] => [e.seq, e.at, e.actor, e.action, e.subject, e.decisionId, detailJson(e.detail), e.prev, e.hash]);
    // Sent with the next statement or with COMMIT, as literals (a text without parameters may go with others).
    const literal = (v: CopyValue) => (v === null ? "NULL" : typeof v === "number" ? String(v) : quoted(client, v));
    const insertText = (rows: readonly CopyValue[][]) => `INSERT INTO audit_log (${columns.join(", ")}) VALUES ${rows.map((r) => `(${r.map(literal).join(", ")})`).join(", ")}`;
    const expected = this.chainAhead && !this.begun && this.deferred.length === 0 ? this.tip.usable() : undefined;
    if (expected && drafts.length <= INSERT_AUDIT_MAX) {
      const entries = chain(drafts, expected);
      const last = entries[entries.length - 1] as AuditEntry;
      this.deferred.push(`SELECT social_credit_advance_audit_head(${expected.seq}, ${literal(expected.hash)}, ${last.seq}, ${literal(last.hash)})`, insertText(rowsOf(entries)));
      this.tip.expected = { seq: last.seq, hash: last.hash };
      return entries;
    }
    const [head] = await this.sql<{ seq: number; hash: string | null }>("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE");
    if (!head) throw new Error("audit_head has no row: the database was not migrated by social-credit");
    const entries = chain(drafts, head.hash === null ? undefined : { seq: head.seq, hash: head.hash });
    const rows = rowsOf(entries);
    const last = entries[entries.length - 1] as AuditEntry;
    if (rows.length > INSERT_AUDIT_MAX) {
      await this.begin(client);
      await copyRows(client, "audit_log", columns, rows);
      await this.sql("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", [last.seq, last.hash]);
    } else {
      this.deferred.push(insertText(rows), `UPDATE audit_head SET seq = ${last.seq}, hash = ${literal(last.hash)} WHERE id = 1`);
    }
    this.tip.expected = { seq: last.seq, hash: last.hash };
    return entries;
  }

  async auditEntries(q: AuditQuery): Promise<AuditEntry[]> {
    const params: unknown[] = [q.afterSeq ?? 0];
    const conds = ["seq > $1"];
    if (q.subject !== undefined) {
      const p = `$${params.push(q.subject)}`;
      // A batch of checks concerns each of its detail.subjects.
      conds.push(`(subject = ${p} OR (subject IS NULL AND (detail::jsonb) -> 'subjects' ? ${p} AND jsonb_typeof((detail::jsonb) -> 'subjects') = 'array'))`);
    }
    if (q.actor !== undefined) conds.push(`actor = $${params.push(q.actor)}`);
    if (q.action !== undefined) conds.push(`action = $${params.push(q.action)}`);
    const limit = `$${params.push(q.limit)}`;
    return (await this.sql<AuditRow>(`SELECT * FROM audit_log WHERE ${conds.join(" AND ")} ORDER BY seq LIMIT ${limit}`, params)).map(toAuditEntry);
  }

  async auditHead(): Promise<{ seq: number; hash: string } | undefined> {
    const [r] = await this.sql<{ seq: number; hash: string }>("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
    return r;
  }

  async putCheckpoint(c: Checkpoint): Promise<void> {
    await this.sql(
      "INSERT INTO audit_checkpoints (seq, hash, at, signature) VALUES ($1, $2, $3, $4) ON CONFLICT (seq) DO UPDATE SET hash = excluded.hash, at = excluded.at, signature = excluded.signature",
      [c.seq, c.hash, c.at, c.signature],
    );
  }

  async checkpoints(): Promise<Checkpoint[]> {
    return this.sql<Checkpoint>("SELECT seq, hash, at, signature FROM audit_checkpoints ORDER BY seq");
  }

  async putKey(k: ApiKeyRecord): Promise<void> {
    await this.sql(
      `INSERT INTO api_keys (id, role, source, measures, subject, label, secret_hash, created_at, created_by, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [k.id, k.role, k.source, k.measures === null ? null : JSON.stringify(k.measures), k.subject, k.label, k.secretHash, k.createdAt, k.createdBy, k.revokedAt],
    );
  }

  async getKey(id: string): Promise<ApiKeyRecord | undefined> {
    const [r] = await this.sql<KeyRow>("SELECT * FROM api_keys WHERE id = $1", [id]);
    return r ? toKey(r) : undefined;
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    return (await this.sql<KeyRow>("SELECT * FROM api_keys ORDER BY created_at, id")).map(toKey);
  }

  async revokeKey(id: string, at: Instant): Promise<boolean> {
    return (await this.sql("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id", [at, id])).length > 0;
  }
}

/** Settings of the PostgreSQL store. */
export interface PgOptions {
  /** Connections in the pool (10 by default). */
  poolSize?: number;
}

// Deadlock detected, serialization failure: the transaction did nothing and may simply run again.
const RETRYABLE = new Set(["40P01", "40001"]);
const MAX_ATTEMPTS = 5;

// BIGINT columns hold instants in milliseconds and counts: well within a double's exact range, so read as numbers.
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as "text")) as pg.CustomTypesConfig["getTypeParser"],
};

/** Opens a PostgreSQL store at a postgres:// URL; the schema is migrated before the first operation runs. */
export function openPostgresStore(url: string, options: PgOptions = {}): PostgresStore {
  return new PostgresStore(url, options);
}

/**
 * The PostgreSQL store. Single reads go to any pooled connection; every write runs in a transaction of its own
 * connection, retried when PostgreSQL chose it as a deadlock's victim.
 */
export class PostgresStore implements Store {
  readonly backend = "postgres";
  // COPY pays a round trip and a stream per batch: large batches are what make it faster than inserts.
  readonly importBatchSize = 10_000;
  private readonly pool: pg.Pool;
  private readonly cache = new MeasuresCache();
  private readonly tip = new AuditTip();
  private listener: pg.Client | undefined;
  private listening = false;
  private lastListenAttempt = 0;
  private closed = false;
  /** Resolves once the schema is current; every operation waits for it. */
  readonly ready: Promise<void>;

  constructor(
    private readonly url: string,
    options: PgOptions,
  ) {
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, types });
    this.pool = pool;
    // An idle connection that breaks is dropped from the pool; the next operation gets a fresh one.
    pool.on("error", () => undefined);
    this.ready = (async () => {
      const client = await pool.connect().catch((e: Error) => {
        throw new Error(`cannot connect to PostgreSQL at ${describeDb(url)}: ${e.message}`, { cause: e });
      });
      try {
        await migrate(client);
      } finally {
        client.release();
      }
    })();
    // Reported to whoever waits on an operation, not as an unhandled rejection.
    this.ready.catch(() => undefined);
    this.cache.wake = () => this.listen();
  }

  /** Starts the connection that hears other processes' changes of statuses; at most one attempt a second. */
  private listen(): void {
    if (this.listening || this.closed || Date.now() - this.lastListenAttempt < 1000) return;
    this.listening = true;
    this.lastListenAttempt = Date.now();
    const client = new pg.Client({ connectionString: this.url, types });
    const down = () => {
      this.cache.setLive(false);
      this.listening = false;
      if (this.listener === client) this.listener = undefined;
    };
    client.on("notification", (m) => this.cache.forget(!m.payload || m.payload === "*" ? "all" : m.payload.split(",")));
    client.on("error", down);
    client.on("end", down);
    this.listener = client;
    void (async () => {
      try {
        await client.connect();
        await client.query(`LISTEN ${STATUS_CHANNEL}`);
        if (this.closed) await client.end();
        else this.cache.setLive(true);
      } catch {
        down();
        await client.end().catch(() => undefined);
      }
    })();
  }

  async transaction<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
    await this.ready;
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      const ops = new PgOps(client, this.cache, client, this.tip, attempt === 1);
      let broken: Error | undefined;
      try {
        const result = await work(ops);
        // The work caught a failed write and went on: the failure still ends the transaction.
        if (ops.failedWrite !== undefined) throw ops.failedWrite;
        const commit = ops.commitText();
        if (commit !== undefined) await client.query(commit);
        this.cache.forget(ops.changed);
        return result;
      } catch (e) {
        this.tip.failed(e);
        if (ops.begun) await client.query("ROLLBACK").catch((r: Error) => (broken = r));
        if (RETRYABLE.has((e as { code?: string }).code ?? "") && attempt < MAX_ATTEMPTS) continue;
        throw e;
      } finally {
        client.release(broken);
      }
    }
  }

  private async read<T>(work: (ops: PgOps) => Promise<T>): Promise<T> {
    await this.ready;
    return work(new PgOps(this.pool, this.cache, null));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.ready.catch(() => undefined);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.pool.end();
  }

  activeLayers() { return this.read((o) => o.activeLayers()); }
  activationSeq() { return this.read((o) => o.activationSeq()); }
  activateLayers(...a: Parameters<StoreTx["activateLayers"]>) { return this.transaction((t) => t.activateLayers(...a)); }
  writeRecords(...a: Parameters<StoreTx["writeRecords"]>) { return this.transaction((t) => t.writeRecords(...a)); }
  recordsOf(subject: string) { return this.read((o) => o.recordsOf(subject)); }
  getRecord(id: string) { return this.read((o) => o.getRecord(id)); }
  recordHistory(id: string) { return this.read((o) => o.recordHistory(id)); }
  getStatus(subject: string) { return this.read((o) => o.getStatus(subject)); }
  getMeasures(subject: string) { return this.read((o) => o.getMeasures(subject)); }
  getMeasuresMany(subjects: readonly string[]) { return this.read((o) => o.getMeasuresMany(subjects)); }
  refreshStatuses(...a: Parameters<StoreTx["refreshStatuses"]>) { return this.transaction((t) => t.refreshStatuses(...a)); }
  dueSubjects(...a: Parameters<StoreTx["dueSubjects"]>) { return this.read((o) => o.dueSubjects(...a)); }
  subjectsAfter(...a: Parameters<StoreTx["subjectsAfter"]>) { return this.read((o) => o.subjectsAfter(...a)); }
  counts() { return this.read((o) => o.counts()); }
  listSizes(at: Instant) { return this.read((o) => o.listSizes(at)); }
  putNames(names: readonly { subject: string; name: string }[]) { return this.transaction((t) => t.putNames(names)); }
  namesOf(subjects: readonly string[]) { return this.read((o) => o.namesOf(subjects)); }
  appendAudit(drafts: readonly AuditDraft[]) { return this.transaction((t) => t.appendAudit(drafts)); }
  auditEntries(q: AuditQuery) { return this.read((o) => o.auditEntries(q)); }
  auditHead() { return this.read((o) => o.auditHead()); }
  putCheckpoint(c: Checkpoint) { return this.transaction((t) => t.putCheckpoint(c)); }
  checkpoints() { return this.read((o) => o.checkpoints()); }
  putKey(k: ApiKeyRecord) { return this.transaction((t) => t.putKey(k)); }
  getKey(id: string) { return this.read((o) => o.getKey(id)); }
  listKeys() { return this.read((o) => o.listKeys()); }
  revokeKey(id: string, at: Instant) { return this.transaction((t) => t.revokeKey(id, at)); }
  listMembers(...a: Parameters<StoreTx["listMembers"]>) { return this.read((o) => o.listMembers(...a)); }
  listStatistics(at: Instant) { return this.read((o) => o.listStatistics(at)); }
  caseFactsOf(subject: string) { return this.read((o) => o.caseFactsOf(subject)); }
  getSignOff(entry: string) { return this.read((o) => o.getSignOff(entry)); }
  signOffs(...a: Parameters<StoreTx["signOffs"]>) { return this.read((o) => o.signOffs(...a)); }
  decideSignOff(...a: Parameters<StoreTx["decideSignOff"]>) { return this.transaction((t) => t.decideSignOff(...a)); }
  putObjection(o: Objection) { return this.transaction((t) => t.putObjection(o)); }
  getObjection(id: string) { return this.read((o) => o.getObjection(id)); }
  objections(...a: Parameters<StoreTx["objections"]>) { return this.read((o) => o.objections(...a)); }
  objectionStatistics(at: Instant) { return this.read((o) => o.objectionStatistics(at)); }
  putRestoration(r: Restoration) { return this.transaction((t) => t.putRestoration(r)); }
  getRestoration(id: string) { return this.read((o) => o.getRestoration(id)); }
  restorations(...a: Parameters<StoreTx["restorations"]>) { return this.read((o) => o.restorations(...a)); }
  appendNotices(drafts: readonly NoticeDraft[]) { return this.transaction((t) => t.appendNotices(drafts)); }
  notices(...a: Parameters<StoreTx["notices"]>) { return this.read((o) => o.notices(...a)); }
  outboxDue(at: Instant, limit: number) { return this.read((o) => o.outboxDue(at, limit)); }
  markDelivered(seq: number, at: Instant) { return this.transaction((t) => t.markDelivered(seq, at)); }
  markFailed(seq: number, error: string, nextAttemptAt: Instant) { return this.transaction((t) => t.markFailed(seq, error, nextAttemptAt)); }
  outboxBacklog() { return this.read((o) => o.outboxBacklog()); }
}
