// An enforcer's question "does measure M apply to subject S now?", answered from a status with reasons and nothing more.
import type { Status } from "./evaluate.js";

/** One reason a measure applies: the list or grade behind it, the records, and the law. */
export interface CheckReason {
  /** A stable code an enforcer can act on, e.g. "list:dishonest-judgment-debtors" or "grade:D". */
  code: string;
  list?: string;
  grade?: string;
  since: string | null;
  until: string | null;
  records: string[];
  /** Those of `records` the subject has objected to, not yet decided: the enforcer is told the reason is contested. */
  disputed: string[];
  legalBasis: string[];
}

export interface CheckDecision {
  subject: string;
  measure: string;
  applies: boolean;
  at: string;
  reasons: CheckReason[];
}

/** Decides a check from a status (or the part of it that matters) already evaluated at the instant asked about. */
export function decide(status: Pick<Status, "subject" | "at" | "measures">, measure: string): CheckDecision {
  const reasons: CheckReason[] = [];
  for (const m of status.measures) {
    if (m.measure !== measure) continue;
    // Two literals rather than one with a spread: checks are the hottest path there is.
    const disputed = m.disputed ?? [];
    if ("list" in m.trigger) reasons.push({ code: `list:${m.trigger.list}`, list: m.trigger.list, since: m.since, until: m.until, records: m.records, disputed, legalBasis: m.legalBasis });
    else reasons.push({ code: `grade:${m.trigger.grade}`, grade: m.trigger.grade, since: m.since, until: m.until, records: m.records, disputed, legalBasis: m.legalBasis });
  }
  return { subject: status.subject, measure, applies: reasons.length > 0, at: status.at, reasons };
}
