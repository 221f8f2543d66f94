// A check reads measures from memory; it must still see every committed change, whichever connection made it, and
// never a change that was rolled back.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Evaluation, MeasureApplication } from "../../../src/core/evaluate.js";
import type { RecordFact } from "../../../src/core/record.js";
import { parseSubjectId, type Subject } from "../../../src/core/subject-id.js";
import { openSqliteStore } from "../../../src/storage/sqlite/sqlite-store.js";
import type { SubjectEvaluator } from "../../../src/storage/store.js";

const ADULT = (parseSubjectId("110105198506120034") as { subject: Subject }).subject;

function fact(externalId: string): RecordFact {
  return { id: `court:${externalId}`, source: "court", externalId, subject: ADULT.id, category: "court.judgment.unfulfilled", occurredAt: Date.UTC(2026, 2, 1), attributes: { caseNumber: externalId, ground: 1 }, legalRef: "x" };
}

/** One measure per record, named after it: what the subject's measures are tells which records the status saw. */
const byRecords: SubjectEvaluator = (subject, records): Evaluation => ({
  status: {
    subject, kind: "person", region: "", jurisdiction: "national", at: "2026-03-01T08:00:00+08:00", rulesetHash: "h", minor: false, score: 0, grade: null, lists: [],
    measures: records.map((r): MeasureApplication => ({ measure: r.externalId, name: r.externalId, kind: "sanction", tier: null, trigger: { list: "l" }, since: null, until: null, records: [r.id], legalBasis: [] })),
    awaitingSignOff: [], nextChangeAt: null, effects: [], excluded: [],
  },
  validFrom: null,
  validUntil: null,
});

const measuresOf = async (store: ReturnType<typeof openSqliteStore>) => ((await store.getMeasures(ADULT.id))?.measures ?? []).map((m) => m.measure);

describe("remembered measures", () => {
  it("follow changes committed by another connection to the same file", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "social-credit-cache-")), "db.sqlite");
    const server = openSqliteStore(path);
    const importer = openSqliteStore(path);
    await importer.writeRecords([{ op: "submit", record: fact("A") }], byRecords, 1);
    expect(await measuresOf(server)).toEqual(["A"]);
    expect(await measuresOf(server)).toEqual(["A"]);
    await importer.writeRecords([{ op: "submit", record: fact("B") }], byRecords, 2);
    expect(await measuresOf(server)).toEqual(["A", "B"]);
    await importer.writeRecords([{ op: "retract", id: "court:A", source: "court", externalId: "A", reason: "wrong person" }], byRecords, 3);
    expect(await measuresOf(server)).toEqual(["B"]);
    // Inside a transaction the epoch is read once (nobody else can write meanwhile), but again in the next one.
    const inTransaction = () => server.transaction(async (tx) => ((await tx.getMeasures(ADULT.id))?.measures ?? []).map((m) => m.measure));
    expect(await inTransaction()).toEqual(["B"]);
    await importer.writeRecords([{ op: "submit", record: fact("C") }], byRecords, 4);
    expect(await inTransaction()).toEqual(["B", "C"]);
    await server.close();
    await importer.close();
  });

  it("follow this connection's own changes, and forget a change that was rolled back", async () => {
    const store = openSqliteStore(":memory:");
    await store.writeRecords([{ op: "submit", record: fact("A") }], byRecords, 1);
    expect(await measuresOf(store)).toEqual(["A"]);
    await expect(
      store.transaction(async (tx) => {
        await tx.writeRecords([{ op: "submit", record: fact("B") }], byRecords, 2);
        // Read inside the transaction: the uncommitted status may be remembered here...
        expect(((await tx.getMeasures(ADULT.id))?.measures ?? []).map((m) => m.measure)).toEqual(["A", "B"]);
        throw new Error("the audit append failed");
      }),
    ).rejects.toThrow(/audit append failed/);
    // ...but never outlives the rollback.
    expect(await measuresOf(store)).toEqual(["A"]);
    await store.writeRecords([{ op: "submit", record: fact("C") }], byRecords, 3);
    expect(await measuresOf(store)).toEqual(["A", "C"]);
    await store.close();
  });
});
