// Due-process rows as both backends store them, and the sign-offs, objections, restorations and notices they are.
import type { Objection, Restoration, SignOff } from "../core/due-process.js";
import type { Notice, NoticeDraft } from "../core/notices.js";

/** A SignOff row as stored. */
export interface SignOffRow {
  entry: string;
  subject: string;
  list: string;
  tier: SignOff["tier"];
  record: string;
  rule: string;
  requested_at: number;
  state: SignOff["state"];
  decided_at: number | null;
  decided_by: string | null;
  reasons: string | null;
}

/** A Objection row as stored. */
export interface ObjectionRow {
  id: string;
  subject: string;
  record: string;
  statement: string;
  evidence_ref: string | null;
  filed_at: number;
  due_at: number;
  state: Objection["state"];
  decided_at: number | null;
  decided_by: string | null;
  reasons: string | null;
  outcome: Objection["outcome"];
}

/** A Restoration row as stored. */
export interface RestorationRow {
  id: string;
  subject: string;
  list: string;
  commitment: string | null;
  statement: string | null;
  requested_at: number;
  state: Restoration["state"];
  decided_at: number | null;
  decided_by: string | null;
  reasons: string | null;
  legal_basis: string;
}

/** A Notice row as stored. */
export interface NoticeRow {
  seq: number;
  body: string;
}

/** The SignOff a row holds. */
export const toSignOff = (r: SignOffRow): SignOff => ({
  entry: r.entry,
  subject: r.subject,
  list: r.list,
  tier: r.tier,
  record: r.record,
  rule: r.rule,
  requestedAt: r.requested_at,
  state: r.state,
  decidedAt: r.decided_at,
  decidedBy: r.decided_by,
  reasons: r.reasons,
});

/** The Objection a row holds. */
export const toObjection = (r: ObjectionRow): Objection => ({
  id: r.id,
  subject: r.subject,
  record: r.record,
  statement: r.statement,
  evidenceRef: r.evidence_ref,
  filedAt: r.filed_at,
  dueAt: r.due_at,
  state: r.state,
  decidedAt: r.decided_at,
  decidedBy: r.decided_by,
  reasons: r.reasons,
  outcome: r.outcome,
});

/** The Restoration a row holds. */
export const toRestoration = (r: RestorationRow): Restoration => ({
  id: r.id,
  subject: r.subject,
  list: r.list,
  commitment: r.commitment,
  statement: r.statement,
  requestedAt: r.requested_at,
  state: r.state,
  decidedAt: r.decided_at,
  decidedBy: r.decided_by,
  reasons: r.reasons,
  legalBasis: r.legal_basis,
});

/** The Notice a row holds. */
export const toNotice = (r: NoticeRow): Notice => ({ seq: r.seq, ...(JSON.parse(r.body) as NoticeDraft) });
