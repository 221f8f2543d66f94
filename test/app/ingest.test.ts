// Import through the application services: what a receipt promises, and that retraction leaves no trace in the status.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fixedClock } from "../../src/app/clock.js";
import { AppContext } from "../../src/app/context.js";
import { importRecords, type InputLine } from "../../src/app/ingest.js";
import { activateRulebooks } from "../../src/app/rulebooks.js";
import { readStatus } from "../../src/app/statuses.js";
import { testBackends, type Backend } from "../storage/backends.js";

const NOW = Date.parse("2026-11-23T10:00:00+08:00");
const SHIPPED = ["national", "beijing", "jiangsu", "hangzhou", "rongcheng"].map((n) => ({ file: `rulebooks/${n}.yaml`, text: readFileSync(`rulebooks/${n}.yaml`, "utf8") }));
const RONGCHENG = "371082197808080076";

const BACKENDS = await testBackends();

async function freshContext(backend: Backend): Promise<AppContext> {
  const ctx = new AppContext(await backend.open(), fixedClock(NOW));
  await activateRulebooks(ctx, TESTER, SHIPPED);
  return ctx;
}

async function* linesOf(values: unknown[]): AsyncGenerator<InputLine> {
  let line = 0;
  for (const value of values) yield { line: ++line, value, raw: JSON.stringify(value) };
}

/** Records about one Rongcheng resident, from every kind of rule that scores there. */
const recordArb = fc.record({
  kind: fc.constantFrom("debt", "dui", "volunteer", "fulfilled"),
  day: fc.integer({ min: 0, max: 8 * 365 }),
  caseNo: fc.integer({ min: 1, max: 3 }),
  ground: fc.integer({ min: 1, max: 6 }),
  hours: fc.integer({ min: 0, max: 60 }),
});

type Generated = { kind: string; day: number; caseNo: number; ground: number; hours: number };

function toRecord(r: Generated, i: number) {
  const occurredAt = new Date(Date.UTC(2018, 0, 1) + r.day * 86_400_000).toISOString().slice(0, 10);
  const caseNumber = `C${r.caseNo}`;
  switch (r.kind) {
    case "debt":
      return { source: "court", externalId: `d${i}`, subject: RONGCHENG, category: "court.judgment.unfulfilled", occurredAt, attributes: { caseNumber, ground: r.ground }, legalRef: "x" };
    case "fulfilled":
      return { source: "court", externalId: `f${i}`, subject: RONGCHENG, category: "court.judgment.fulfilled", occurredAt, attributes: { caseNumber }, legalRef: "x" };
    case "dui":
      return { source: "traffic-police", externalId: `t${i}`, subject: RONGCHENG, category: "traffic.drunk-driving", occurredAt, attributes: { decisionNumber: `T${i}` }, legalRef: "x" };
    default:
      return { source: "volunteer-registry", externalId: `v${i}`, subject: RONGCHENG, category: "civic.volunteering", occurredAt, attributes: { hours: r.hours }, legalRef: "x" };
  }
}

const TESTER = "test:ingest";
const statusOf = async (ctx: AppContext, id: string) => (await readStatus(ctx, TESTER, id)).status;

// The same imports on each backend: the services must not depend on which one stores their data.
describe.each(BACKENDS)("importRecords on $name", (backend) => {
  // Each run opens two stores; on a server that is slower, so fewer runs there.
  const runs = (n: number) => (backend.name === "sqlite" ? n : Math.ceil(n / 3));

  it("retracting records leaves the status of never having received them", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb, { minLength: 1, maxLength: 12 }), fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), async (raw, retractMask) => {
        const records = raw.map(toRecord);
        const retracted = records.filter((_, i) => retractMask[i]);
        const kept = records.filter((_, i) => !retractMask[i]);

        const a = await freshContext(backend);
        const receipt = await importRecords(a, TESTER, linesOf(records));
        expect(receipt.accepted).toBe(records.length);
        await importRecords(a, TESTER, linesOf(retracted.map((r) => ({ op: "retract", source: r.source, externalId: r.externalId, reason: "test" }))));

        const b = await freshContext(backend);
        await importRecords(b, TESTER, linesOf(kept));
        const sa = await statusOf(a, RONGCHENG);
        const sb = await statusOf(b, RONGCHENG);
        expect(sa).toEqual(sb);
        await a.store.close();
        await b.store.close();
      }),
      { numRuns: runs(40) },
    );
  });

  it("gives the same statuses whatever order and batch size the records come in", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb, { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 4 }), async (raw, batchSize) => {
        const records = raw.map(toRecord);
        const a = await freshContext(backend);
        await importRecords(a, TESTER, linesOf(records));
        const b = await freshContext(backend);
        await importRecords(b, TESTER, linesOf([...records].reverse()), { batchSize });
        expect(await statusOf(a, RONGCHENG)).toEqual(await statusOf(b, RONGCHENG));
        await a.store.close();
        await b.store.close();
      }),
      { numRuns: runs(30) },
    );
  });

  it("a record rejected by the store (a correction of nothing) is reported with its line while the batch goes on", async () => {
    const ctx = await freshContext(backend);
    // A drunk-driving penalty of December 2025: still in force, 50 points off.
    const dui = { kind: "dui", day: 2900, caseNo: 1, ground: 1, hours: 0 };
    const receipt = await importRecords(ctx, TESTER, linesOf([{ ...toRecord(dui, 2), op: "correct" }, toRecord(dui, 1)]));
    expect(receipt.accepted).toBe(1);
    expect(receipt.rejected).toEqual([{ line: 1, reason: expect.stringMatching(/no record traffic-police:t2 to correct/) }]);
    expect((await statusOf(ctx, RONGCHENG)).score).toBe(950);
    await ctx.store.close();
  });
});
