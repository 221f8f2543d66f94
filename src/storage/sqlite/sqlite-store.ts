// The embedded backend: one SQLite file through better-sqlite3, in WAL mode.
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import canonicalize from "canonicalize";
import type { RecordFact } from "../../core/record.js";
import type { RecordOp } from "../../core/record-input.js";
import type { Instant } from "../../core/time.js";
import type {
  RecordOutcome,
  RecordRevision,
  StatusRow,
  Store,
  StoredLayer,
  StoredRecord,
  SubjectEvaluator,
} from "../store.js";
import { migrate } from "./migrations.js";

interface RecordRow {
  id: string;
  source: string;
  external_id: string;
  subject: string;
  category: string;
  occurred_at: number;
  attributes: string;
  legal_ref: string;
  evidence_ref: string | null;
  state: "active" | "retracted";
  revision: number;
  content_hash: string;
  received_at: number;
}

type Content = Omit<RecordFact, "id" | "source" | "externalId">;

function contentOf(r: RecordFact): Content {
  return {
    subject: r.subject,
    category: r.category,
    occurredAt: r.occurredAt,
    attributes: r.attributes,
    legalRef: r.legalRef,
    ...(r.evidenceRef ? { evidenceRef: r.evidenceRef } : {}),
  };
}

/** Hash of a record's content in canonical JSON, so "the same record again" is recognised whatever the key order. */
export function contentHash(r: RecordFact): string {
  return createHash("sha256").update(canonicalize(contentOf(r)) ?? "").digest("hex");
}

function toRecord(row: RecordRow): StoredRecord {
  return {
    id: row.id,
    source: row.source,
    externalId: row.external_id,
    subject: row.subject,
    category: row.category,
    occurredAt: row.occurred_at,
    attributes: JSON.parse(row.attributes) as Record<string, unknown>,
    legalRef: row.legal_ref,
    ...(row.evidence_ref ? { evidenceRef: row.evidence_ref } : {}),
    revision: row.revision,
    state: row.state,
    receivedAt: row.received_at,
  };
}

/** Opens (creating if needed) a SQLite store at a path; ":memory:" gives a private in-memory one. */
export function openSqliteStore(path: string): SqliteStore {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 10000");
  migrate(db);
  return new SqliteStore(db);
}

export class SqliteStore implements Store {
  readonly backend = "sqlite";
  private readonly s;

  constructor(readonly db: Database.Database) {
    this.s = {
      getRecord: db.prepare<[string], RecordRow>("SELECT * FROM records WHERE id = ?"),
      insertRecord: db.prepare(
        `INSERT INTO records (id, source, external_id, subject, category, occurred_at, attributes, legal_ref, evidence_ref, state, revision, content_hash, received_at)
         VALUES (@id, @source, @external_id, @subject, @category, @occurred_at, @attributes, @legal_ref, @evidence_ref, 'active', @revision, @content_hash, @received_at)`,
      ),
      updateRecord: db.prepare(
        `UPDATE records SET subject = @subject, category = @category, occurred_at = @occurred_at, attributes = @attributes,
           legal_ref = @legal_ref, evidence_ref = @evidence_ref, revision = @revision, content_hash = @content_hash
         WHERE id = @id`,
      ),
      retractRecord: db.prepare("UPDATE records SET state = 'retracted', revision = ? WHERE id = ?"),
      insertHistory: db.prepare("INSERT INTO record_history (record_id, revision, op, content, content_hash, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)"),
      sentBefore: db.prepare<[string, string], { one: number }>("SELECT 1 AS one FROM record_history WHERE record_id = ? AND content_hash = ? LIMIT 1"),
      activeRecordsOf: db.prepare<[string], RecordRow>("SELECT * FROM records WHERE subject = ? AND state = 'active'"),
      allRecordsOf: db.prepare<[string], RecordRow>("SELECT * FROM records WHERE subject = ? ORDER BY occurred_at, id"),
      history: db.prepare<[string], { revision: number; op: RecordRevision["op"]; content: string | null; reason: string | null; at: number }>(
        "SELECT revision, op, content, reason, at FROM record_history WHERE record_id = ? ORDER BY revision",
      ),
      getStatus: db.prepare<[string], { body: string; valid_from: number | null; valid_until: number | null }>(
        "SELECT body, valid_from, valid_until FROM statuses WHERE subject = ?",
      ),
      putStatus: db.prepare(
        `INSERT INTO statuses (subject, score, grade, ruleset_hash, valid_from, valid_until, body)
         VALUES (@subject, @score, @grade, @ruleset_hash, @valid_from, @valid_until, @body)
         ON CONFLICT (subject) DO UPDATE SET score = excluded.score, grade = excluded.grade, ruleset_hash = excluded.ruleset_hash,
           valid_from = excluded.valid_from, valid_until = excluded.valid_until, body = excluded.body`,
      ),
      deleteStatus: db.prepare("DELETE FROM statuses WHERE subject = ?"),
    };
  }

  async close(): Promise<void> {
    this.db.close();
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
    this.db.transaction(() => {
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
    })();
  }

  async writeRecords(ops: readonly RecordOp[], evaluate: SubjectEvaluator, at: Instant): Promise<RecordOutcome[]> {
    return this.db.transaction(() => {
      const touched = new Set<string>();
      // Expected refusals are outcomes, not exceptions; anything that throws rolls the whole batch back,
      // so each record is still applied whole or not at all without a savepoint per record.
      const outcomes = ops.map((op) => this.applyOne(op, at, touched));
      this.refreshNow([...touched], evaluate);
      return outcomes;
    })();
  }

  /** Applies one operation inside the batch's transaction. */
  private applyOne(op: RecordOp, at: Instant, touched: Set<string>): RecordOutcome {
    const existing = this.s.getRecord.get(op.op === "retract" ? op.id : op.record.id);
    if (op.op === "retract") {
      if (!existing) return { kind: "rejected", id: op.id, reason: `no record ${op.id} to retract` };
      if (existing.state === "retracted") return { kind: "duplicate", id: op.id };
      const revision = existing.revision + 1;
      this.s.retractRecord.run(revision, op.id);
      this.s.insertHistory.run(op.id, revision, "retract", null, null, op.reason, at);
      touched.add(existing.subject);
      return { kind: "retracted", id: op.id };
    }
    const r = op.record;
    const hash = contentHash(r);
    const row = {
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
    };
    const content = JSON.stringify(contentOf(r));
    if (!existing) {
      if (op.op === "correct") return { kind: "rejected", id: r.id, reason: `no record ${r.id} to correct; send it without "op": "correct"` };
      this.s.insertRecord.run({ ...row, revision: 1 });
      this.s.insertHistory.run(r.id, 1, "submit", content, hash, null, at);
      touched.add(r.subject);
      return { kind: "accepted", id: r.id };
    }
    // Content sent before (an earlier revision, re-sent with the rest of its file) changes nothing.
    if (existing.content_hash === hash || (op.op === "submit" && this.s.sentBefore.get(r.id, hash))) return { kind: "duplicate", id: r.id };
    if (existing.state === "retracted") {
      return { kind: "rejected", id: r.id, reason: `record ${r.id} was retracted; a retracted record cannot be reported again under the same externalId` };
    }
    if (op.op !== "correct") {
      return { kind: "rejected", id: r.id, reason: `record ${r.id} already exists with different content; send it with "op": "correct" to correct it` };
    }
    const revision = existing.revision + 1;
    this.s.updateRecord.run({ ...row, revision });
    this.s.insertHistory.run(r.id, revision, "correct", content, hash, null, at);
    touched.add(existing.subject);
    touched.add(r.subject);
    return { kind: "corrected", id: r.id };
  }

  private refreshNow(subjects: readonly string[], evaluate: SubjectEvaluator): void {
    for (const subject of subjects) {
      const records = this.s.activeRecordsOf.all(subject).map(toRecord);
      if (records.length === 0) {
        // A subject whose every record was retracted is as if never reported.
        this.s.deleteStatus.run(subject);
        continue;
      }
      this.putStatus({ subject, ...evaluate(subject, records) });
    }
  }

  private putStatus(row: StatusRow): void {
    this.s.putStatus.run({
      subject: row.subject,
      score: row.status.score,
      grade: row.status.grade,
      ruleset_hash: row.status.rulesetHash,
      valid_from: row.validFrom,
      valid_until: row.validUntil,
      body: JSON.stringify(row.status),
    });
  }

  async recordsOf(subject: string): Promise<StoredRecord[]> {
    return this.s.allRecordsOf.all(subject).map(toRecord);
  }

  async recordHistory(id: string): Promise<RecordRevision[]> {
    return this.s.history.all(id).map((h) => ({
      revision: h.revision,
      op: h.op,
      at: h.at,
      content: h.content ? (JSON.parse(h.content) as RecordRevision["content"]) : null,
      ...(h.reason ? { reason: h.reason } : {}),
    }));
  }

  async getStatus(subject: string): Promise<StatusRow | undefined> {
    const row = this.s.getStatus.get(subject);
    if (!row) return undefined;
    return { subject, status: JSON.parse(row.body) as StatusRow["status"], validFrom: row.valid_from, validUntil: row.valid_until };
  }

  async refreshStatuses(subjects: readonly string[], evaluate: SubjectEvaluator): Promise<void> {
    this.db.transaction(() => this.refreshNow(subjects, evaluate))();
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
}
