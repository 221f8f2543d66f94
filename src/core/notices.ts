// What a subject must be told: the notices a change of status produces, with reason, records, legal basis, deadline and how to object.
import type { AwaitingSignOff, ListMembership, MeasureApplication, Status } from "./evaluate.js";
import { addDuration, chinaDay, formatInstant, parseDuration, type Duration, type Instant } from "./time.js";

export const NOTICE_KINDS = [
  "list-entry",
  "list-exit",
  "measure-start",
  "measure-end",
  "grade-change",
  "sign-off-requested",
  "sign-off-rejected",
  "objection-received",
  "objection-upheld",
  "objection-dismissed",
  "record-corrected-on-objection",
  "restoration-requested",
  "restoration-granted",
  "restoration-denied",
] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

/** A notice before it is stored and numbered. */
export interface NoticeDraft {
  /** The subject the notice is about. */
  subject: string;
  /** Who receives it: the subject itself, or a source (told when an objection corrects its record). */
  recipient: { subject: string } | { source: string };
  kind: NoticeKind;
  at: Instant;
  /** One sentence a person understands without the rulebook at hand. */
  summary: string;
  /** Why: the rule, list or decision behind it. */
  reason: string;
  records: string[];
  legalBasis: string[];
  /** The last day to object, or the day a reviewer must decide by; null when no deadline applies. */
  deadline: string | null;
  howToObject: string | null;
  detail: Record<string, unknown>;
}

/** A stored notice, numbered in the order notices were made: the number is also what a receiver deduplicates by. */
export interface Notice extends NoticeDraft {
  seq: number;
}

/**
 * How long a subject has to object to a decision stated in a notice and still have it reviewed before anything else
 * follows: the sixty days the Administrative Reconsideration Law (2023), Art. 20, gives to apply for reconsideration.
 * Later objections are still accepted.
 */
export const OBJECTION_WINDOW: Duration = parseDuration("P60D") as Duration;

/** What a subject is told about how to answer back. */
export function howToObject(subject: string): string {
  return (
    `Object to any record behind this notice: POST /v1/subjects/${subject}/objections with the record id and your statement ` +
    `(or \`social-credit objections file ${subject} RECORD --statement TEXT\` at a credit office). The record is marked disputed ` +
    "everywhere it is shown, and a reviewer decides within the review period. You may also ask for credit restoration " +
    `(POST /v1/subjects/${subject}/restorations) once the list's conditions are met.`
  );
}

// Subjects read dates on China's calendar: an entry from midnight of 10 January (CST) starts on the 10th, not the 9th (UTC).
const day = (iso: string | null) => (iso ? chinaDay(Date.parse(iso)) : "no fixed date");

/**
 * The notices a change from `prev` to `next` calls for: every list entered or left, measure started or ended, entry
 * awaiting sign-off, and change of grade. Pure; `at` is when the change was seen.
 */
export function noticesForChange(prev: Pick<Status, "lists" | "measures" | "grade" | "awaitingSignOff"> | undefined, next: Status, at: Instant): NoticeDraft[] {
  const subject = next.subject;
  const recipient = { subject };
  const deadline = formatInstant(addDuration(at, OBJECTION_WINDOW));
  const out: NoticeDraft[] = [];
  const base = (kind: NoticeKind, summary: string, reason: string, records: string[], legalBasis: string[], detail: Record<string, unknown>, objectable = true): NoticeDraft => ({
    subject,
    recipient,
    kind,
    at,
    summary,
    reason,
    records,
    legalBasis,
    deadline: objectable ? deadline : null,
    howToObject: objectable ? howToObject(subject) : null,
    detail,
  });

  const prevLists = new Map((prev?.lists ?? []).map((l) => [l.list, l]));
  const nextLists = new Map(next.lists.map((l) => [l.list, l]));
  for (const l of next.lists) {
    if (prevLists.has(l.list)) continue;
    out.push(base("list-entry", `You were entered on the ${l.name} from ${day(l.since)} until ${day(l.until)} at the latest.`, listReason(l), l.records, l.legalBasis, membershipDetail(l)));
  }
  for (const l of prev?.lists ?? []) {
    if (nextLists.has(l.list)) continue;
    out.push(base("list-exit", `You are no longer on the ${l.name}.`, "The entry ended: its term ran out, an exit condition was met, a restoration was granted, or its record was corrected or retracted.", l.records, l.legalBasis, membershipDetail(l), false));
  }

  const prevMeasures = new Map((prev?.measures ?? []).map((m) => [m.measure, m]));
  const nextMeasures = new Map(next.measures.map((m) => [m.measure, m]));
  for (const m of next.measures) {
    if (prevMeasures.has(m.measure)) continue;
    const what = m.kind === "sanction" ? "now applies to you" : "is now granted to you";
    out.push(base("measure-start", `${m.name} ${what}${m.until ? ` until ${day(m.until)} at the latest` : ""}.`, measureReason(m), m.records, m.legalBasis, measureDetail(m), m.kind === "sanction"));
  }
  for (const m of prev?.measures ?? []) {
    if (nextMeasures.has(m.measure)) continue;
    out.push(base("measure-end", `${m.name} no longer applies to you.`, measureReason(m), m.records, m.legalBasis, measureDetail(m), false));
  }

  const prevAwaiting = new Set((prev?.awaitingSignOff ?? []).map((a) => a.entry));
  for (const a of next.awaitingSignOff) {
    if (prevAwaiting.has(a.entry)) continue;
    out.push(base("sign-off-requested", `An entry on list ${a.list} was proposed; it applies only if a reviewer approves it.`, signOffReason(a), [a.record], a.legalBasis, { entry: a.entry, list: a.list, tier: a.tier, from: a.from, until: a.until }));
  }

  if (prev && prev.grade !== next.grade && prev.grade !== null && next.grade !== null) {
    out.push(base("grade-change", `Your credit grade changed from ${prev.grade} to ${next.grade}.`, "The points in force changed (records added, corrected, retracted or run out).", [], [], { from: prev.grade, to: next.grade, score: next.score }));
  }
  return out;
}

function listReason(l: ListMembership): string {
  return `Record${l.records.length === 1 ? "" : "s"} ${l.records.join(", ")} met the entry rule of the ${l.name} (${l.kind}${l.tier ? `, ${l.tier} tier` : ""}).`;
}

function measureReason(m: MeasureApplication): string {
  return "list" in m.trigger ? `Triggered by list ${m.trigger.list}.` : `Triggered by grade ${m.trigger.grade}.`;
}

function signOffReason(a: AwaitingSignOff): string {
  return `Record ${a.record} met rule ${a.rule}; entries of ${a.tier ?? "this"} tier wait for a reviewer's approval, and no measure applies before.`;
}

function membershipDetail(l: ListMembership): Record<string, unknown> {
  return { list: l.list, tier: l.tier, since: l.since, until: l.until };
}

function measureDetail(m: MeasureApplication): Record<string, unknown> {
  return { measure: m.measure, kind: m.kind, tier: m.tier, trigger: m.trigger, since: m.since, until: m.until };
}
