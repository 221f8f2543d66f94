// How check decisions are written to the audit log and read back from it: one entry per request, or one entry for the
// single checks of one key answered in the same commit.
import type { AuditDraft } from "../core/audit.js";
import type { CheckDecision } from "../core/check.js";
import type { Instant } from "../core/time.js";

/** A decision as audited: with the id its answer carried. */
type AuditedDecision = CheckDecision & { decisionId: string };

/** One decision as listed in an entry that holds several. */
export interface LoggedCheck {
  decisionId: string;
  subject: string;
  /** When it differs from the entry's own instant: single checks answered together were each asked at their own. */
  at?: Instant;
  [field: string]: unknown;
}

/**
 * What a check decision's audit entry says of it: the outcome and reason codes, never the score or the records. Keys
 * here, in a batch's decisions and in folded single checks below are in the order the hash's canonical form puts
 * them, so that the entry is written for hashing in one call (see canonicalJson).
 */
const checkDetail = (d: CheckDecision) => ({ applies: d.applies, measure: d.measure, reasons: d.reasons.map((x) => x.code) });

/**
 * The audit entry of one check request. A batch (a flight's passengers) is one `check.batch` entry holding every
 * decision with its own id, indexed under each subject it concerns: one entry per decision would cost more than the
 * decisions themselves. The batch's entry gets an id of its own from `batchId`; a single check's entry has its decision's.
 */
export function checkEntry(actor: string, at: Instant, decisions: readonly AuditedDecision[], batchId: () => string): AuditDraft {
  const [only] = decisions;
  if (decisions.length === 1 && only) return { actor, action: "check", subject: only.subject, decisionId: only.decisionId, at, detail: checkDetail(only) };
  return {
    actor,
    action: "check.batch",
    subject: null,
    decisionId: batchId(),
    at,
    detail: { checks: decisions.map((d) => ({ applies: d.applies, decisionId: d.decisionId, measure: d.measure, reasons: d.reasons.map((x) => x.code), subject: d.subject })), subjects: [...new Set(decisions.map((d) => d.subject))] },
  };
}

/**
 * Folds the single checks of each key in a group commit into one `check` entry per key, listing each decision with its
 * own id and instant, as a batch does. Under load a commit carries dozens of single checks; chaining, hashing and
 * indexing one entry instead of dozens is most of what a check costs. Every other entry passes unchanged, in order; a
 * key's folded entry takes the place of its first check.
 */
export function foldSingleChecks(drafts: readonly AuditDraft[], groupId: () => string): AuditDraft[] {
  const singles = new Map<string, AuditDraft[]>();
  for (const d of drafts) {
    if (d.action !== "check" || d.subject === null) continue;
    const mine = singles.get(d.actor);
    if (mine) mine.push(d);
    else singles.set(d.actor, [d]);
  }
  if ([...singles.values()].every((mine) => mine.length === 1)) return [...drafts];
  const out: AuditDraft[] = [];
  for (const d of drafts) {
    const mine = d.action === "check" && d.subject !== null ? singles.get(d.actor) : undefined;
    if (!mine || mine.length === 1) {
      out.push(d);
      continue;
    }
    if (mine[0] !== d) continue;
    const at = d.at;
    out.push({
      actor: d.actor,
      action: "check",
      subject: null,
      decisionId: groupId(),
      at,
      detail: { checks: mine.map((c) => loggedSingle(c, at)), subjects: [...new Set(mine.map((c) => c.subject as string))] },
    });
  }
  return out;
}

/** A single check's entry as one decision of a folded entry, spelled out in canonical key order (see checkDetail). */
function loggedSingle(c: AuditDraft, at: Instant): LoggedCheck {
  const d = c.detail as ReturnType<typeof checkDetail>;
  const subject = c.subject as string;
  return c.at === at
    ? { applies: d.applies, decisionId: c.decisionId, measure: d.measure, reasons: d.reasons, subject }
    : { applies: d.applies, at: c.at, decisionId: c.decisionId, measure: d.measure, reasons: d.reasons, subject };
}

/**
 * The decisions an entry lists when it holds several (a batch, or single checks folded together); undefined for an
 * entry about one decision.
 */
export function loggedChecks(entry: Pick<AuditDraft, "subject" | "detail">): LoggedCheck[] | undefined {
  return entry.subject === null && Array.isArray(entry.detail.checks) ? (entry.detail.checks as LoggedCheck[]) : undefined;
}
