// Importing records: validating each line, applying them in batches with their audit entries, and a receipt that says what became of every line.
import type { AuditDraft } from "../core/audit.js";
import { parseRecordInput, type RecordOp } from "../core/record-input.js";
import type { Ruleset } from "../core/rulebook/ruleset.js";
import type { Instant } from "../core/time.js";
import type { RecordOutcome, SubjectEvaluator } from "../storage/store.js";
import type { AppContext } from "./context.js";
import { describeProblem, invalidInput, UserError, type FieldProblem } from "./errors.js";
import { importContext, prepareLines, type InputLine, type PreparedLine } from "./prepare.js";
import { evaluatorAt, newDecisionId } from "./statuses.js";

export type { InputLine, PreparedLine } from "./prepare.js";

export interface Rejection {
  line: number;
  reason: string;
}

/** What became of an import, line by line. */
export interface Receipt {
  /** The id under which the audit log recorded these writes. */
  decisionId: string;
  accepted: number;
  duplicates: number;
  corrected: number;
  retracted: number;
  rejected: Rejection[];
}

export interface ImportOptions {
  /** The source of every record in the file, when the lines do not name one. */
  source?: string;
  /** Lines per transaction (default: what the store writes best, see Store.importBatchSize). */
  batchSize?: number;
  /** Called after each batch with the number of lines handled so far. */
  onBatch?: (linesDone: number) => void;
  /** Called for each rejected line, with its text: for the file of rejected lines. */
  onReject?: (rejection: Rejection, raw: string) => void;
  /** The receipt's (and audit entries') decision id instead of a fresh one: for runs that must be reproducible, such as a generated city. */
  decisionId?: string;
}

/** Who wrote the operations of a batch: one actor for all, or each operation's own (the feed's sources). */
export type BatchActor = string | ((index: number) => string);

/** A record as an entry of several writes lists it: keys in canonical order, so the entry is hashed in one call. */
export interface LoggedRecord {
  record: string;
  subject: string;
}

/**
 * The audit entries for what a batch changed: for each actor and kind of change (accepted, corrected, retracted), one
 * entry. An entry of several records has no subject of its own; it lists each record with its subject in
 * `detail.records` and the subjects in `detail.subjects`, under which it is found. An entry of one record names its
 * subject, as it always did. Duplicates and refusals write nothing. One entry per record made the audit chain a
 * seventh of an import's time.
 */
function auditOf(actor: BatchActor, decisionId: string, at: Instant, outcomes: readonly RecordOutcome[]): AuditDraft[] {
  const groups = new Map<string, { actor: string; action: string; records: LoggedRecord[] }>();
  outcomes.forEach((o, i) => {
    if (o.kind === "rejected" || o.kind === "duplicate") return;
    const who = typeof actor === "string" ? actor : actor(i);
    const action = `record.${o.kind}`;
    const key = `${action} ${who}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { actor: who, action, records: [] }));
    group.records.push({ record: o.id, subject: o.subject });
  });
  return [...groups.values()].map(({ actor: who, action, records }) => {
    const [only] = records;
    return records.length === 1 && only
      ? { actor: who, action, subject: only.subject, decisionId, at, detail: { record: only.record } }
      : { actor: who, action, subject: null, decisionId, at, detail: { records, subjects: [...new Set(records.map((r) => r.subject))] } };
  });
}

/** The records an entry of written records names, in either shape (one record, or several); undefined for any other entry. */
export function loggedRecords(entry: Pick<AuditDraft, "subject" | "detail">): LoggedRecord[] | undefined {
  if (entry.subject === null) return Array.isArray(entry.detail.records) ? (entry.detail.records as LoggedRecord[]) : undefined;
  return typeof entry.detail.record === "string" ? [{ record: entry.detail.record, subject: entry.subject }] : undefined;
}

/** Writes a batch of operations and their audit entries in one transaction. */
export async function writeAudited(ctx: AppContext, actor: BatchActor, decisionId: string, ops: readonly RecordOp[], evaluate: SubjectEvaluator, at: Instant): Promise<RecordOutcome[]> {
  return ctx.store.transaction(async (tx) => {
    const outcomes = await tx.writeRecords(ops, evaluate, at);
    await tx.appendAudit(auditOf(actor, decisionId, at, outcomes));
    return outcomes;
  });
}

function tally(receipt: Receipt, o: RecordOutcome, line: number, reject: (line: number, reason: string) => void): void {
  if (o.kind === "rejected") reject(line, o.reason);
  else if (o.kind === "accepted") receipt.accepted++;
  else if (o.kind === "duplicate") receipt.duplicates++;
  else if (o.kind === "corrected") receipt.corrected++;
  else receipt.retracted++;
}

/** Imports records line by line, as `actor`. Every line is applied whole or not at all; a bad line never stops the others. */
export async function importRecords(ctx: AppContext, actor: string, lines: AsyncIterable<InputLine>, opts: ImportOptions = {}): Promise<Receipt> {
  const ruleset = await ctx.requireRuleset();
  return importPrepared(ctx, actor, ruleset, prepareLines(lines, importContext(ruleset, ctx.clock.now(), opts)), opts);
}

/**
 * Imports lines already validated (in this thread or a reader thread) against `ruleset`, as `actor`, in batches of
 * the store's size: each batch is written in one transaction with its audit entries. `opts.source` was for validation,
 * and is not read here.
 */
export async function importPrepared(ctx: AppContext, actor: string, ruleset: Ruleset, chunks: AsyncIterable<readonly PreparedLine[]>, opts: ImportOptions = {}): Promise<Receipt> {
  const receipt: Receipt = { decisionId: opts.decisionId ?? newDecisionId(), accepted: 0, duplicates: 0, corrected: 0, retracted: 0, rejected: [] };
  const batchSize = opts.batchSize ?? ctx.store.importBatchSize;
  let batch: { line: number; raw: string; op: RecordOp }[] = [];
  let linesDone = 0;

  const reject = (line: number, reason: string, raw: string) => {
    const r = { line, reason };
    receipt.rejected.push(r);
    opts.onReject?.(r, raw);
  };

  const flush = async () => {
    if (batch.length === 0) return;
    const now = ctx.clock.now();
    const outcomes = await writeAudited(ctx, actor, receipt.decisionId, batch.map((b) => b.op), evaluatorAt(ruleset, now), now);
    outcomes.forEach((o, i) => {
      const b = batch[i] as (typeof batch)[number];
      tally(receipt, o, b.line, (line, reason) => reject(line, reason, b.raw));
    });
    linesDone += batch.length;
    batch = [];
    opts.onBatch?.(linesDone);
  };

  for await (const chunk of chunks) {
    for (const l of chunk) {
      if (l.error !== undefined) {
        reject(l.line, l.error, l.raw);
        linesDone++;
        continue;
      }
      batch.push(l);
      if (batch.length >= batchSize) await flush();
    }
  }
  await flush();
  receipt.rejected.sort((a, b) => a.line - b.line);
  return receipt;
}

/** One submitted record: its position in the request (1-based, the receipt's "line") and whether it came as a line of NDJSON or an array item. */
export interface Submission {
  line: number;
  ndjson: boolean;
  value?: unknown;
  error?: string;
}

const placeOf = (s: Submission, field?: string): FieldProblem =>
  s.ndjson ? { line: s.line, detail: "" } : { pointer: `/${s.line - 1}${field ? `/${field}` : ""}`, detail: "" };

/**
 * Submits records for one source, as an agency does over the API: every record is validated before any is
 * written, and one invalid record refuses the request, naming each problem. Valid records are then written in one
 * transaction with their audit entries; what the store refuses (a conflicting resubmission) is in the receipt.
 */
export async function submitRecords(ctx: AppContext, actor: string, source: string, submissions: readonly Submission[]): Promise<Receipt> {
  const ruleset = await ctx.requireRuleset();
  const now = ctx.clock.now();
  const problems: FieldProblem[] = [];
  const foreign: FieldProblem[] = [];
  const ops: { line: number; op: RecordOp }[] = [];
  for (const s of submissions) {
    if (s.error !== undefined) {
      problems.push({ ...placeOf(s), detail: s.error });
      continue;
    }
    const named = s.value !== null && typeof s.value === "object" ? (s.value as { source?: unknown }).source : undefined;
    if (named !== undefined && named !== source) {
      foreign.push({ ...placeOf(s, "source"), detail: `${s.ndjson ? "source: " : ""}this key reports for ${source}, not ${String(named)}` });
      continue;
    }
    const op = parseRecordInput(s.value, { ruleset, now, defaultSource: source });
    if ("error" in op) problems.push({ ...placeOf(s), detail: op.error });
    else ops.push({ line: s.line, op });
  }
  if (foreign.length > 0) {
    throw new UserError(`${foreign.length} of ${submissions.length} records name another source than this key's (${source}); none was written`, foreign.map(describeProblem), "forbidden", foreign);
  }
  if (problems.length > 0) {
    throw invalidInput(`${problems.length} of ${submissions.length} records are invalid; none was written`, problems);
  }
  const receipt: Receipt = { decisionId: newDecisionId(), accepted: 0, duplicates: 0, corrected: 0, retracted: 0, rejected: [] };
  const outcomes = await writeAudited(ctx, actor, receipt.decisionId, ops.map((o) => o.op), evaluatorAt(ruleset, now), now);
  outcomes.forEach((o, i) => tally(receipt, o, (ops[i] as (typeof ops)[number]).line, (line, reason) => receipt.rejected.push({ line, reason })));
  return receipt;
}
