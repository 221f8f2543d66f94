// Objections, sign-offs and restoration requests as plain data, and the pure rules that decide what may be asked when.
import { celInput, type CaseFacts, type Status } from "./evaluate.js";
import type { RecordFact } from "./record.js";
import type { CompiledList } from "./rulebook/ruleset.js";
import type { Subject } from "./subject-id.js";
import type { Tier } from "./tiers.js";
import { addDuration, chinaDay, formatInstant, parseDuration, parseInstant, type Duration, type Instant } from "./time.js";

/** How long a reviewer has to decide an objection unless the operator sets otherwise (--review-period). */
export const DEFAULT_REVIEW_PERIOD: Duration = parseDuration("P15D") as Duration;

/** A subject's dispute of one record. */
export interface Objection {
  id: string;
  subject: string;
  record: string;
  statement: string;
  evidenceRef: string | null;
  filedAt: Instant;
  /** When a reviewer must have decided. */
  dueAt: Instant;
  state: "open" | "upheld" | "dismissed";
  decidedAt: Instant | null;
  decidedBy: string | null;
  reasons: string | null;
  /** For an upheld objection: what became of the record. */
  outcome: "retracted" | "corrected" | null;
}

/** A list entry waiting for, or given, a reviewer's approval. */
export interface SignOff {
  entry: string;
  subject: string;
  list: string;
  tier: Tier | null;
  record: string;
  rule: string;
  requestedAt: Instant;
  /** lapsed: the entry ended (its record corrected, retracted, or its term run out) before anyone decided. */
  state: "pending" | "approved" | "rejected" | "lapsed";
  decidedAt: Instant | null;
  decidedBy: string | null;
  reasons: string | null;
}

/** A subject's request to leave a list early. */
export interface Restoration {
  id: string;
  subject: string;
  list: string;
  commitment: string | null;
  statement: string | null;
  requestedAt: Instant;
  state: "pending" | "granted" | "denied";
  decidedAt: Instant | null;
  decidedBy: string | null;
  reasons: string | null;
  legalBasis: string;
}

/** Whether an objection is past its deadline with no decision. */
export function isOverdue(o: Pick<Objection, "state" | "dueAt">, at: Instant): boolean {
  return o.state === "open" && o.dueAt <= at;
}

/** What the evaluator needs of a subject's reviews. */
export function caseFactsOf(signOffs: readonly SignOff[], restorations: readonly Restoration[], objections: readonly Objection[]): CaseFacts {
  return {
    signOffs: new Map(
      signOffs.filter((s) => s.state === "approved" || s.state === "rejected").map((s) => [s.entry, { approved: s.state === "approved", at: s.decidedAt as Instant }]),
    ),
    restorations: restorations.filter((r) => r.state === "granted").map((r) => ({ id: r.id, list: r.list, at: r.decidedAt as Instant, legalBasis: r.legalBasis })),
    disputed: new Set(objections.filter((o) => o.state === "open").map((o) => o.record)),
  };
}

/** Why a restoration cannot be asked yet, and when it can. */
export type Eligibility =
  | { eligible: true }
  | { eligible: false; reasons: string[]; possibleFrom: string | null };

/**
 * Whether a subject may ask to leave a list now: it is on the list, restoration is allowed, the minimum period since
 * entering is served, the required records exist (dated after entering), and a commitment is given if the list asks one.
 */
export function restorationEligibility(
  list: CompiledList,
  status: Pick<Status, "lists">,
  subject: Subject,
  records: readonly RecordFact[],
  commitment: string | null,
  at: Instant,
): Eligibility {
  const membership = status.lists.find((l) => l.list === list.id);
  if (!membership) return { eligible: false, reasons: [`you are not on list ${list.id}`], possibleFrom: null };
  const r = list.restoration;
  if (!r) return { eligible: false, reasons: [`list ${list.id} allows no early restoration; entries end by themselves on ${chinaDay(Date.parse(membership.until))}`], possibleFrom: null };
  const since = parseInstant(membership.since) as Instant;
  const reasons: string[] = [];
  let possibleFrom: Instant | null = null;
  const served = addDuration(since, r.minimumPeriod);
  if (served > at) {
    reasons.push(`the minimum period of ${r.minimumPeriod.text} on the list is served on ${chinaDay(served)} (on the list since ${chinaDay(since)})`);
    possibleFrom = served;
  }
  for (const q of r.records) {
    const found = records.some((rec) => rec.category === q.category && rec.occurredAt >= since && (!q.when || q.when.run(celInput(rec, subject)) === true));
    if (!found) reasons.push(`a record of ${q.category}${q.description ? ` (${q.description})` : ""} dated after entering the list is required`);
  }
  if (r.commitment && !commitment?.trim()) reasons.push("a signed credit commitment is required: send it as commitment");
  if (reasons.length === 0) return { eligible: true };
  // The date is when the period is served; other missing conditions have no date of their own.
  return { eligible: false, reasons, possibleFrom: possibleFrom === null ? null : formatInstant(possibleFrom) };
}
