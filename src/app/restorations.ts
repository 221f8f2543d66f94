// Credit restoration: a subject asks to leave a list early, the system checks the list's conditions, a reviewer grants or denies.
import { randomUUID } from "node:crypto";
import { restorationEligibility, type Restoration } from "../core/due-process.js";
import { formatInstant } from "../core/time.js";
import type { ReviewQuery } from "../storage/store.js";
import type { AppContext } from "./context.js";
import { UserError } from "./errors.js";
import { reassess, requireReasons, stepAudit, stepNotice } from "./reviews.js";
import { newDecisionId, requireSubject, summaryIn, type Audited } from "./statuses.js";

/** What a subject sends to ask for restoration. */
export interface RestorationInput {
  list: string;
  commitment?: string;
  statement?: string;
}

/**
 * Asks for early exit from a list. Refused at once, with the reasons and the date it becomes possible, when the
 * conditions are not met (the refusal is audited); otherwise queued for a reviewer.
 */
export async function requestRestoration(ctx: AppContext, actor: string, rawSubject: string, input: RestorationInput): Promise<Audited<{ restoration: Restoration }>> {
  const ruleset = await ctx.requireRuleset();
  const subject = requireSubject(rawSubject);
  const list = ruleset.lists.get(input.list);
  if (!list) throw new UserError(`unknown list ${input.list}`, [], "invalid", [{ pointer: "/list", detail: `not a list of the active rulebook` }]);
  const at = ctx.clock.now();
  const decisionId = newDecisionId();
  const commitment = input.commitment?.trim() || null;
  type Outcome = { refused: { reasons: string[]; possibleFrom: string | null } } | { restoration: Restoration };
  const outcome = await ctx.store.transaction(async (tx): Promise<Outcome> => {
    const status = await summaryIn(tx, ruleset, subject, at);
    const records = (await tx.recordsOf(subject.id)).filter((r) => r.state === "active");
    const eligibility = restorationEligibility(list, status, subject, records, commitment, at);
    if (!eligibility.eligible) {
      // The refusal is a decision too: kept in the audit log, committed although the request is refused.
      await tx.appendAudit([stepAudit(actor, "restoration.refuse", subject.id, decisionId, at, { list: list.id, reasons: eligibility.reasons, possibleFrom: eligibility.possibleFrom })]);
      return { refused: { reasons: eligibility.reasons, possibleFrom: eligibility.possibleFrom } };
    }
    const pending = (await tx.restorations({ subject: subject.id, state: "pending", limit: 1000 })).find((r) => r.list === list.id);
    if (pending) throw new UserError(`a restoration from ${list.id} is already waiting for a reviewer (${pending.id})`, [], "conflict");
    const r: Restoration = {
      id: randomUUID(),
      subject: subject.id,
      list: list.id,
      commitment,
      statement: input.statement?.trim() || null,
      requestedAt: at,
      state: "pending",
      decidedAt: null,
      decidedBy: null,
      reasons: null,
      legalBasis: list.restoration?.legalBasis ?? list.legalBasis,
    };
    await tx.putRestoration(r);
    await tx.appendNotices([
      stepNotice("restoration-requested", subject.id, at, { summary: `Your request to leave list ${list.id} meets its conditions and waits for a reviewer.`, reason: "The minimum period is served and the required conditions are met." }, { detail: { restoration: r.id, list: list.id } }),
    ]);
    await tx.appendAudit([stepAudit(actor, "restoration.request", subject.id, decisionId, at, { restoration: r.id, list: list.id })]);
    return { restoration: r };
  });
  if ("refused" in outcome) {
    const { reasons, possibleFrom } = outcome.refused;
    throw new UserError(
      `restoration from ${list.id} cannot be granted yet: ${reasons.join("; ")}${possibleFrom ? `; it may be asked from ${possibleFrom}` : ""}`,
      reasons,
      "conflict",
      [],
      { ...(possibleFrom ? { possibleFrom } : {}), decisionId },
    );
  }
  return { restoration: outcome.restoration, decisionId };
}

/** Restoration requests matching a filter. */
export async function listRestorations(ctx: AppContext, q: ReviewQuery<Restoration["state"]>): Promise<Restoration[]> {
  return ctx.store.restorations(q);
}

/** One restoration request, or not found. */
export async function readRestoration(ctx: AppContext, id: string): Promise<Restoration> {
  const r = await ctx.store.getRestoration(id);
  if (!r) throw new UserError(`no restoration request ${id}`, [], "not-found");
  return r;
}

/** Grants (every entry of the list ends now, with every measure it triggers) or denies with reasons. */
export async function decideRestoration(ctx: AppContext, actor: string, id: string, d: { grant: boolean; reasons?: string }): Promise<Audited<{ restoration: Restoration }>> {
  const ruleset = await ctx.requireRuleset();
  const reasons = d.grant ? d.reasons?.trim() || null : requireReasons(d.reasons, "denying a restoration");
  const at = ctx.clock.now();
  const decisionId = newDecisionId();
  const restoration = await ctx.store.transaction(async (tx) => {
    const r = await tx.getRestoration(id);
    if (!r) throw new UserError(`no restoration request ${id}`, [], "not-found");
    if (r.state !== "pending") throw new UserError(`restoration ${id} was already ${r.state} on ${formatInstant(r.decidedAt as number)}`, [], "conflict");
    const decided: Restoration = { ...r, state: d.grant ? "granted" : "denied", decidedAt: at, decidedBy: actor, reasons };
    await tx.putRestoration(decided);
    await reassess(tx, ruleset, r.subject, at);
    await tx.appendNotices([
      stepNotice(
        d.grant ? "restoration-granted" : "restoration-denied",
        r.subject,
        at,
        {
          summary: d.grant ? `Your restoration was granted: you left list ${r.list}, and every measure it triggered ended.` : `Your request to leave list ${r.list} was denied.`,
          reason: reasons ?? "The conditions of restoration were met and a reviewer approved.",
        },
        { legalBasis: [r.legalBasis], objectable: !d.grant, detail: { restoration: id, list: r.list } },
      ),
    ]);
    await tx.appendAudit([stepAudit(actor, d.grant ? "restoration.grant" : "restoration.deny", r.subject, decisionId, at, { restoration: id, list: r.list, ...(reasons ? { reasons } : {}) })]);
    return decided;
  });
  return { restoration, decisionId };
}
