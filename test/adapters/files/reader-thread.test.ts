// The reader thread of an import: it must hand the importing thread exactly what reading the file here would, and an
// import through it must end as one read here does. The thread runs the build (`npm test` builds first).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeLine, encodeLine, preparedFile, readInThread, CHUNK_LINES } from "../../../src/adapters/files/reader-thread.js";
import { readCsv, readNdjson, type RecordFormat } from "../../../src/adapters/files/record-files.js";
import { fixedClock } from "../../../src/app/clock.js";
import { AppContext } from "../../../src/app/context.js";
import { importPrepared, type Receipt } from "../../../src/app/ingest.js";
import { importContext, prepareLines, type PreparedLine } from "../../../src/app/prepare.js";
import { activateRulebooks } from "../../../src/app/rulebooks.js";
import { creditCodeCheckChar, residentIdCheckChar } from "../../../src/core/subject-id.js";
import { contentHash } from "../../../src/storage/record-content.js";
import { openSqliteStore } from "../../../src/storage/sqlite/sqlite-store.js";

const NOW = Date.parse("2026-11-23T10:00:00+08:00");
const SHIPPED = ["national", "beijing", "jiangsu", "hangzhou", "rongcheng"].map((n) => ({ file: `rulebooks/${n}.yaml`, text: readFileSync(`rulebooks/${n}.yaml`, "utf8") }));
const ADULT = "110105198506120034";
const ENTERPRISE = `91110105MA0000001${creditCodeCheckChar("91110105MA0000001")}`;
const TESTER = "test:reader-thread";

async function activated(): Promise<AppContext> {
  const ctx = new AppContext(openSqliteStore(":memory:"), fixedClock(NOW));
  await activateRulebooks(ctx, TESTER, SHIPPED);
  return ctx;
}

const scratch = () => mkdtempSync(join(tmpdir(), "social-credit-reader-"));

const judgment = (externalId: string, subject = ADULT, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ source: "court", externalId, subject, category: "court.judgment.unfulfilled", occurredAt: "2026-03-02", attributes: { caseNumber: externalId, ground: 1 }, legalRef: "SPC Fa Shi [2017] No. 7", ...extra });

/** Every kind of line a file holds: records of a person and an enterprise, a correction, a retraction, and refusals. */
const MIXED = [
  `\uFEFF${judgment("c1")}`,
  judgment("c2", ADULT, { evidenceRef: "archive:2026/17" }),
  "",
  "{not json",
  judgment("c3", ADULT, { colour: "red" }),
  JSON.stringify({ source: "tax", externalId: "t1", subject: ENTERPRISE, category: "tax.arrears.exit-control", occurredAt: "2026-01-05", attributes: { noticeNumber: "T-1", amountYuan: 250000 }, legalRef: "Tax Collection and Administration Law, Art. 44" }),
  judgment("c1", ADULT, { op: "correct", occurredAt: "2026-03-03" }),
  JSON.stringify({ op: "retract", source: "court", externalId: "c2", reason: "entered in error" }),
  judgment("c4", "110105198506120035"),
  judgment("c5", ADULT, { occurredAt: "2027-01-01" }),
];

async function flatten(chunks: AsyncIterable<readonly PreparedLine[]>): Promise<PreparedLine[]> {
  const out: PreparedLine[] = [];
  for await (const c of chunks) out.push(...c);
  return out;
}

/** What this thread makes of a file, with the content hash the reader thread adds to each record. */
async function readHere(ctx: AppContext, path: string, format: RecordFormat): Promise<PreparedLine[]> {
  const ruleset = await ctx.requireRuleset();
  const lines = format === "csv" ? readCsv(path, ruleset) : readNdjson(path);
  const prepared = await flatten(prepareLines(lines, importContext(ruleset, NOW, {})));
  return prepared.map((p) => (p.op && p.op.op !== "retract" ? { ...p, op: { ...p.op, contentHash: contentHash(p.op.record) } } : p));
}

async function readThere(ctx: AppContext, path: string, format: RecordFormat, counter = { read: 0 }): Promise<PreparedLine[]> {
  const ruleset = await ctx.requireRuleset();
  return flatten(readInThread({ path, format, rules: { grants: ruleset.grants, categories: ruleset.categories }, now: NOW }, counter));
}

describe("the reader thread", () => {
  it("hands on every line of an NDJSON file as reading it here does, each record with its content hash", async () => {
    const ctx = await activated();
    const file = join(scratch(), "mixed.ndjson");
    writeFileSync(file, MIXED.join("\n") + "\n");
    const counter = { read: 0 };
    const there = await readThere(ctx, file, "ndjson", counter);
    expect(there).toEqual(await readHere(ctx, file, "ndjson"));
    expect(there.map((p) => p.line)).toEqual([1, 2, 4, 5, 6, 7, 8, 9, 10]);
    expect(there.filter((p) => p.error !== undefined).map((p) => p.line)).toEqual([4, 5, 9, 10]);
    expect(counter.read).toBe(readFileSync(file).length);
    await ctx.store.close();
  });

  it("reads CSV with the attribute types the rulebook declares, as this thread does", async () => {
    const ctx = await activated();
    const file = join(scratch(), "court.csv");
    writeFileSync(
      file,
      [
        "source,externalId,subject,category,occurredAt,legalRef,attributes.caseNumber,attributes.ground",
        `court,k1,${ADULT},court.judgment.unfulfilled,2026-03-02,SPC Fa Shi [2017] No. 7,k1,1`,
        `court,k2,${ADULT},court.judgment.unfulfilled,2026-03-02,SPC Fa Shi [2017] No. 7,k2,one`,
        `court,k3,${ADULT},court.judgment.unfulfilled,2026-03-02,"unclosed`,
      ].join("\n") + "\n",
    );
    const there = await readThere(ctx, file, "csv");
    expect(there).toEqual(await readHere(ctx, file, "csv"));
    expect(there.map((p) => p.error === undefined)).toEqual([true, false, false]);
    await ctx.store.close();
  });

  it("crosses a file of many chunks whole and in order", async () => {
    const ctx = await activated();
    const file = join(scratch(), "many.ndjson");
    const n = CHUNK_LINES * 12 + 7;
    writeFileSync(file, Array.from({ length: n }, (_, i) => judgment(`m${i}`)).join("\n") + "\n");
    const there = await readThere(ctx, file, "ndjson");
    expect(there.map((p) => p.line)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(there.every((p) => p.op?.op === "submit" && p.op.record.externalId === `m${p.line - 1}`)).toBe(true);
    await ctx.store.close();
  });

  it("fails with the reason when the file cannot be read", async () => {
    const ctx = await activated();
    await expect(readThere(ctx, join(scratch(), "missing.ndjson"), "ndjson")).rejects.toThrow(/ENOENT/);
    await ctx.store.close();
  });

  it("encodes every prepared line so that it decodes to the same line", () => {
    const text = fc.string({ minLength: 1, maxLength: 12 });
    const line = fc.oneof(
      fc.record({ line: fc.nat(), raw: fc.string(), error: text }),
      fc.record({ line: fc.nat(), raw: fc.string(), op: fc.record({ op: fc.constant("retract" as const), id: text, source: text, externalId: text, reason: text }) }),
      fc
        .record({
          line: fc.nat(),
          raw: fc.string(),
          op: fc.constantFrom("submit" as const, "correct" as const),
          source: text,
          externalId: text,
          subject: text,
          category: text,
          occurredAt: fc.integer(),
          attributes: fc.dictionary(text, fc.oneof(fc.string(), fc.integer(), fc.boolean())),
          legalRef: text,
          evidenceRef: fc.option(text, { nil: undefined }),
          contentHash: fc.option(fc.string({ minLength: 64, maxLength: 64 }), { nil: undefined }),
        })
        .map((g) => ({
          line: g.line,
          raw: g.raw,
          op: {
            op: g.op,
            record: {
              id: `${g.source}:${g.externalId}`,
              source: g.source,
              externalId: g.externalId,
              subject: g.subject,
              category: g.category,
              occurredAt: g.occurredAt,
              attributes: g.attributes,
              legalRef: g.legalRef,
              ...(g.evidenceRef !== undefined ? { evidenceRef: g.evidenceRef } : {}),
            },
            ...(g.contentHash !== undefined ? { contentHash: g.contentHash } : {}),
          },
        })),
    );
    fc.assert(
      fc.property(line, (generated) => {
        // Plain objects, as the importing thread's are (the generator's have no prototype).
        const p = structuredClone(generated) as PreparedLine;
        expect(decodeLine(encodeLine(p))).toStrictEqual(p);
      }),
    );
  });
});

describe("an import through the reader thread", () => {
  it("ends as one read here does: the same receipt, records and statuses", async () => {
    const dir = scratch();
    const file = join(dir, "mixed.ndjson");
    // Records of many people, so that batches of 100 cross chunks, with the mixed lines among them.
    const people = Array.from({ length: 40 }, (_, i) => `11010519900307${String(100 + i)}`).map((first17) => first17 + residentIdCheckChar(first17));
    const bulk = Array.from({ length: 2500 }, (_, i) => judgment(`b${i}`, people[i % people.length]));
    writeFileSync(file, [...bulk.slice(0, 1200), ...MIXED, ...bulk.slice(1200), judgment("b7")].join("\n") + "\n");
    const results: { receipt: Omit<Receipt, "decisionId">; statuses: unknown[]; records: unknown[] }[] = [];
    for (const thread of [false, true]) {
      const ctx = await activated();
      const { ruleset, chunks } = await preparedFile(ctx, file, { format: "ndjson", thread });
      const { decisionId: _, ...receipt } = await importPrepared(ctx, TESTER, ruleset, chunks, { batchSize: 100 });
      const subjects = [ADULT, ENTERPRISE, ...people];
      const statuses = await Promise.all(subjects.map((s) => ctx.store.getStatus(s)));
      const records = await Promise.all(subjects.map((s) => ctx.store.recordsOf(s)));
      results.push({ receipt, statuses, records });
      await ctx.store.close();
    }
    const [here, there] = results;
    expect(there).toEqual(here);
    expect(here?.receipt.accepted).toBeGreaterThan(2500);
    expect(here?.receipt.rejected.length).toBeGreaterThanOrEqual(4);
  });
});
