// A reviewer's sign-off of list entries that wait for one: the queue, and approving or rejecting an entry.
import type { SignOff } from "../core/due-process.js";
import type { ReviewQuery } from "../storage/store.js";
import type { AppContext } from "./context.js";
import { UserError } from "./errors.js";
import { reassess, requireReasons, stepAudit, stepNotice } from "./reviews.js";
import { newDecisionId, type Audited } from "./statuses.js";

/** The sign-offs matching a filter, oldest entry id first. */
export async function listSignOffs(ctx: AppContext, q: ReviewQuery<SignOff["state"]>): Promise<SignOff[]> {
  return ctx.store.signOffs(q);
}

/** One sign-off, or not found. */
export async function readSignOff(ctx: AppContext, entry: string): Promise<SignOff> {
  const s = await ctx.store.getSignOff(entry);
  if (!s) throw new UserError(`no sign-off ${entry}`, [], "not-found");
  return s;
}

/**
 * Approves or rejects a pending entry. An approved entry applies from now (never past its original end), with its
 * list-entry and measure notices; a rejected one never applies, and the subject is told why.
 */
export async function decideSignOff(ctx: AppContext, actor: string, entry: string, decision: { approve: boolean; reasons?: string }): Promise<Audited<{ signOff: SignOff }>> {
  const ruleset = await ctx.requireRuleset();
  const reasons = decision.approve ? decision.reasons?.trim() || null : requireReasons(decision.reasons, "a rejection");
  const at = ctx.clock.now();
  const decisionId = newDecisionId();
  const signOff = await ctx.store.transaction(async (tx) => {
    const s = await tx.getSignOff(entry);
    if (!s) throw new UserError(`no sign-off ${entry}`, [], "not-found");
    if (!(await tx.decideSignOff(entry, decision.approve, at, actor, reasons))) {
      throw new UserError(`sign-off ${entry} is ${s.state}${s.decidedAt ? ` since ${new Date(s.decidedAt).toISOString()}` : ""}; only a pending one can be decided`, [], "conflict");
    }
    await reassess(tx, ruleset, s.subject, at);
    if (!decision.approve) {
      await tx.appendNotices([
        stepNotice("sign-off-rejected", s.subject, at, { summary: `The proposed entry on list ${s.list} was rejected by a reviewer: it does not apply.`, reason: reasons as string }, { records: [s.record], detail: { entry, list: s.list } }),
      ]);
    }
    await tx.appendAudit([stepAudit(actor, decision.approve ? "sign-off.approve" : "sign-off.reject", s.subject, decisionId, at, { entry, list: s.list, record: s.record, ...(reasons ? { reasons } : {}) })]);
    return (await tx.getSignOff(entry)) as SignOff;
  });
  return { signOff, decisionId };
}
