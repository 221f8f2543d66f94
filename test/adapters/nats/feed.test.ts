// The NATS feed against the real JetStream server: records written then acknowledged, refusals dead-lettered with the reason, receipts, clean stop.
import { readFileSync } from "node:fs";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixedClock } from "../../../src/app/clock.js";
import { AppContext } from "../../../src/app/context.js";
import { UserError } from "../../../src/app/errors.js";
import { ingestFeedBatch, type FeedMessage } from "../../../src/app/feed.js";
import { activateRulebooks } from "../../../src/app/rulebooks.js";
import { DEAD_HEADERS, ensureFeedConsumer, ensureFeedStreams, runFeed, type FeedOptions, type FeedReceipt, type FeedSummary } from "../../../src/adapters/nats/feed.js";
import { feedNames, type FeedNames } from "../../../src/adapters/nats/names.js";
import { openSqliteStore } from "../../../src/storage/sqlite/sqlite-store.js";
import { connectTest, NATS_URL, natsUp, removeFeedStreams, uniquePrefix } from "./nats-harness.js";

const up = await natsUp();

const NOW = Date.parse("2026-11-23T10:00:00+08:00");
const SHIPPED = ["national", "beijing", "jiangsu", "hangzhou", "rongcheng"].map((n) => ({ file: `rulebooks/${n}.yaml`, text: readFileSync(`rulebooks/${n}.yaml`, "utf8") }));
const EXAMPLES = readFileSync("examples/records.ndjson", "utf8").trim().split("\n");
const sourceOf = (line: string) => (JSON.parse(line) as { source: string }).source;

async function activated(): Promise<AppContext> {
  const ctx = new AppContext(openSqliteStore(":memory:"), fixedClock(NOW));
  await activateRulebooks(ctx, "test:setup", SHIPPED);
  return ctx;
}

/** Collects `n` messages on a subject, failing after a while rather than hanging. */
function collect(nc: NatsConnection, subject: string, n: number, ms = 20_000): Promise<{ subject: string; text: string }[]> {
  const sub = nc.subscribe(subject);
  const got: { subject: string; text: string }[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (sub.unsubscribe(), reject(new Error(`${got.length} of ${n} messages on ${subject} after ${ms} ms`))), ms);
    void (async () => {
      for await (const m of sub) {
        got.push({ subject: m.subject, text: m.string() });
        if (got.length >= n) break;
      }
      clearTimeout(timer);
      resolve(got);
    })();
  });
}

describe.runIf(up)("the NATS JetStream feed", () => {
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  const prefixes: string[] = [];

  beforeAll(async () => {
    nc = await connectTest();
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    for (const p of prefixes) await removeFeedStreams(nc, p);
    await nc?.close();
  });

  /** Fresh streams under a prefix of this test's own. */
  async function fresh(label: string): Promise<{ prefix: string; names: FeedNames }> {
    const prefix = uniquePrefix(label);
    prefixes.push(prefix);
    const names = feedNames(prefix);
    await ensureFeedStreams(jsm, names);
    return { prefix, names };
  }

  /** Starts the feed in this process; stop() aborts it and resolves with its summary. */
  function start(ctx: AppContext, prefix: string, more: Partial<FeedOptions> = {}) {
    const abort = new AbortController();
    const logs: string[] = [];
    const running = runFeed(ctx, { url: NATS_URL, durable: "feed-test", batch: 100, ackWaitMs: 5000, prefix, signal: abort.signal, log: (l) => logs.push(l), ...more });
    return {
      logs,
      running,
      stop: async (): Promise<FeedSummary> => {
        abort.abort();
        return running;
      },
    };
  }

  it("writes what agencies publish, sends each a receipt, and acknowledges it so the work queue empties", async () => {
    const { prefix, names } = await fresh("write");
    const ctx = await activated();
    const receipts = collect(nc, `${prefix}.receipts.>`, EXAMPLES.length);
    for (const line of EXAMPLES) await js.publish(names.records(sourceOf(line)), line, { msgID: `m-${EXAMPLES.indexOf(line)}` });
    const feed = start(ctx, prefix);
    const got = (await receipts).map((r) => ({ subject: r.subject, receipt: JSON.parse(r.text) as FeedReceipt }));
    const summary = await feed.stop();

    expect(summary).toMatchObject({ messages: EXAMPLES.length, accepted: EXAMPLES.length - 1, deadLettered: 1, duplicates: 0 });
    expect((await ctx.store.counts()).records).toBe(EXAMPLES.length - 1);
    expect(got.map((g) => g.subject)).toEqual(EXAMPLES.map((l) => names.receipts(sourceOf(l))));
    const first = got[0]?.receipt;
    expect(first).toMatchObject({ stream: names.recordsStream, seq: 1, source: "court", msgId: "m-0", outcome: "accepted", record: `court:${(JSON.parse(EXAMPLES[0] as string) as { externalId: string }).externalId}` });
    expect(got[2]?.receipt).toMatchObject({ outcome: "rejected", reason: expect.stringMatching(/^subject: .*check character/), deadLetter: names.dead("court") });
    // Every receipt of one batch names the decision under which the audit log recorded it.
    expect(new Set(got.map((g) => g.receipt.decisionId)).size).toBe(1);
    const audit = await ctx.store.auditEntries({ action: "record.accepted", limit: 100 });
    expect(audit.map((e) => e.decisionId)).toContain(first?.decisionId);
    expect(audit.map((e) => e.actor)).toContain("feed:volunteer-registry");

    const stream = await jsm.streams.info(names.recordsStream);
    expect(stream.state.messages).toBe(0);
    const consumer = await jsm.consumers.info(names.recordsStream, "feed-test");
    expect(consumer.num_ack_pending).toBe(0);
    expect(feed.logs.join("\n")).toMatch(/stopped after 10 messages: 9 accepted/);
  });

  it("keeps each malformed message in the dead-letter stream, byte for byte, with the reason and where it came from", async () => {
    const { prefix, names } = await fresh("dead");
    const ctx = await activated();
    const bad: { subject: string; data: Uint8Array; reason: RegExp }[] = [
      { subject: names.records("court"), data: new TextEncoder().encode("{not json"), reason: /^payload: not valid JSON/ },
      { subject: names.records("tax"), data: new TextEncoder().encode(EXAMPLES[0] as string), reason: /^source: the record names "court" but was published on the subject of source tax$/ },
      { subject: names.records("court"), data: new Uint8Array([0xc3, 0x28]), reason: /^payload: not UTF-8 text$/ },
      { subject: names.records("nobody"), data: new TextEncoder().encode(JSON.stringify({ externalId: "x" })), reason: /^source: nobody is not a source of the active rulebook/ },
    ];
    const receipts = collect(nc, `${prefix}.receipts.>`, bad.length);
    for (const b of bad) await js.publish(b.subject, b.data);
    const feed = start(ctx, prefix);
    await receipts;
    const summary = await feed.stop();
    expect(summary).toMatchObject({ messages: bad.length, deadLettered: bad.length, accepted: 0 });

    const dead = await jsm.streams.info(names.deadStream);
    expect(dead.state.messages).toBe(bad.length);
    for (let i = 0; i < bad.length; i++) {
      const b = bad[i] as (typeof bad)[number];
      const m = await jsm.streams.getMessage(names.deadStream, { seq: i + 1 });
      expect(m?.subject).toBe(names.dead(names.sourceOf(b.subject) as string));
      expect(m?.data).toEqual(b.data);
      expect(m?.header.get(DEAD_HEADERS.reason)).toMatch(b.reason);
      expect(m?.header.get(DEAD_HEADERS.subject)).toBe(b.subject);
      expect(m?.header.get(DEAD_HEADERS.seq)).toBe(String(i + 1));
    }
    expect(feed.logs.filter((l) => l.startsWith("dead-lettered"))).toHaveLength(bad.length);
    expect((await jsm.streams.info(names.recordsStream)).state.messages).toBe(0);
  });

  it("sends a receipt to the subject in the message's Reply-To header instead of the source's receipt subject", async () => {
    const { prefix, names } = await fresh("reply");
    const ctx = await activated();
    const inbox = `${prefix}.inbox.agency`;
    const mine = collect(nc, inbox, 1);
    const others = collect(nc, `${prefix}.receipts.>`, 1);
    const h = headers();
    h.set("Reply-To", inbox);
    await js.publish(names.records("court"), EXAMPLES[0] as string, { headers: h });
    await js.publish(names.records("court"), EXAMPLES[1] as string);
    const feed = start(ctx, prefix);
    const [reply] = await mine;
    const [other] = await others;
    await feed.stop();
    expect(JSON.parse(reply?.text ?? "{}")).toMatchObject({ seq: 1, outcome: "accepted" });
    expect(other?.subject).toBe(names.receipts("court"));
    expect(JSON.parse(other?.text ?? "{}")).toMatchObject({ seq: 2, outcome: "accepted" });
  });

  it("sends the receipt to the source's receipt subject when Reply-To is no subject, and still acknowledges", async () => {
    const { prefix, names } = await fresh("badreply");
    const ctx = await activated();
    const receipts = collect(nc, `${prefix}.receipts.>`, 1);
    const h = headers();
    h.set("Reply-To", "not a subject");
    await js.publish(names.records("court"), EXAMPLES[0] as string, { headers: h });
    const feed = start(ctx, prefix);
    const [got] = await receipts;
    await feed.stop();
    expect(JSON.parse(got?.text ?? "{}")).toMatchObject({ seq: 1, outcome: "accepted" });
    expect(feed.logs.join("\n")).toMatch(/cannot send the receipt of .* to "not a subject"/);
    expect((await jsm.consumers.info(names.recordsStream, "feed-test")).num_ack_pending).toBe(0);
  });

  it("treats the same record published twice as a duplicate that changes nothing", async () => {
    const { prefix, names } = await fresh("dup");
    const ctx = await activated();
    const receipts = collect(nc, `${prefix}.receipts.>`, 2);
    await js.publish(names.records("court"), EXAMPLES[0] as string);
    await js.publish(names.records("court"), EXAMPLES[0] as string);
    const feed = start(ctx, prefix);
    const got = (await receipts).map((r) => (JSON.parse(r.text) as FeedReceipt).outcome);
    const summary = await feed.stop();
    expect(got).toEqual(["accepted", "duplicate"]);
    expect(summary).toMatchObject({ accepted: 1, duplicates: 1 });
    expect((await ctx.store.auditEntries({ action: "record.accepted", limit: 10 })).length).toBe(1);
  });

  it("stops when asked, after writing and acknowledging the batch in hand: nothing is left unacknowledged", async () => {
    const { prefix, names } = await fresh("stop");
    const ctx = await activated();
    const total = 3000;
    const base = JSON.parse(EXAMPLES[4] as string) as Record<string, unknown>;
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < total; i++) sends.push(js.publish(names.records("volunteer-registry"), JSON.stringify({ ...base, externalId: `V-${i}` })));
    await Promise.all(sends);
    const firstReceipts = collect(nc, `${prefix}.receipts.>`, 150);
    const feed = start(ctx, prefix, { batch: 50 });
    await firstReceipts;
    const summary = await feed.stop();
    const written = (await ctx.store.counts()).records;
    expect(summary.messages).toBe(written);
    expect(written).toBeGreaterThanOrEqual(150);
    expect(written).toBeLessThan(total);
    const consumer = await jsm.consumers.info(names.recordsStream, "feed-test");
    expect(consumer.num_ack_pending).toBe(0);
    expect(consumer.num_pending).toBe(total - written);
  });

  it("takes a batch committed but never acknowledged (the process died between the two) again, first, and changes nothing", async () => {
    const { prefix, names } = await fresh("redeliver");
    const ctx = await activated();
    const valid = EXAMPLES.filter((_, i) => i !== 2);
    for (const line of valid) await js.publish(names.records(sourceOf(line)), line);
    const later = JSON.stringify({ ...(JSON.parse(EXAMPLES[0] as string) as object), externalId: "later-1", attributes: { caseNumber: "later-1", ground: 1 } });
    await js.publish(names.records("court"), later);

    // What the dead process did: receive the batch through the durable consumer and commit it, and never acknowledge it.
    await ensureFeedConsumer(jsm, names, "feed-test", valid.length, 1000);
    const fetched = await (await js.consumers.get(names.recordsStream, "feed-test")).fetch({ max_messages: valid.length, expires: 1000 });
    const held: FeedMessage[] = [];
    for await (const m of fetched) held.push({ source: names.sourceOf(m.subject) as string, payload: m.data });
    expect(held).toHaveLength(valid.length);
    await ingestFeedBatch(ctx, held);
    const before = { counts: await ctx.store.counts(), head: await ctx.store.auditHead() };

    const receipts = collect(nc, `${prefix}.receipts.>`, valid.length + 1);
    // A batch larger than what is held leaves room for the later message: only the wait keeps it behind the redelivered ones.
    // An ack wait long enough that a loaded machine (CI runs test files in parallel) does not see the batch redelivered twice.
    const feed = start(ctx, prefix, { batch: 20, ackWaitMs: 3000 });
    const got = (await receipts).map((r) => JSON.parse(r.text) as FeedReceipt);
    const summary = await feed.stop();
    // The held batch comes back before the message after it, as duplicates; only the later message is new.
    expect(got.map((r) => [r.seq, r.outcome])).toEqual([...valid.map((_, i) => [i + 1, "duplicate"]), [valid.length + 1, "accepted"]]);
    expect(summary).toMatchObject({ duplicates: valid.length, accepted: 1 });
    expect(feed.logs.join("\n")).toMatch(new RegExp(`${valid.length} messages of an earlier run are unacknowledged: waiting 3s`));
    expect((await ctx.store.counts()).records).toBe(before.counts.records + 1);
    expect((await ctx.store.auditEntries({ afterSeq: before.head?.seq ?? 0, limit: 100 })).map((e) => e.action)).toEqual(["record.accepted"]);
    expect((await jsm.streams.info(names.recordsStream)).state.messages).toBe(0);
  });

  it("names the server when it cannot connect", async () => {
    const ctx = await activated();
    const abort = new AbortController();
    const run = runFeed(ctx, { url: "nats://127.0.0.1:1", durable: "x", batch: 10, ackWaitMs: 1000, prefix: "", signal: abort.signal, log: () => undefined });
    await expect(run).rejects.toThrow(UserError);
    await expect(run).rejects.toThrow(/^cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/);
  });
});
