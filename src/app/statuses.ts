// Reading statuses and answering checks, keeping the materialised statuses current: on read, by a sweep, and by a full rescore.
import { decide, type CheckDecision } from "../core/check.js";
import { evaluate, type Status } from "../core/evaluate.js";
import type { Ruleset } from "../core/rulebook/ruleset.js";
import { parseSubjectId, type Subject } from "../core/subject-id.js";
import { formatInstant, type Instant } from "../core/time.js";
import type { SubjectEvaluator } from "../storage/store.js";
import type { AppContext } from "./context.js";
import { UserError } from "./errors.js";

/** Parses a subject ID typed by a user, or refuses it with the reason. */
export function requireSubject(raw: string): Subject {
  const r = parseSubjectId(raw);
  if (!r.ok) throw new UserError(`invalid subject ID: ${r.reason}`);
  return r.subject;
}

/** An evaluator bound to a ruleset and an instant, in the shape the store calls inside its transactions. */
export function evaluatorAt(ruleset: Ruleset, at: Instant): SubjectEvaluator {
  return (id, records) => {
    const parsed = parseSubjectId(id);
    if (!parsed.ok) throw new Error(`stored subject ${id} is not a valid ID: ${parsed.reason}`);
    return evaluate(ruleset, parsed.subject, records, at);
  };
}

/** The status of a subject at the clock's instant: the stored one while it holds, re-evaluated and saved once it has run out. */
export async function statusOf(ctx: AppContext, rawId: string): Promise<Status> {
  return statusUnder(ctx, await ctx.requireRuleset(), rawId);
}

/** statusOf with the active ruleset already in hand, so a check loads it once. */
async function statusUnder(ctx: AppContext, ruleset: Ruleset, rawId: string): Promise<Status> {
  const subject = requireSubject(rawId);
  const at = ctx.clock.now();
  const fresh = (row: Awaited<ReturnType<typeof ctx.store.getStatus>>) =>
    row !== undefined &&
    row.status.rulesetHash === ruleset.hash &&
    (row.validFrom === null || row.validFrom <= at) &&
    (row.validUntil === null || at < row.validUntil);

  let row = await ctx.store.getStatus(subject.id);
  if (!fresh(row)) {
    await ctx.store.refreshStatuses([subject.id], evaluatorAt(ruleset, at));
    row = await ctx.store.getStatus(subject.id);
  }
  // A subject nobody reported on has the base status; nothing is stored for it.
  if (!row) return evaluate(ruleset, subject, [], at).status;
  return { ...row.status, at: formatInstant(at) };
}

/** Answers "does measure M apply to subject S now?" with reasons. */
export async function check(ctx: AppContext, rawId: string, measure: string): Promise<CheckDecision> {
  const ruleset = await ctx.requireRuleset();
  if (!ruleset.measures.has(measure)) {
    throw new UserError(`unknown measure ${measure}; the active rulebook has: ${[...ruleset.measures.keys()].sort().join(", ")}`);
  }
  return decide(await statusUnder(ctx, ruleset, rawId), measure);
}

/** Progress callback for long runs: done out of total. */
export type Progress = (done: number, total: number) => void;

const PAGE = 1000;

/** Re-evaluates every subject under the active ruleset, page by page; for after a rulebook change. */
export async function rescore(ctx: AppContext, progress?: Progress): Promise<{ subjects: number }> {
  const ruleset = await ctx.requireRuleset();
  const evaluator = evaluatorAt(ruleset, ctx.clock.now());
  const total = (await ctx.store.counts()).subjects;
  progress?.(0, total);
  let done = 0;
  let cursor: string | null = null;
  for (;;) {
    const page = await ctx.store.subjectsAfter(cursor, PAGE);
    if (page.length === 0) break;
    await ctx.store.refreshStatuses(page, evaluator);
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
    await ctx.store.refreshStatuses(due, evaluator);
    done += due.length;
    cursor = due[due.length - 1] as string;
    progress?.(done, done);
  }
  return { subjects: done };
}
