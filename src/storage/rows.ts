// Rows as both backends store them, and what they are to the rest of the system: one mapping, whatever the database.
import type { AuditEntry } from "../core/audit.js";
import { contentOf } from "./record-content.js";
import type { ApiKeyRecord, RecordRevision, StoredMeasures, StoredRecord } from "./store.js";

/** A Record row as stored. */
export interface RecordRow {
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

/** The Record a row holds. */
export function toRecord(row: Omit<RecordRow, "content_hash">): StoredRecord {
  return writtenRecord(row, JSON.parse(row.attributes) as Record<string, unknown>);
}

/**
 * The Record a row holds, given its attributes as they were before being serialised into it: a batch evaluating the
 * records it has just written is spared parsing them back.
 */
export function writtenRecord(row: Omit<RecordRow, "content_hash">, attributes: Record<string, unknown>): StoredRecord {
  const record: StoredRecord = {
    id: row.id,
    source: row.source,
    externalId: row.external_id,
    subject: row.subject,
    category: row.category,
    occurredAt: row.occurred_at,
    attributes,
    legalRef: row.legal_ref,
    revision: row.revision,
    state: row.state,
    receivedAt: row.received_at,
  };
  // Set afterwards rather than spread into the literal: rescoring builds millions of these, and a spread is slow.
  if (row.evidence_ref) record.evidenceRef = row.evidence_ref;
  return record;
}

/** A Audit row as stored. */
export interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  subject: string | null;
  decision_id: string;
  detail: string;
  prev: string;
  hash: string;
}

/** A Key row as stored. */
export interface KeyRow {
  id: string;
  role: ApiKeyRecord["role"];
  source: string | null;
  measures: string | null;
  subject: string | null;
  label: string | null;
  secret_hash: string;
  created_at: number;
  created_by: string;
  revoked_at: number | null;
}

/** The AuditEntry a row holds. */
export const toAuditEntry = (r: AuditRow): AuditEntry => ({
  seq: r.seq,
  at: r.at,
  actor: r.actor,
  action: r.action,
  subject: r.subject,
  decisionId: r.decision_id,
  detail: JSON.parse(r.detail) as Record<string, unknown>,
  prev: r.prev,
  hash: r.hash,
});

/** The Key a row holds. */
export const toKey = (r: KeyRow): ApiKeyRecord => ({
  id: r.id,
  role: r.role,
  source: r.source,
  measures: r.measures === null ? null : (JSON.parse(r.measures) as string[]),
  subject: r.subject,
  label: r.label,
  secretHash: r.secret_hash,
  createdAt: r.created_at,
  createdBy: r.created_by,
  revokedAt: r.revoked_at,
});

/** A record_history row as stored. */
export interface HistoryRow {
  revision: number;
  op: RecordRevision["op"];
  content: string | null;
  reason: string | null;
  at: number;
}

/** The revision a history row holds. */
export function toRevision(h: HistoryRow): RecordRevision {
  return {
    revision: h.revision,
    op: h.op,
    at: h.at,
    content: h.content ? (JSON.parse(h.content) as RecordRevision["content"]) : null,
    ...(h.reason ? { reason: h.reason } : {}),
  };
}

/** A whole record_history row, as a first revision is kept. */
export type FirstRevisionRow = HistoryRow & { record_id: string; content_hash: string };

/**
 * The history row of a record's first revision, written only once a correction or retraction supersedes it: while
 * it is current, the records row holds the same content, and most records are never revised (an import writes one
 * row per record instead of two). A correction keeps `received_at`, so it is still the instant of the submission.
 */
export function firstRevisionRow(row: RecordRow): FirstRevisionRow {
  return { record_id: row.id, revision: 1, op: "submit", content: JSON.stringify(contentOf(toRecord(row))), content_hash: row.content_hash, reason: null, at: row.received_at };
}

/** A record's whole history: the stored rows (in revision order) and, when they lack it, the first revision from the record itself. */
export function historyOf(rows: readonly HistoryRow[], record: RecordRow | undefined): RecordRevision[] {
  const first = rows[0]?.revision !== 1 && record?.revision === 1 ? [firstRevisionRow(record)] : [];
  return [...first, ...rows].map(toRevision);
}

/** What a check reads of a statuses row. */
export interface MeasuresRow {
  ruleset_hash: string;
  valid_from: number | null;
  valid_until: number | null;
  measures: string;
}

export const toMeasures = (r: MeasuresRow): StoredMeasures => ({
  rulesetHash: r.ruleset_hash,
  validFrom: r.valid_from,
  validUntil: r.valid_until,
  measures: JSON.parse(r.measures) as StoredMeasures["measures"],
});
