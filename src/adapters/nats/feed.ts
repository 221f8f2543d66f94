// The NATS JetStream feed: pulls records agencies published, writes each batch in one transaction, dead-letters refusals, then acknowledges.
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type Consumer,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from "@nats-io/jetstream";
import { connect, headers, nanos, type NatsConnection } from "@nats-io/transport-node";
import type { AppContext } from "../../app/context.js";
import { UserError } from "../../app/errors.js";
import { ingestFeedBatch, type FeedMessage, type FeedOutcome } from "../../app/feed.js";
import { feedNames, type FeedNames } from "./names.js";

/** The header a publisher sets to have its receipt sent to a subject of its choosing (a JetStream message's own reply subject is its acknowledgement's). */
export const REPLY_TO_HEADER = "Reply-To";
/** Headers of a dead letter: why it was refused, and where it came from. */
export const DEAD_HEADERS = { reason: "Dead-Reason", subject: "Dead-Subject", seq: "Dead-Stream-Seq" } as const;

const DAY_MS = 86_400_000;

export interface FeedOptions {
  /** The NATS server, e.g. nats://127.0.0.1:4222. */
  url: string;
  /** The durable consumer's name: its position in the stream survives restarts. */
  durable: string;
  /** Messages written per transaction, at most. */
  batch: number;
  /** How long the server waits for an acknowledgement before delivering a message again. */
  ackWaitMs: number;
  /** Prefix of every subject and stream name (see names.ts); "" for the documented names. */
  prefix: string;
  /** How long one fetch waits for a full batch before taking what came (JetStream's minimum is a second). */
  fetchWaitMs?: number;
  /** Aborting stops the feed once the batch in hand is written and acknowledged. */
  signal: AbortSignal;
  /** Progress and refusals, one line each. */
  log(line: string): void;
}

/** What a run of the feed did. */
export interface FeedSummary {
  /** Messages consumed and acknowledged (written, found already written, or dead-lettered). */
  messages: number;
  accepted: number;
  duplicates: number;
  corrected: number;
  retracted: number;
  deadLettered: number;
  batches: number;
  seconds: number;
}

/** A receipt, as published for each message. */
export interface FeedReceipt {
  stream: string;
  seq: number;
  source: string;
  /** The publisher's Nats-Msg-Id, when it set one: to match receipts to what it sent. */
  msgId?: string;
  outcome: FeedOutcome["kind"];
  record?: string;
  externalId?: string;
  reason?: string;
  /** Where the refused message was kept. */
  deadLetter?: string;
  decisionId: string;
}

const isApiError = (e: unknown, code: number) => e instanceof JetStreamApiError && e.code === code;

/** Creates a stream unless it exists; an existing one is left as its operator configured it. */
async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string; subjects: string[] }): Promise<void> {
  try {
    await jsm.streams.info(config.name);
  } catch (e) {
    if (!isApiError(e, JetStreamApiCodes.StreamNotFound)) throw e;
    await jsm.streams.add(config);
  }
}

/** The three streams of the feed, created on first use. */
export async function ensureFeedStreams(jsm: JetStreamManager, names: FeedNames): Promise<void> {
  await ensureStream(jsm, {
    name: names.recordsStream,
    subjects: [names.recordsFilter],
    // The database is the system of record once a message is committed and acknowledged: the queue need not keep it.
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
  });
  await ensureStream(jsm, {
    name: names.deadStream,
    subjects: [names.deadFilter],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    // A dead letter's id is the refused message's stream sequence: one redelivered after a crash, even a day later, is not kept twice.
    duplicate_window: nanos(DAY_MS),
  });
  await ensureStream(jsm, {
    name: names.receiptsStream,
    subjects: [names.receiptsFilter],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(7 * DAY_MS),
  });
}

/**
 * Creates the durable pull consumer, or brings an existing one to the given ack wait and batch. At most one batch is
 * unacknowledged at a time (max_ack_pending), so a batch's redelivery comes before any later message.
 */
export async function ensureFeedConsumer(jsm: JetStreamManager, names: FeedNames, durable: string, batch: number, ackWaitMs: number): Promise<ConsumerInfo> {
  const tuned = { ack_wait: nanos(ackWaitMs), max_ack_pending: batch };
  try {
    const info = await jsm.consumers.info(names.recordsStream, durable);
    if (info.config.ack_wait === tuned.ack_wait && info.config.max_ack_pending === tuned.max_ack_pending) return info;
    return await jsm.consumers.update(names.recordsStream, durable, tuned);
  } catch (e) {
    if (!isApiError(e, JetStreamApiCodes.ConsumerNotFound)) throw e;
    const config: Partial<ConsumerConfig> = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: names.recordsFilter,
      // A message is tried until it is written or dead-lettered: a database that is down must not lose it.
      max_deliver: -1,
      ...tuned,
    };
    return await jsm.consumers.add(names.recordsStream, config);
  }
}

/** A header value on one line: NATS headers cannot hold line breaks. */
const oneLine = (s: string) => s.replace(/[\r\n]+/g, " ");

/** Resolves after `ms`, or at once when the signal is aborted. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

/**
 * Consumes one batch: write, dead-letter the refused, publish receipts, then acknowledge. Returns each message's
 * outcome, or undefined for a refused one that could not be dead-lettered and will be delivered again.
 */
async function handleBatch(ctx: AppContext, nc: NatsConnection, js: JetStreamClient, names: FeedNames, msgs: readonly JsMsg[], log: (s: string) => void): Promise<(FeedOutcome | undefined)[]> {
  const sources = msgs.map((m) => names.sourceOf(m.subject));
  const routable: { index: number; message: FeedMessage }[] = [];
  sources.forEach((source, index) => {
    if (source !== undefined) routable.push({ index, message: { source, payload: (msgs[index] as JsMsg).data } });
  });
  let result;
  try {
    result = await ingestFeedBatch(ctx, routable.map((r) => r.message));
  } catch (e) {
    // Nothing was committed: have the batch delivered again at once, then let the caller stop on the error.
    for (const m of msgs) m.nak();
    throw e;
  }
  const outcomes: FeedOutcome[] = msgs.map((m) => ({ kind: "rejected", reason: `subject: ${m.subject} is not ${names.records("<source>")}` }));
  routable.forEach((r, i) => (outcomes[r.index] = result.outcomes[i] as FeedOutcome));

  // Refused messages are kept in the dead-letter stream before their originals are acknowledged: never dropped.
  const kept = await Promise.all(
    msgs.map(async (m, i) => {
      const o = outcomes[i] as FeedOutcome;
      if (o.kind !== "rejected") return true;
      const h = headers();
      h.set(DEAD_HEADERS.reason, oneLine(o.reason));
      h.set(DEAD_HEADERS.subject, m.subject);
      h.set(DEAD_HEADERS.seq, String(m.seq));
      const replyTo = m.headers?.get(REPLY_TO_HEADER);
      if (replyTo) h.set(REPLY_TO_HEADER, replyTo);
      try {
        await js.publish(names.dead(sources[i] ?? "unknown"), m.data, { msgID: `${names.recordsStream}:${m.seq}`, headers: h });
        log(`dead-lettered ${m.subject} #${m.seq}: ${o.reason}`);
        return true;
      } catch (e) {
        log(`could not dead-letter ${m.subject} #${m.seq} (${(e as Error).message}); it will be delivered again`);
        return false;
      }
    }),
  );

  return msgs.map((m, i) => {
    const o = outcomes[i] as FeedOutcome;
    if (!kept[i]) {
      m.nak(1000);
      return undefined;
    }
    const msgId = m.headers?.get("Nats-Msg-Id");
    const source = sources[i] ?? "unknown";
    const receipt: FeedReceipt = {
      stream: names.recordsStream,
      seq: m.seq,
      source,
      ...(msgId ? { msgId } : {}),
      outcome: o.kind,
      ...("record" in o && o.record !== undefined ? { record: o.record } : {}),
      ...("externalId" in o && o.externalId !== undefined ? { externalId: o.externalId } : {}),
      ...(o.kind === "rejected" ? { reason: o.reason, deadLetter: names.dead(source) } : {}),
      decisionId: result.decisionId,
    };
    const body = JSON.stringify(receipt);
    const replyTo = m.headers?.get(REPLY_TO_HEADER);
    try {
      nc.publish(replyTo || names.receipts(source), body);
    } catch (e) {
      // A Reply-To that is no subject must not stop the acknowledgement of a committed record, or it would come back forever.
      log(`cannot send the receipt of ${m.subject} #${m.seq} to ${JSON.stringify(replyTo)} (${(e as Error).message}); sent to ${names.receipts(source)}`);
      nc.publish(names.receipts(source), body);
    }
    m.ack();
    return o;
  });
}

/** Adds a batch's outcomes to the running totals; undefined ones (handed back to the server) are not counted. */
function tallyInto(summary: FeedSummary, outcomes: readonly (FeedOutcome | undefined)[]): void {
  summary.batches++;
  for (const o of outcomes) {
    if (o === undefined) continue;
    summary.messages++;
    if (o.kind === "accepted") summary.accepted++;
    else if (o.kind === "duplicate") summary.duplicates++;
    else if (o.kind === "corrected") summary.corrected++;
    else if (o.kind === "retracted") summary.retracted++;
    else summary.deadLettered++;
  }
}

/** One fetch: what it received, and the error that cut it short if one did (the server restarting, the connection lost). */
async function fetchBatch(consumer: Consumer, max: number, expires: number): Promise<{ msgs: JsMsg[]; error?: Error }> {
  const msgs: JsMsg[] = [];
  try {
    const fetched = await consumer.fetch({ max_messages: max, expires });
    for await (const m of fetched) msgs.push(m);
    return { msgs };
  } catch (e) {
    return { msgs, error: e as Error };
  }
}

/**
 * Runs the feed until the signal is aborted: connects, makes sure the streams and the durable consumer exist, then
 * fetches batches and consumes them (see handleBatch). A lost connection or a restarted server is waited out. Resolves
 * with what it did once the last batch is acknowledged and the connection drained; rejects when the database fails.
 */
export async function runFeed(ctx: AppContext, opts: FeedOptions): Promise<FeedSummary> {
  const names = feedNames(opts.prefix);
  const started = performance.now();
  const summary: FeedSummary = { messages: 0, accepted: 0, duplicates: 0, corrected: 0, retracted: 0, deadLettered: 0, batches: 0, seconds: 0 };
  await ctx.requireRuleset();
  let nc: NatsConnection;
  try {
    // Reconnect for as long as it takes: a feed outlives a restart of its server.
    nc = await connect({ servers: opts.url, name: `social-credit feed ${opts.durable}`, maxReconnectAttempts: -1 });
  } catch (e) {
    throw new UserError(`cannot connect to NATS at ${opts.url}: ${(e as Error).message}`);
  }
  // Said as it happens, not only when a fetch fails: a fetch that starts while the server is away may just come back empty.
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") opts.log(`lost the connection to NATS at ${s.server}; reconnecting until it is back`);
      else if (s.type === "reconnect") opts.log(`reconnected to NATS at ${s.server}`);
    }
  })();
  try {
    const jsm = await jetstreamManager(nc);
    const ensure = async () => {
      await ensureFeedStreams(jsm, names);
      return ensureFeedConsumer(jsm, names, opts.durable, opts.batch, opts.ackWaitMs);
    };
    const info = await ensure();
    opts.log(`consuming ${names.recordsFilter} from stream ${names.recordsStream} as ${opts.durable} (${info.num_pending} waiting)`);
    if (info.num_ack_pending > 0) {
      // Messages an earlier run received and never acknowledged come back once their ack wait has run out. Waiting for
      // it keeps their order: a correction is not written before the record it corrects.
      opts.log(`${info.num_ack_pending} messages of an earlier run are unacknowledged: waiting ${opts.ackWaitMs / 1000}s for their redelivery`);
      await pause(opts.ackWaitMs + 500, opts.signal);
    }
    const js = jetstream(nc);
    const consumer = await js.consumers.get(names.recordsStream, opts.durable);
    let lastLog = performance.now();
    let lastCount = 0;
    const report = (final: boolean) => {
      const now = performance.now();
      const rate = ((summary.messages - lastCount) * 1000) / Math.max(1, now - lastLog);
      opts.log(
        `${final ? "stopped after" : "consumed"} ${summary.messages} messages: ${summary.accepted} accepted, ${summary.duplicates} duplicates, ${summary.corrected} corrected, ${summary.retracted} retracted, ${summary.deadLettered} dead-lettered` +
          (final ? "" : ` (${Math.round(rate)}/s)`),
      );
      lastLog = now;
      lastCount = summary.messages;
    };
    while (!opts.signal.aborted) {
      const { msgs, error } = await fetchBatch(consumer, opts.batch, opts.fetchWaitMs ?? 1000);
      if (error) {
        if (nc.isClosed()) throw error;
        opts.log(`fetching from ${names.recordsStream} failed (${error.message}); trying again in a second`);
      }
      // Messages received before an error are consumed all the same: they came in order, and an acknowledgement lost
      // with the connection only means a duplicate later.
      if (msgs.length > 0) {
        tallyInto(summary, await handleBatch(ctx, nc, js, names, msgs, opts.log));
        if (performance.now() - lastLog >= 2000) report(false);
      }
      if (error) {
        await pause(1000, opts.signal);
        // A server restarted without its store has lost the streams and the consumer: make them again, or wait again.
        await ensure().catch((e: Error) => opts.log(`cannot reach the streams yet (${e.message})`));
      }
    }
    report(true);
  } finally {
    // Draining sends the acknowledgements still buffered before the connection closes.
    await nc.drain().catch(() => nc.close());
  }
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}
