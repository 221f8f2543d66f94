// A subject's objection to a record, and the reviewer's decision: uphold (the record is corrected or retracted) or dismiss with reasons.
import { randomUUID } from "node:crypto";
import { isOverdue, type Objection } from "../core/due-process.js";
import { parseRecordInput, type RecordOp } from "../core/record-input.js";
import { addDuration, formatInstant } from "../core/time.js";
import type { ReviewQuery } from "../storage/store.js";
import type { AppContext } from "./context.js";
import { invalidInput, UserError, type FieldProblem } from "./errors.js";
import { reassess, requireReasons, stepAudit, stepNotice } from "./reviews.js";
import { evaluatorAt, newDecisionId, requireSubject, type Audited } from "./statuses.js";

/** An objection as shown: with whether it is past its deadline now. */
export type ObjectionView = Objection & { overdue: boolean };

/** An objection with whether it is past its deadline at `at`. */
export const objectionView = (o: Objection, at: number): ObjectionView => ({ ...o, overdue: isOverdue(o, at) });

/** What a subject sends to object. */
export interface ObjectionInput {
  record: string;
  statement: string;
  evidenceRef?: string;
}

/**
 * Files an objection to one of the subject's records: the record is marked disputed wherever it shows (explanations,
 * checks) until a reviewer decides, within the review period.
 */
export async function fileObjection(ctx: AppContext, actor: string, rawSubject: string, input: ObjectionInput): Promise<Audited<{ objection: ObjectionView }>> {
  const ruleset = await ctx.requireRuleset();
  const subject = requireSubject(rawSubject);
  const problems: FieldProblem[] = [];
  const statement = input.statement.trim();
  if (!statement) problems.push({ pointer: "/statement", detail: "say what is wrong with the record" });
  if (statement.length > 10_000) problems.push({ pointer: "/statement", detail: "longer than 10,000 characters" });
  if (problems.length > 0) throw invalidInput("the objection is incomplete", problems);
  const at = ctx.clock.now();
  const decisionId = newDecisionId();
  const objection = await ctx.store.transaction(async (tx) => {
    const record = await tx.getRecord(input.record);
    if (!record || record.subject !== subject.id) {
      throw new UserError(`no record ${input.record} in the file of ${subject.id}`, [], "not-found", [{ pointer: "/record", detail: "not a record of this subject" }]);
    }
    if (record.state === "retracted") throw new UserError(`record ${input.record} was already retracted: it has no effect left to object to`, [], "conflict");
    const [open] = await tx.objections({ subject: subject.id, state: "open", limit: 1000 }).then((os) => os.filter((o) => o.record === input.record));
    if (open) throw new UserError(`record ${input.record} already has an open objection (${open.id}), due ${formatInstant(open.dueAt)}`, [], "conflict");
    const o: Objection = {
      id: randomUUID(),
      subject: subject.id,
      record: input.record,
      statement,
      evidenceRef: input.evidenceRef?.trim() || null,
      filedAt: at,
      dueAt: addDuration(at, ctx.options.reviewPeriod),
      state: "open",
      decidedAt: null,
      decidedBy: null,
      reasons: null,
      outcome: null,
    };
    await tx.putObjection(o);
    await reassess(tx, ruleset, subject.id, at);
    await tx.appendNotices([
      stepNotice(
        "objection-received",
        subject.id,
        at,
        { summary: `Your objection to record ${o.record} was received; a reviewer decides by ${formatInstant(o.dueAt).slice(0, 10)}.`, reason: "Until then the record is marked disputed wherever it is shown, also to enforcers." },
        { records: [o.record], deadline: o.dueAt, detail: { objection: o.id } },
      ),
    ]);
    await tx.appendAudit([stepAudit(actor, "objection.file", subject.id, decisionId, at, { objection: o.id, record: o.record })]);
    return o;
  });
  return { objection: objectionView(objection, at), decisionId };
}

/** Objections matching a filter, with their overdue flag. */
export async function listObjections(ctx: AppContext, q: ReviewQuery<Objection["state"]>): Promise<ObjectionView[]> {
  const at = ctx.clock.now();
  return (await ctx.store.objections(q)).map((o) => objectionView(o, at));
}

/** One objection, or not found. */
export async function readObjection(ctx: AppContext, id: string): Promise<ObjectionView> {
  const o = await ctx.store.getObjection(id);
  if (!o) throw new UserError(`no objection ${id}`, [], "not-found");
  return objectionView(o, ctx.clock.now());
}

/** A reviewer's decision; an upheld objection retracts the record unless a correction is given. */
export interface ObjectionDecision {
  decision: "uphold" | "dismiss";
  reasons?: string;
  /** For an upheld objection: the corrected attributes and/or instant, instead of retracting the record. */
  correction?: { attributes?: Record<string, unknown>; occurredAt?: string };
}

/**
 * Decides an objection. Upheld: the record is corrected or retracted in the reviewer's name, the subject re-evaluated,
 * and both the subject and the source told. Dismissed: the record stands, no longer disputed, and the subject is told why.
 */
export async function decideObjection(ctx: AppContext, actor: string, id: string, d: ObjectionDecision): Promise<Audited<{ objection: ObjectionView }>> {
  const ruleset = await ctx.requireRuleset();
  const reasons = requireReasons(d.reasons, d.decision === "uphold" ? "upholding an objection" : "dismissing an objection");
  if (d.decision === "dismiss" && d.correction) throw invalidInput("a dismissed objection corrects nothing", [{ pointer: "/correction", detail: "only with decision uphold" }]);
  const at = ctx.clock.now();
  const decisionId = newDecisionId();
  const objection = await ctx.store.transaction(async (tx) => {
    const o = await tx.getObjection(id);
    if (!o) throw new UserError(`no objection ${id}`, [], "not-found");
    if (o.state !== "open") throw new UserError(`objection ${id} was already ${o.state} on ${formatInstant(o.decidedAt as number)}`, [], "conflict");
    const record = await tx.getRecord(o.record);
    if (!record) throw new Error(`objection ${id} names record ${o.record}, which is not stored`);
    const decided: Objection = {
      ...o,
      state: d.decision === "uphold" ? "upheld" : "dismissed",
      decidedAt: at,
      decidedBy: actor,
      reasons,
      outcome: d.decision === "uphold" ? (d.correction ? "corrected" : "retracted") : null,
    };
    // Stored first, so that the re-evaluation no longer counts the record as disputed.
    await tx.putObjection(decided);
    if (d.decision === "dismiss" || record.state === "retracted") {
      await reassess(tx, ruleset, o.subject, at);
    } else {
      let op: RecordOp;
      if (d.correction) {
        const raw = {
          op: "correct",
          source: record.source,
          externalId: record.externalId,
          subject: record.subject,
          category: record.category,
          occurredAt: d.correction.occurredAt ?? formatInstant(record.occurredAt),
          attributes: { ...record.attributes, ...(d.correction.attributes ?? {}) },
          legalRef: record.legalRef,
          ...(record.evidenceRef ? { evidenceRef: record.evidenceRef } : {}),
        };
        const parsed = parseRecordInput(raw, { ruleset, now: at });
        if ("error" in parsed) throw invalidInput(`the correction makes an invalid record: ${parsed.error}`, [{ pointer: "/correction", detail: parsed.error }]);
        op = parsed;
      } else {
        op = { op: "retract", id: record.id, source: record.source, externalId: record.externalId, reason: `objection ${id} upheld: ${reasons}` };
      }
      const [outcome] = await tx.writeRecords([op], evaluatorAt(ruleset, at), at);
      if (!outcome || outcome.kind === "rejected") throw new UserError(`the record could not be changed: ${outcome && "reason" in outcome ? outcome.reason : "no outcome"}`, [], "conflict");
      await tx.appendAudit([stepAudit(actor, `record.${outcome.kind}`, o.subject, decisionId, at, { record: record.id, objection: id })]);
    }
    const upheld = d.decision === "uphold";
    await tx.appendNotices([
      stepNotice(
        upheld ? "objection-upheld" : "objection-dismissed",
        o.subject,
        at,
        {
          summary: upheld
            ? `Your objection to record ${o.record} was upheld: the record was ${decided.outcome}, and your status re-evaluated.`
            : `Your objection to record ${o.record} was dismissed: the record stands.`,
          reason: reasons,
        },
        { records: [o.record], objectable: !upheld, detail: { objection: id, outcome: decided.outcome } },
      ),
      ...(upheld
        ? [
            stepNotice(
              "record-corrected-on-objection",
              o.subject,
              at,
              { summary: `Record ${o.record} was ${decided.outcome} after the subject's objection was upheld.`, reason: reasons },
              { records: [o.record], recipient: { source: record.source }, detail: { objection: id, outcome: decided.outcome } },
            ),
          ]
        : []),
    ]);
    await tx.appendAudit([stepAudit(actor, `objection.${d.decision}`, o.subject, decisionId, at, { objection: id, record: o.record, reasons, outcome: decided.outcome })]);
    return decided;
  });
  return { objection: objectionView(objection, at), decisionId };
}
