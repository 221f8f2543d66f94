// Notices: a subject reads theirs; the outbox delivers each at least once to the configured receiver, retrying with backoff.
import type { Notice } from "../core/notices.js";
import type { AppContext } from "./context.js";
import { newDecisionId, requireSubject, type Audited } from "./statuses.js";

/** A subject's notices after a sequence number, oldest first; the read is audited like any read of the file. */
export async function readNotices(ctx: AppContext, actor: string, rawSubject: string, page: { afterSeq?: number; limit: number }): Promise<Audited<{ notices: Notice[] }>> {
  const subject = requireSubject(rawSubject);
  const at = ctx.clock.now();
  const decisionId = newDecisionId();
  const notices = await ctx.store.transaction(async (tx) => {
    const found = await tx.notices({ subject: subject.id, ...page });
    await tx.appendAudit([{ actor, action: "subject.notices.read", subject: subject.id, decisionId, at, detail: { notices: found.length } }]);
    return found;
  });
  return { notices, decisionId };
}

/** Sends one notice to its receiver; resolves once the receiver has acknowledged it, throws otherwise. */
export type NoticeSender = (notice: Notice) => Promise<void>;

/** The wait before the next attempt after `attempts` failures: doubling from a second, at most an hour. */
export function backoffMs(attempts: number): number {
  return Math.min(3_600_000, 1000 * 2 ** Math.max(0, attempts - 1));
}

/**
 * Delivers the notices that are due, oldest first, one at a time so that a receiver sees them in order, page after
 * page until none is due or one fails. A notice is marked delivered only after the receiver acknowledged it: a crash in
 * between sends it again (at least once).
 */
export async function deliverDue(ctx: AppContext, send: NoticeSender, page = 100): Promise<{ delivered: number; failed: number }> {
  let delivered = 0;
  for (;;) {
    const due = await ctx.store.outboxDue(ctx.clock.now(), page);
    for (const { notice, attempts } of due) {
      try {
        await send(notice);
      } catch (e) {
        await ctx.store.markFailed(notice.seq, e instanceof Error ? e.message : String(e), ctx.clock.now() + backoffMs(attempts + 1));
        // The receiver is down or refusing: later notices would fail the same way and overtake this one.
        return { delivered, failed: 1 };
      }
      await ctx.store.markDelivered(notice.seq, ctx.clock.now());
      delivered++;
    }
    if (due.length < page) return { delivered, failed: 0 };
  }
}
