// The SQLite store's guarantees: idempotent writes, history kept, statuses in step with records.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import type { Evaluation } from "../../../src/core/evaluate.js";
import type { RecordFact } from "../../../src/core/record.js";
import type { RecordOp } from "../../../src/core/record-input.js";
import { parseSubjectId, type Subject } from "../../../src/core/subject-id.js";
import { openSqliteStore } from "../../../src/storage/sqlite/sqlite-store.js";
import type { SubjectEvaluator } from "../../../src/storage/store.js";

const ADULT = (parseSubjectId("110105198506120034") as { subject: Subject }).subject;
const OTHER = (parseSubjectId("320102199001010053") as { subject: Subject }).subject;

function fact(externalId: string, subject: Subject, occurredAt = Date.UTC(2026, 2, 1)): RecordFact {
  return { id: `court:${externalId}`, source: "court", externalId, subject: subject.id, category: "court.judgment.unfulfilled", occurredAt, attributes: { caseNumber: externalId, ground: 1 }, legalRef: "x" };
}
const submit = (record: RecordFact, op: "submit" | "correct" = "submit"): RecordOp => ({ op, record });

/** An evaluator that records what it saw: the count of records and their ids, as the "score". */
function countingEvaluator(seen: string[][] = []): SubjectEvaluator {
  return (subject, records): Evaluation => {
    seen.push(records.map((r) => r.id).sort());
    return {
      status: { subject, kind: "person", region: "", jurisdiction: "national", at: "2026-03-01T08:00:00+08:00", rulesetHash: "h1", minor: false, score: records.length, grade: null, lists: [], measures: [], awaitingSignOff: [], nextChangeAt: null, effects: [], excluded: [] },
      validFrom: null,
      validUntil: 5_000,
    };
  };
}

describe("SqliteStore", () => {
  it("accepts once, reports the same record again as a duplicate, and refuses changed content unless corrected", async () => {
    const store = openSqliteStore(":memory:");
    const ev = countingEvaluator();
    const a = fact("A", ADULT);
    expect(await store.writeRecords([submit(a), submit(a)], ev, 1)).toEqual([
      { kind: "accepted", id: "court:A", subject: ADULT.id },
      { kind: "duplicate", id: "court:A", subject: ADULT.id },
    ]);
    // Key order does not make content different.
    const reordered = { ...a, attributes: { ground: 1, caseNumber: "A" } };
    expect((await store.writeRecords([submit(reordered)], ev, 2))[0]?.kind).toBe("duplicate");
    const changed = { ...a, occurredAt: a.occurredAt + 1 };
    expect((await store.writeRecords([submit(changed)], ev, 3))[0]).toMatchObject({ kind: "rejected", reason: expect.stringMatching(/different content/) });
    expect((await store.writeRecords([submit(changed, "correct")], ev, 4))[0]?.kind).toBe("corrected");
    const history = await store.recordHistory("court:A");
    expect(history.map((h) => [h.revision, h.op, h.at])).toEqual([[1, "submit", 1], [2, "correct", 4]]);
    expect(history[1]?.content?.occurredAt).toBe(a.occurredAt + 1);
    await store.close();
  });

  it("keeps statuses in step: every touched subject is re-evaluated in the same write, both subjects when a correction moves a record", async () => {
    const store = openSqliteStore(":memory:");
    const seen: string[][] = [];
    const ev = countingEvaluator(seen);
    await store.writeRecords([submit(fact("A", ADULT)), submit(fact("B", ADULT))], ev, 1);
    expect((await store.getStatus(ADULT.id))?.status.score).toBe(2);
    expect(seen).toEqual([["court:A", "court:B"]]);
    await store.writeRecords([submit(fact("B", OTHER), "correct")], ev, 2);
    expect((await store.getStatus(ADULT.id))?.status.score).toBe(1);
    expect((await store.getStatus(OTHER.id))?.status.score).toBe(1);
    await store.close();
  });

  it("retracts with a reason, keeps the record and its history, and drops the status of a subject left with no record", async () => {
    const store = openSqliteStore(":memory:");
    const ev = countingEvaluator();
    await store.writeRecords([submit(fact("A", ADULT))], ev, 1);
    const out = await store.writeRecords([{ op: "retract", id: "court:A", source: "court", externalId: "A", reason: "wrong person" }], ev, 2);
    expect(out).toEqual([{ kind: "retracted", id: "court:A", subject: ADULT.id }]);
    expect(await store.getStatus(ADULT.id)).toBeUndefined();
    const kept = await store.recordsOf(ADULT.id);
    expect(kept.map((r) => [r.id, r.state, r.revision])).toEqual([["court:A", "retracted", 2]]);
    expect((await store.recordHistory("court:A")).map((h) => [h.op, h.reason ?? null])).toEqual([["submit", null], ["retract", "wrong person"]]);
    // The same content again (say, its file imported twice) is a duplicate; new content under a retracted key is refused.
    expect((await store.writeRecords([submit(fact("A", ADULT))], ev, 3))[0]?.kind).toBe("duplicate");
    expect((await store.writeRecords([submit(fact("A", ADULT, 7))], ev, 3))[0]).toMatchObject({ kind: "rejected", reason: expect.stringMatching(/was retracted/) });
    expect((await store.writeRecords([{ op: "retract", id: "court:Z", source: "court", externalId: "Z", reason: "r" }], ev, 3))[0]?.kind).toBe("rejected");
    await store.close();
  });

  it("rolls back a whole batch when evaluation fails, so records never run ahead of statuses", async () => {
    const store = openSqliteStore(":memory:");
    const failing: SubjectEvaluator = () => {
      throw new Error("evaluator broke");
    };
    await expect(store.writeRecords([submit(fact("A", ADULT))], failing, 1)).rejects.toThrow("evaluator broke");
    expect(await store.counts()).toEqual({ subjects: 0, records: 0, retracted: 0 });
    await store.close();
  });

  it("finds the statuses due for re-evaluation: run out by the instant, or made under another ruleset", async () => {
    const store = openSqliteStore(":memory:");
    await store.writeRecords([submit(fact("A", ADULT)), submit(fact("B", OTHER))], countingEvaluator(), 1);
    expect(await store.dueSubjects(4_999, "h1", null, 10)).toEqual([]);
    expect(await store.dueSubjects(5_000, "h1", null, 10)).toEqual([ADULT.id, OTHER.id].sort());
    const [first] = await store.dueSubjects(0, "h2", null, 1);
    expect(await store.dueSubjects(0, "h2", first as string, 10)).toEqual([ADULT.id, OTHER.id].sort().slice(1));
    expect(await store.subjectsAfter(null, 10)).toEqual([ADULT.id, OTHER.id].sort());
    expect(await store.subjectsAfter(ADULT.id, 10)).toEqual([OTHER.id]);
    await store.close();
  });

  it("keeps every activated rulebook version and the history of activations", async () => {
    const store = openSqliteStore(":memory:");
    await store.activateLayers([{ id: "national", file: "n.yaml", text: "v1", sha256: "s1" }], "r1", 10);
    await store.activateLayers([{ id: "national", file: "n.yaml", text: "v1", sha256: "s1" }, { id: "beijing", file: "b.yaml", text: "b", sha256: "s2" }], "r2", 20);
    const active = await store.activeLayers();
    expect(active.map((l) => [l.id, l.activatedAt])).toEqual([["beijing", 20], ["national", 10]]);
    await store.activateLayers([{ id: "national", file: "n.yaml", text: "v2", sha256: "s3" }], "r3", 30);
    expect((await store.activeLayers()).map((l) => [l.id, l.text])).toEqual([["national", "v2"]]);
    const versions = store.db.prepare("SELECT count(*) AS n FROM rulebook_versions").get() as { n: number };
    expect(versions.n).toBe(3);
    await store.close();
  });

  it("waits for another connection's write lock without stalling the thread, then commits", async () => {
    const dir = mkdtempSync(join(tmpdir(), "social-credit-lock-"));
    const store = openSqliteStore(join(dir, "db.sqlite"));
    const other = new Database(join(dir, "db.sqlite"));
    try {
      other.exec("BEGIN IMMEDIATE");
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 5);
      const committed = store.transaction(async (tx) => tx.appendAudit([{ actor: "cli:test", action: "test", subject: null, decisionId: "d1", at: 1, detail: {} }]));
      await new Promise((r) => setTimeout(r, 300));
      // SQLite's own busy wait would have slept on this thread the whole time: no timer could have fired.
      expect(ticks).toBeGreaterThan(20);
      other.exec("COMMIT");
      expect((await committed).map((e) => e.seq)).toEqual([1]);
      clearInterval(ticker);
    } finally {
      other.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("catches a far-behind audit index up for a filtered read without stalling the thread while another connection writes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "social-credit-lock-"));
    const store = openSqliteStore(join(dir, "db.sqlite"));
    const other = new Database(join(dir, "db.sqlite"));
    try {
      await store.appendAudit([{ actor: "cli:test", action: "test", subject: ADULT.id, decisionId: "d0", at: 1, detail: {} }]);
      // Entries no connection has indexed, as an older version or a lagging bulk writer leaves them.
      const insert = other.prepare("INSERT INTO audit_log (seq, at, actor, action, subject, decision_id, detail, prev, hash) VALUES (?, 1, 'cli:bulk', 'test', ?, ?, '{}', '', '')");
      other.transaction(() => {
        for (let seq = 2; seq <= 12_001; seq++) insert.run(seq, seq % 2 === 0 ? ADULT.id : OTHER.id, `d${seq}`);
      })();
      other.exec("BEGIN IMMEDIATE");
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 5);
      const read = store.auditEntries({ subject: OTHER.id, limit: 10_000 });
      await new Promise((r) => setTimeout(r, 300));
      expect(ticks).toBeGreaterThan(20);
      other.exec("COMMIT");
      const found = await read;
      clearInterval(ticker);
      expect(found).toHaveLength(6_000);
      expect(found.every((e) => e.subject === OTHER.id)).toBe(true);
    } finally {
      other.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps the WAL bounded under a writer that never pauses, with checkpoints in the background", async () => {
    const dir = mkdtempSync(join(tmpdir(), "social-credit-wal-"));
    const store = openSqliteStore(join(dir, "db.sqlite"), { backgroundCheckpoints: true });
    try {
      store.db.exec("CREATE TABLE filler (k INTEGER PRIMARY KEY, v TEXT)");
      const insert = store.db.prepare("INSERT INTO filler (v) VALUES (?)");
      const page = "x".repeat(2000);
      // 256 MB in back-to-back transactions, as a bulk load writes them: the WAL must not grow with the data.
      for (let t = 0; t < 256; t++) {
        store.db.transaction(() => {
          for (let i = 0; i < 500; i++) insert.run(page);
        })();
        if (t % 32 === 0) await new Promise((r) => setImmediate(r));
      }
      expect(statSync(join(dir, "db.sqlite-wal")).size).toBeLessThan(160 * 1024 * 1024);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
