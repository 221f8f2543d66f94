// What reviewers and subjects share in every due-process step: re-evaluating a subject in the transaction, the notice, the audit entry.
import type { AuditDraft } from "../core/audit.js";
import { howToObject, type NoticeDraft, type NoticeKind } from "../core/notices.js";
import type { Ruleset } from "../core/rulebook/ruleset.js";
import { formatInstant, type Instant } from "../core/time.js";
import type { StoreTx } from "../storage/store.js";
import { UserError } from "./errors.js";
import { evaluatorAt } from "./statuses.js";

/** Re-evaluates one subject inside a transaction: its new status, notices and list membership commit with the decision. */
export function reassess(tx: StoreTx, ruleset: Ruleset, subject: string, at: Instant): Promise<void> {
  return tx.refreshStatuses([subject], evaluatorAt(ruleset, at));
}

/** A notice about a due-process step, to the subject unless another recipient is named. */
export function stepNotice(
  kind: NoticeKind,
  subject: string,
  at: Instant,
  text: { summary: string; reason: string },
  more: { records?: string[]; legalBasis?: string[]; deadline?: Instant | null; objectable?: boolean; recipient?: NoticeDraft["recipient"]; detail?: Record<string, unknown> } = {},
): NoticeDraft {
  return {
    subject,
    recipient: more.recipient ?? { subject },
    kind,
    at,
    summary: text.summary,
    reason: text.reason,
    records: more.records ?? [],
    legalBasis: more.legalBasis ?? [],
    deadline: more.deadline === undefined || more.deadline === null ? null : formatInstant(more.deadline),
    howToObject: more.objectable ? howToObject(subject) : null,
    detail: more.detail ?? {},
  };
}

/** One audit entry of a due-process step. */
export function stepAudit(actor: string, action: string, subject: string, decisionId: string, at: Instant, detail: Record<string, unknown>): AuditDraft {
  return { actor, action, subject, decisionId, at, detail };
}

/** Reasons a reviewer must give, trimmed; refused when empty. */
export function requireReasons(reasons: string | undefined, what: string): string {
  const r = reasons?.trim();
  if (!r) throw new UserError(`${what} needs reasons: say why, for the subject and the audit log`, [], "invalid", [{ pointer: "/reasons", detail: "required" }]);
  if (r.length > 10_000) throw new UserError("reasons are limited to 10,000 characters", [], "invalid", [{ pointer: "/reasons", detail: "longer than 10,000 characters" }]);
  return r;
}
