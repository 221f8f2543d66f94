// Reading statuses and answering checks, each read audited, keeping the materialised statuses current: on read, by a sweep, and by a full rescore.
import { randomUUID } from "node:crypto";
import { decide, type CheckDecision } from "../core/check.js";
import { evaluate, type Status } from "../core/evaluate.js";
import type { Ruleset } from "../core/rulebook/ruleset.js";
import { parseSubjectId, type Subject } from "../core/subject-id.js";
import { formatInstant, type Instant } from "../core/time.js";
import type { RecordRevision, StatusSummary, StoredMeasures, StoredRecord, StoreTx, SubjectEvaluator } from "../storage/store.js";
import { checkEntry } from "./check-audit.js";
import type { AppContext } from "./context.js";
import { invalidInput, UserError, type FieldProblem } from "./errors.js";

/** Parses a subject ID typed by a user, or refuses it with the reason. */
export function requireSubject(raw: string): Subject {
  const r = parseSubjectId(raw);
  if (!r.ok) throw new UserError(`invalid subject ID: ${r.reason}`);
  return r.subject;
}

/** A fresh id for one audited decision, carried by the response and the audit entry alike. */
export const newDecisionId = (): string => randomUUID();

/** An evaluator bound to a ruleset and an instant, in the shape the store calls inside its transactions. */
export function evaluatorAt(ruleset: Ruleset, at: Instant): SubjectEvaluator {
  return (id, records, facts) => {
    const parsed = parseSubjectId(id);
    if (!parsed.ok) throw new Error(`stored subject ${id} is not a valid ID: ${parsed.reason}`);
    // Stores keep no explanation (it is re-derived on read), so none is worked out.
    return evaluate(ruleset, parsed.subject, records, at, facts, { explain: false });
  };
}

/** Whether a stored status, made under `rulesetHash` for its validity interval, still holds under the ruleset at `at`. */
function holds(stored: { rulesetHash: string; validFrom: Instant | null; validUntil: Instant | null }, ruleset: Ruleset, at: Instant): boolean {
  return stored.rulesetHash === ruleset.hash && (stored.validFrom === null || stored.validFrom <= at) && (stored.validUntil === null || at < stored.validUntil);
}

/** The status of a subject at an instant, without explanation: the stored one while it holds, re-evaluated and saved once it has run out. */
export async function summaryIn(tx: StoreTx, ruleset: Ruleset, subject: Subject, at: Instant): Promise<StatusSummary> {
  let row = await tx.getStatus(subject.id);
  if (!row || !holds({ rulesetHash: row.status.rulesetHash, validFrom: row.validFrom, validUntil: row.validUntil }, ruleset, at)) {
    await tx.refreshStatuses([subject.id], evaluatorAt(ruleset, at));
    row = await tx.getStatus(subject.id);
  }
  // A subject nobody reported on has the base status; nothing is stored for it.
  if (!row) return evaluate(ruleset, subject, [], at).status;
  return { ...row.status, at: formatInstant(at) };
}

/**
 * A subject's measures at an instant from what the store holds of its status (`row`), read without the rest of the
 * status unless it has to be re-evaluated.
 */
function measuresFrom(tx: StoreTx, ruleset: Ruleset, subject: Subject, at: Instant, row: StoredMeasures | undefined): Pick<Status, "subject" | "at" | "measures"> | Promise<StatusSummary> {
  // Every write stores the status of each subject it touches, so no stored status means no active record: the base status.
  if (!row) return { subject: subject.id, at: formatInstant(at), measures: baseMeasures(ruleset, subject, at) };
  if (holds(row, ruleset, at)) {
    return { subject: subject.id, at: formatInstant(at), measures: row.measures };
  }
  return summaryIn(tx, ruleset, subject, at);
}

// The measures of subjects nobody reported on, most of those an enforcer asks about: without records they depend on
// nothing but the jurisdiction, the kind of subject and the birth date (when the subject comes of age), and they hold
// for the evaluation's validity interval, as a stored status does. Found by birth date first, a string every parsed
// subject already holds, rather than by a key built and hashed on every check.
interface BaseMeasures extends StoredMeasures {
  jurisdiction: string;
  kind: Subject["kind"];
}
const BASE = new Map<string, BaseMeasures[]>();
const MAX_BASE = 10_000;

/** The measures of a subject with no active record at `at`: evaluated once per jurisdiction, kind and birth date while they hold. */
function baseMeasures(ruleset: Ruleset, subject: Subject, at: Instant): Status["measures"] {
  const jurisdiction = ruleset.jurisdictionFor(subject.region).id;
  const born = subject.birthDate ?? "";
  let alike = BASE.get(born);
  const i = alike?.findIndex((b) => b.jurisdiction === jurisdiction && b.kind === subject.kind) ?? -1;
  const known = alike?.[i];
  if (known && holds(known, ruleset, at)) return known.measures;
  const e = evaluate(ruleset, subject, [], at, undefined, { explain: false });
  const fresh: BaseMeasures = { jurisdiction, kind: subject.kind, rulesetHash: ruleset.hash, validFrom: e.validFrom, validUntil: e.validUntil, measures: e.status.measures };
  if (alike === undefined) {
    if (BASE.size >= MAX_BASE) BASE.clear();
    BASE.set(born, (alike = []));
  }
  if (i >= 0) alike[i] = fresh;
  else alike.push(fresh);
  return e.status.measures;
}

/**
 * A subject's status with its explanation, inside a transaction. The stored status is brought up to date; the
 * explanation is derived from the active records (those given, or read) and the reviewers' decisions, as the stored
 * status was.
 */
export async function explainedStatus(tx: StoreTx, ruleset: Ruleset, subject: Subject, at: Instant, records?: readonly StoredRecord[]): Promise<Status> {
  await summaryIn(tx, ruleset, subject, at);
  const active = (records ?? (await tx.recordsOf(subject.id))).filter((r) => r.state === "active");
  return evaluate(ruleset, subject, active, at, await tx.caseFactsOf(subject.id)).status;
}

/** A result and the id of the audit entry that recorded it. */
export type Audited<T> = T & { decisionId: string };

/** A subject's status and explanation, the read recorded in the audit log in the same transaction. */
export async function readStatus(ctx: AppContext, actor: string, rawId: string): Promise<Audited<{ status: Status }>> {
  const ruleset = await ctx.requireRuleset();
  const subject = requireSubject(rawId);
  const at = ctx.clock.now();
  const decisionId = newDecisionId();
  const status = await ctx.store.transaction(async (tx) => {
    const s = await explainedStatus(tx, ruleset, subject, at);
    await tx.appendAudit([{ actor, action: "subject.read", subject: subject.id, decisionId, at, detail: { score: s.score, grade: s.grade } }]);
    return s;
  });
  return { status, decisionId };
}

/** Which of a subject's records a reader may see. */
export type RecordFilter = "all" | { source: string };

/** A subject's records (retracted ones marked), as far as the reader may see them; the read is audited. */
export async function readRecords(ctx: AppContext, actor: string, rawId: string, filter: RecordFilter): Promise<Audited<{ records: StoredRecord[] }>> {
  const subject = requireSubject(rawId);
  const at = ctx.clock.now();
  const decisionId = newDecisionId();
  const records = await ctx.store.transaction(async (tx) => {
    const all = await tx.recordsOf(subject.id);
    const seen = filter === "all" ? all : all.filter((r) => r.source === filter.source);
    await tx.appendAudit([
      { actor, action: "subject.records.read", subject: subject.id, decisionId, at, detail: { records: seen.length, ...(filter === "all" ? {} : { source: filter.source }) } },
    ]);
    return seen;
  });
  return { records, decisionId };
}

/**
 * One record and its history, if the reader may see it; audited. A record the reader may not see is reported as
 * not found, so that a key cannot learn what other sources hold.
 */
export async function readRecord(ctx: AppContext, actor: string, id: string, visible: (r: StoredRecord) => boolean): Promise<Audited<{ record: StoredRecord; history: RecordRevision[] }>> {
  const decisionId = newDecisionId();
  return ctx.store.transaction(async (tx) => {
    const record = await tx.getRecord(id);
    if (!record || !visible(record)) throw new UserError(`no record ${id} that this key may read`, [], "not-found");
    const history = await tx.recordHistory(id);
    await tx.appendAudit([{ actor, action: "record.read", subject: record.subject, decisionId, at: ctx.clock.now(), detail: { record: id } }]);
    return { record, history, decisionId };
  });
}

/** One enforcer question. */
export interface CheckRequest {
  subject: string;
  measure: string;
}

/**
 * Answers "does measure M apply to subject S now?" for each pair, all at one instant, each decision audited
 * in the same transaction. Every pair is validated first: one bad pair refuses the batch, naming it, before any work.
 */
export async function checkMany(ctx: AppContext, actor: string, requests: readonly CheckRequest[], pointer = (i: number) => `/${i}`): Promise<Audited<CheckDecision>[]> {
  const ruleset = ctx.rulesetNow() ?? (await ctx.requireRuleset());
  const problems: FieldProblem[] = [];
  const subjects = requests.map((r, i) => {
    const parsed = parseSubjectId(r.subject);
    if (!parsed.ok) problems.push({ pointer: `${pointer(i)}/subject`, detail: `invalid subject ID: ${parsed.reason}` });
    if (!ruleset.measures.has(r.measure)) problems.push({ pointer: `${pointer(i)}/measure`, detail: `unknown measure ${r.measure}; the active rulebook has: ${[...ruleset.measures.keys()].sort().join(", ")}` });
    return parsed.ok ? parsed.subject : undefined;
  });
  if (problems.length > 0) {
    throw invalidInput(requests.length === 1 ? (problems[0] as FieldProblem).detail : `${problems.length} problem${problems.length === 1 ? "" : "s"} in the checks; none was answered`, problems);
  }
  const at = ctx.clock.now();
  return ctx.grouped.run(async (tx) => {
    const decisions: Audited<CheckDecision>[] = [];
    const rows = await tx.getMeasuresMany(requests.map((_, i) => (subjects[i] as Subject).id));
    for (let i = 0; i < requests.length; i++) {
      // Awaited only when the status had to be re-evaluated: a thousand awaits cost a batch more than its lookups.
      const measures = measuresFrom(tx, ruleset, subjects[i] as Subject, at, rows[i]);
      const d = decide(measures instanceof Promise ? await measures : measures, (requests[i] as CheckRequest).measure);
      // Spelled out: V8 copies a spread object with a member added several times slower, and this runs per decision.
      decisions.push({ subject: d.subject, measure: d.measure, applies: d.applies, at: d.at, reasons: d.reasons, decisionId: newDecisionId() });
    }
    return { value: decisions, audit: [checkEntry(actor, at, decisions, newDecisionId)] };
  });
}

/** One check; a wrong subject or measure is refused with checkMany's message naming it. */
export async function check(ctx: AppContext, actor: string, rawId: string, measure: string): Promise<Audited<CheckDecision>> {
  return (await checkMany(ctx, actor, [{ subject: rawId, measure }]))[0] as Audited<CheckDecision>;
}

/** Progress callback for long runs: done out of total. */
export type Progress = (done: number, total: number) => void;

const PAGE = 1000;

/** Re-evaluates every subject under the active ruleset, page by page; for after a rulebook change. */
export async function rescore(ctx: AppContext, progress?: Progress): Promise<{ subjects: number }> {
  const ruleset = await ctx.requireRuleset();
  const evaluator = evaluatorAt(ruleset, ctx.clock.now());
  // Counting every subject is a pass of its own: done only for someone watching.
  const total = progress ? (await ctx.store.counts()).subjects : 0;
  progress?.(0, total);
  let done = 0;
  let cursor: string | null = null;
  for (;;) {
    const page = await ctx.store.subjectsAfter(cursor, PAGE);
    if (page.length === 0) break;
    await ctx.store.refreshStatuses(page, evaluator, { wholeRange: true });
    done += page.length;
    cursor = page[page.length - 1] as string;
    progress?.(done, total);
  }
  return { subjects: done };
}

/** Re-evaluates the statuses that have run out by now, or that an older ruleset made: what changes by itself with time. */
export async function sweep(ctx: AppContext, progress?: Progress): Promise<{ subjects: number }> {
  const ruleset = await ctx.requireRuleset();
  const at = ctx.clock.now();
  const evaluator = evaluatorAt(ruleset, at);
  let done = 0;
  let cursor: string | null = null;
  for (;;) {
    const due = await ctx.store.dueSubjects(at, ruleset.hash, cursor, PAGE);
    if (due.length === 0) break;
    // Through a transaction of the store's own: the sweep runs in the server, where waiting for another process's write
    // lock (an import beside it) must not block the thread. A rescore, run from the command line, need not.
    await ctx.store.transaction((tx) => tx.refreshStatuses(due, evaluator));
    done += due.length;
    cursor = due[due.length - 1] as string;
    progress?.(done, done);
  }
  return { subjects: done };
}
