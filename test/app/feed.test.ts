// The feed's application service: one outcome per message, malformed messages named and refused, redelivery changing nothing.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fixedClock } from "../../src/app/clock.js";
import { AppContext } from "../../src/app/context.js";
import { ingestFeedBatch, type FeedMessage } from "../../src/app/feed.js";
import { loggedRecords } from "../../src/app/ingest.js";
import { activateRulebooks } from "../../src/app/rulebooks.js";
import { readStatus } from "../../src/app/statuses.js";
import { openSqliteStore } from "../../src/storage/sqlite/sqlite-store.js";

const NOW = Date.parse("2026-11-23T10:00:00+08:00");
const SHIPPED = ["national", "beijing", "jiangsu", "hangzhou", "rongcheng"].map((n) => ({ file: `rulebooks/${n}.yaml`, text: readFileSync(`rulebooks/${n}.yaml`, "utf8") }));
const EXAMPLES = readFileSync("examples/records.ndjson", "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
const DEBTOR = "110105198506120034";

async function activated(): Promise<AppContext> {
  const ctx = new AppContext(openSqliteStore(":memory:"), fixedClock(NOW));
  await activateRulebooks(ctx, "test:setup", SHIPPED);
  return ctx;
}

const enc = new TextEncoder();
/** A message as the adapter hands it over: the source from the subject, the payload as bytes. */
const msg = (source: string, payload: unknown): FeedMessage => ({ source, payload: enc.encode(typeof payload === "string" ? payload : JSON.stringify(payload)) });
/** The example records as published by their sources, without the source field (the subject names it). */
const published = () => EXAMPLES.map(({ source, ...rest }) => msg(source as string, rest));

describe("ingestFeedBatch", () => {
  it("writes every valid message, audits each record as feed:<source> under one decision, and keeps the order of outcomes", async () => {
    const ctx = await activated();
    const { decisionId, outcomes } = await ingestFeedBatch(ctx, published());
    expect(outcomes).toHaveLength(EXAMPLES.length);
    // The third example has a wrong check character: refused, the others written.
    expect(outcomes.map((o) => o.kind)).toEqual(EXAMPLES.map((_, i) => (i === 2 ? "rejected" : "accepted")));
    expect(outcomes[0]).toEqual({ kind: "accepted", record: `court:${EXAMPLES[0]?.externalId as string}`, externalId: EXAMPLES[0]?.externalId });
    expect(outcomes[2]).toMatchObject({ kind: "rejected", reason: expect.stringMatching(/^subject: .*check character/) });

    // One entry per source, listing its records in the order of the messages.
    const audit = await ctx.store.auditEntries({ action: "record.accepted", limit: 100 });
    const written = EXAMPLES.filter((_, i) => i !== 2);
    const sources = [...new Set(written.map((r) => r.source as string))];
    expect(audit.map((e) => e.actor)).toEqual(sources.map((s) => `feed:${s}`));
    expect(new Set(audit.map((e) => e.decisionId))).toEqual(new Set([decisionId]));
    expect(audit.map((e) => (loggedRecords(e) ?? []).map((r) => r.record))).toEqual(
      sources.map((s) => written.filter((r) => r.source === s).map((r) => `${s}:${r.externalId as string}`)),
    );
    expect((await ctx.store.counts()).records).toBe(EXAMPLES.length - 1);
  });

  it("accepts a record that names the same source as its subject", async () => {
    const ctx = await activated();
    const first = EXAMPLES[0] as Record<string, unknown>;
    const { outcomes } = await ingestFeedBatch(ctx, [msg("court", first)]);
    expect(outcomes[0]?.kind).toBe("accepted");
  });

  it("changes nothing when a batch is delivered again: every message a duplicate, no audit entry, the same status", async () => {
    const ctx = await activated();
    await ingestFeedBatch(ctx, published());
    const before = { counts: await ctx.store.counts(), head: await ctx.store.auditHead(), status: await ctx.store.getStatus(DEBTOR) };
    const again = await ingestFeedBatch(ctx, published());
    expect(again.outcomes.map((o) => o.kind)).toEqual(EXAMPLES.map((_, i) => (i === 2 ? "rejected" : "duplicate")));
    expect(await ctx.store.counts()).toEqual(before.counts);
    expect(await ctx.store.auditHead()).toEqual(before.head);
    expect(await ctx.store.getStatus(DEBTOR)).toEqual(before.status);
  });

  it("refuses each kind of malformed message with a reason naming what is wrong, and writes the valid ones beside them", async () => {
    const ctx = await activated();
    const debt = EXAMPLES[0] as Record<string, unknown>;
    const { source: _s, ...bare } = debt;
    const batch: FeedMessage[] = [
      { source: "court", payload: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) },
      msg("court", "{not json"),
      msg("court", [bare]),
      msg("tax", debt),
      msg("no-such-agency", bare),
      msg("tax", { ...bare, externalId: "T-1" }),
      msg("court", { ...bare, externalId: "C-2", attributes: { caseNumber: "C-2", ground: "one" } }),
      msg("court", { ...bare, externalId: "C-3", surname: "Wang" }),
      msg("court", bare),
      // The same key with other content, not sent as a correction: the store refuses it.
      msg("court", { ...bare, occurredAt: "2026-03-03" }),
    ];
    const { outcomes } = await ingestFeedBatch(ctx, batch);
    const reasons = outcomes.map((o) => (o.kind === "rejected" ? o.reason : o.kind));
    expect(reasons[0]).toBe("payload: not UTF-8 text");
    expect(reasons[1]).toMatch(/^payload: not valid JSON/);
    expect(reasons[2]).toBe("a record is a JSON object");
    expect(reasons[3]).toBe('source: the record names "court" but was published on the subject of source tax');
    expect(reasons[4]).toMatch(/^source: no-such-agency is not a source of the active rulebook/);
    expect(reasons[5]).toMatch(/^category: source tax may not report court\.judgment\.unfulfilled/);
    expect(reasons[6]).toMatch(/^attributes\.ground: must be an integer/);
    expect(reasons[7]).toBe("unknown field 'surname'");
    expect(reasons[8]).toBe("accepted");
    expect(reasons[9]).toMatch(/already exists with different content/);
    expect(outcomes[9]).toMatchObject({ record: `court:${debt.externalId as string}`, externalId: debt.externalId });
    expect((await ctx.store.counts()).records).toBe(1);
  });

  it("applies corrections and retractions in the order of the batch, and a redelivered retraction is a duplicate", async () => {
    const ctx = await activated();
    const { source: _s, ...bare } = EXAMPLES[0] as Record<string, unknown>;
    const batch = [
      msg("court", bare),
      msg("court", { ...bare, op: "correct", attributes: { caseNumber: bare.externalId, ground: 2 } }),
      msg("court", { op: "retract", externalId: bare.externalId, reason: "paid in full" }),
    ];
    const first = await ingestFeedBatch(ctx, batch);
    expect(first.outcomes.map((o) => o.kind)).toEqual(["accepted", "corrected", "retracted"]);
    const again = await ingestFeedBatch(ctx, batch);
    expect(again.outcomes.map((o) => o.kind)).toEqual(["duplicate", "duplicate", "duplicate"]);
    const { status } = await readStatus(ctx, "test:reader", DEBTOR);
    expect(status.lists).toEqual([]);
  });

  it("refuses to run without an active rulebook, writing nothing", async () => {
    const ctx = new AppContext(openSqliteStore(":memory:"), fixedClock(NOW));
    await expect(ingestFeedBatch(ctx, published())).rejects.toThrow(/no rulebook is active/);
    expect((await ctx.store.counts()).records).toBe(0);
  });
});
