// Records arriving from a message feed: each message one record of the source its subject names, a batch written in one transaction.
import { parseRecordInput, type RecordOp } from "../core/record-input.js";
import type { AppContext } from "./context.js";
import { writeAudited } from "./ingest.js";
import { evaluatorAt, newDecisionId } from "./statuses.js";

/** One message of the feed: the source its subject names, and its payload as received. */
export interface FeedMessage {
  source: string;
  payload: Uint8Array;
}

/** What became of one message: written (or found already written), or refused with the reason, to be dead-lettered. */
export type FeedOutcome =
  | { kind: "accepted" | "duplicate" | "corrected" | "retracted"; record: string; externalId: string }
  | { kind: "rejected"; reason: string; record?: string; externalId?: string };

export interface FeedBatchResult {
  /** The id under which the audit log recorded this batch's writes; receipts carry it. */
  decisionId: string;
  /** One outcome per message, in the order given. */
  outcomes: FeedOutcome[];
}

/** The audit log's actor for records a source sent through the feed. */
export const feedActor = (source: string) => `feed:${source}`;

// Fatal: a payload that is not UTF-8 is refused rather than read with replacement characters.
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Reads one payload into a record operation, or says why it is malformed (naming the field at fault). */
function readMessage(m: FeedMessage, ctx: Parameters<typeof parseRecordInput>[1]): RecordOp | { error: string } {
  let text: string;
  try {
    text = utf8.decode(m.payload);
  } catch {
    return { error: "payload: not UTF-8 text" };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: `payload: not valid JSON (${(e as Error).message})` };
  }
  // Checked here, before validation, so that the reason names the subject rather than "the file's source".
  const named = value !== null && typeof value === "object" && !Array.isArray(value) ? (value as { source?: unknown }).source : undefined;
  if (named !== undefined && named !== m.source) {
    return { error: `source: the record names ${JSON.stringify(named)} but was published on the subject of source ${m.source}` };
  }
  return parseRecordInput(value, { ...ctx, defaultSource: m.source });
}

/**
 * Validates and writes a batch of feed messages: the valid ones in one transaction with their audit entries (actor
 * `feed:<source>`, one per source and kind of change, listing its records), so that the batch is committed whole or
 * not at all and may be acknowledged once this resolves. A record already stored with the same content is a duplicate
 * that changes nothing, which is what makes a redelivered message harmless. Invalid messages and those the store
 * refuses come back as `rejected` with the reason.
 */
export async function ingestFeedBatch(ctx: AppContext, messages: readonly FeedMessage[]): Promise<FeedBatchResult> {
  const ruleset = await ctx.requireRuleset();
  const now = ctx.clock.now();
  const decisionId = newDecisionId();
  const outcomes: FeedOutcome[] = new Array<FeedOutcome>(messages.length);
  const ops: { index: number; op: RecordOp }[] = [];
  messages.forEach((m, index) => {
    const op = readMessage(m, { ruleset, now });
    if ("error" in op) outcomes[index] = { kind: "rejected", reason: op.error };
    else ops.push({ index, op });
  });
  if (ops.length > 0) {
    const sourceOf = (i: number) => (messages[(ops[i] as (typeof ops)[number]).index] as FeedMessage).source;
    const written = await writeAudited(ctx, (i) => feedActor(sourceOf(i)), decisionId, ops.map((o) => o.op), evaluatorAt(ruleset, now), now);
    written.forEach((r, i) => {
      const { index, op } = ops[i] as (typeof ops)[number];
      const externalId = op.op === "retract" ? op.externalId : op.record.externalId;
      outcomes[index] = r.kind === "rejected" ? { kind: "rejected", reason: r.reason, record: r.id, externalId } : { kind: r.kind, record: r.id, externalId };
    });
  }
  return { decisionId, outcomes };
}
