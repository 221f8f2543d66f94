// The audit log as an operator relies on it: real activity verifies, and tampering with the SQLite file is named entry by entry.
import { generateKeyPairSync, verify, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { accessLog, readAudit, verifyAudit, writeCheckpoint } from "../../src/app/audit.js";
import { fixedClock } from "../../src/app/clock.js";
import { AppContext } from "../../src/app/context.js";
import { importRecords, loggedRecords, type InputLine } from "../../src/app/ingest.js";
import { activateRulebooks } from "../../src/app/rulebooks.js";
import { check, checkMany, readStatus } from "../../src/app/statuses.js";
import { chain, checkpointPayload, type AuditEntry, type Checkpoint } from "../../src/core/audit.js";
import { openSqliteStore, type SqliteStore } from "../../src/storage/sqlite/sqlite-store.js";
import type { StoreTx } from "../../src/storage/store.js";

const NOW = Date.parse("2026-11-23T10:00:00+08:00");
const SHIPPED = ["national", "beijing", "jiangsu", "hangzhou", "rongcheng"].map((n) => ({ file: `rulebooks/${n}.yaml`, text: readFileSync(`rulebooks/${n}.yaml`, "utf8") }));
const EXAMPLES = readFileSync("examples/records.ndjson", "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as unknown);
/** examples/records.ndjson: 10 lines, one with a bad check character. */
const EXAMPLE_ACCEPTED = 9;
const ADULT = "110105198506120034";
const CHILD = "110108201603150044";
const ACTOR = "test:audit";

async function* linesOf(values: readonly unknown[]): AsyncGenerator<InputLine> {
  let line = 0;
  for (const value of values) yield { line: ++line, value, raw: JSON.stringify(value) };
}

interface Fixture {
  ctx: AppContext;
  store: SqliteStore;
  /** A second connection to the same file: the tamperer, who does not go through the application. */
  raw: Database.Database;
  signing: { privateKey: KeyObject; publicKey: KeyObject };
}

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A file-backed store with the rulebooks active and nothing else. */
async function emptyLog(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), "social-credit-audit-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "db.sqlite");
  const store = openSqliteStore(path);
  cleanups.push(() => store.close());
  const ctx = new AppContext(store, fixedClock(NOW));
  await activateRulebooks(ctx, ACTOR, SHIPPED);
  const raw = new Database(path);
  cleanups.push(() => void raw.close());
  return { ctx, store, raw, signing: generateKeyPairSync("ed25519") };
}

/** A log after the kinds of activity users cause: imports, reads, checks, an auditor's reading, a subject's access log. */
async function busyLog(): Promise<Fixture> {
  const f = await emptyLog();
  const receipt = await importRecords(f.ctx, ACTOR, linesOf(EXAMPLES));
  expect(receipt.accepted).toBe(EXAMPLE_ACCEPTED);
  await readStatus(f.ctx, ACTOR, ADULT);
  await check(f.ctx, "key:enforcer", ADULT, "restrict-air-travel");
  await checkMany(f.ctx, "key:enforcer", [
    { subject: ADULT, measure: "restrict-high-speed-rail" },
    { subject: CHILD, measure: "restrict-air-travel" },
  ]);
  // Filters with absent members: their detail must hash the same before and after a trip through SQLite.
  await readAudit(f.ctx, "key:auditor", { limit: 5, subject: undefined, action: "check" });
  await accessLog(f.ctx, "key:subject", ADULT, 0, 50);
  await readStatus(f.ctx, ACTOR, CHILD);
  return f;
}

const allEntries = (f: Fixture) => f.ctx.store.auditEntries({ limit: 100_000 });
const count = (f: Fixture, table: string) => (f.raw.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

/** A sequence number well inside the log, with entries on both sides. */
async function middleSeq(f: Fixture): Promise<number> {
  const entries = await allEntries(f);
  expect(entries.length).toBeGreaterThan(6);
  return (entries[Math.floor(entries.length / 2)] as AuditEntry).seq;
}

describe("verifyAudit on an untouched log", () => {
  it("verifies the log real activity left, one entry per audited act, with the signed checkpoint", async () => {
    const f = await busyLog();
    const entries = await allEntries(f);
    const actions = entries.map((e) => e.action);
    // One entry for the import's batch, listing every record it accepted with its subject.
    const accepted = entries.filter((e) => e.action === "record.accepted");
    expect(accepted).toHaveLength(1);
    expect(accepted.flatMap((e) => loggedRecords(e) ?? [])).toHaveLength(EXAMPLE_ACCEPTED);
    // One entry per check request: the single check, and the batch holding its two decisions.
    expect(actions.filter((a) => a === "check")).toHaveLength(1);
    const batch = entries.filter((e) => e.action === "check.batch");
    expect(batch).toHaveLength(1);
    expect(batch[0]?.detail.checks).toHaveLength(2);
    expect(actions.filter((a) => a === "subject.read")).toHaveLength(2);
    expect(actions).toEqual(expect.arrayContaining(["rulebook.activated", "audit.read", "subject.access-log.read"]));

    const cp = await writeCheckpoint(f.ctx, f.signing.privateKey);
    expect(cp?.seq).toBe(entries.length);
    const report = await verifyAudit(f.ctx, { key: f.signing.publicKey });
    expect(report).toEqual({ ok: true, entries: entries.length, checkpoints: 1, warnings: [] });
  });

  it("warns that signatures were not checked when no key is given, and still verifies the chain", async () => {
    const f = await busyLog();
    await writeCheckpoint(f.ctx, f.signing.privateKey);
    const report = await verifyAudit(f.ctx);
    expect(report.ok).toBe(true);
    expect(report.warnings).toEqual([expect.stringMatching(/no audit key given: checkpoint signatures were not verified/)]);
  });

  it("warns about entries after the last checkpoint, naming them, since their truncation would go unseen", async () => {
    const f = await busyLog();
    const head = (await allEntries(f)).length;
    expect((await verifyAudit(f.ctx, { key: f.signing.publicKey })).warnings).toEqual([`entries 1 to ${head} come after the last checkpoint: their truncation would not be detected until the next one`]);

    await writeCheckpoint(f.ctx, f.signing.privateKey);
    await readStatus(f.ctx, ACTOR, ADULT);
    await readStatus(f.ctx, ACTOR, CHILD);
    const report = await verifyAudit(f.ctx, { key: f.signing.publicKey });
    expect(report.ok).toBe(true);
    expect(report.warnings).toEqual([expect.stringMatching(new RegExp(`^entries ${head + 1} to ${head + 2} come after the last checkpoint`))]);
  });
});

describe("writeCheckpoint", () => {
  it("signs the head with the key, and does nothing while the head is already covered", async () => {
    const f = await emptyLog();
    f.raw.prepare("DELETE FROM audit_log").run();
    expect(await writeCheckpoint(f.ctx, f.signing.privateKey)).toBeUndefined();

    await readStatus(f.ctx, ACTOR, ADULT);
    const first = (await writeCheckpoint(f.ctx, f.signing.privateKey)) as Checkpoint;
    const head = await f.ctx.store.auditHead();
    expect(first).toMatchObject({ seq: head?.seq, hash: head?.hash, at: NOW });
    expect(verify(null, checkpointPayload(first), f.signing.publicKey, Buffer.from(first.signature, "base64"))).toBe(true);

    expect(await writeCheckpoint(f.ctx, f.signing.privateKey)).toBeUndefined();
    expect(await f.ctx.store.checkpoints()).toEqual([first]);

    await readStatus(f.ctx, ACTOR, CHILD);
    const second = await writeCheckpoint(f.ctx, f.signing.privateKey);
    expect(second?.seq).toBe(first.seq + 1);
    expect(await f.ctx.store.checkpoints()).toHaveLength(2);
  });
});

describe("verifyAudit after the SQLite file was tampered with", () => {
  /** Each case edits the file behind the application's back and says which entry must be named. */
  const cases: { name: string; tamper: (raw: Database.Database, mid: number) => void; expected: (mid: number) => number; reason: RegExp }[] = [
    {
      name: "one row's detail was edited",
      tamper: (raw, mid) => raw.prepare("UPDATE audit_log SET detail = json_set(detail, '$.forged', 1) WHERE seq = ?").run(mid),
      expected: (mid) => mid,
      reason: /was edited/,
    },
    {
      name: "one row's actor was edited",
      tamper: (raw, mid) => raw.prepare("UPDATE audit_log SET actor = 'cli:somebody-else' WHERE seq = ?").run(mid),
      expected: (mid) => mid,
      reason: /was edited/,
    },
    {
      name: "a middle row was deleted",
      tamper: (raw, mid) => raw.prepare("DELETE FROM audit_log WHERE seq = ?").run(mid),
      expected: (mid) => mid,
      reason: /is missing/,
    },
    {
      name: "two adjacent rows swapped their seq",
      tamper: (raw, mid) =>
        raw.transaction(() => {
          raw.prepare("UPDATE audit_log SET seq = -1 WHERE seq = ?").run(mid);
          raw.prepare("UPDATE audit_log SET seq = ? WHERE seq = ?").run(mid, mid + 1);
          raw.prepare("UPDATE audit_log SET seq = ? WHERE seq = -1").run(mid + 1);
        })(),
      expected: (mid) => mid,
      reason: /does not link/,
    },
    {
      name: "the tail was deleted after a checkpoint covered it (truncation)",
      tamper: (raw, mid) => raw.prepare("DELETE FROM audit_log WHERE seq >= ?").run(mid),
      expected: (mid) => mid,
      reason: /were deleted/,
    },
  ];

  for (const c of cases) {
    it(`names the entry when ${c.name}`, async () => {
      const f = await busyLog();
      await writeCheckpoint(f.ctx, f.signing.privateKey);
      expect((await verifyAudit(f.ctx, { key: f.signing.publicKey })).ok).toBe(true);
      const mid = await middleSeq(f);

      c.tamper(f.raw, mid);
      const report = await verifyAudit(f.ctx, { key: f.signing.publicKey });
      expect(report.ok).toBe(false);
      expect(report.problem?.seq).toBe(c.expected(mid));
      expect(report.problem?.reason).toMatch(c.reason);
      expect(report.problem?.reason).toContain(String(c.expected(mid)));
    });
  }

  it("catches a rewrite that re-chained every later entry, through the checkpoint, even with the table emptied if a copy is kept", async () => {
    const f = await busyLog();
    const cp = (await writeCheckpoint(f.ctx, f.signing.privateKey)) as Checkpoint;
    const mid = await middleSeq(f);
    const entries = await allEntries(f);
    const before = entries.find((e) => e.seq === mid - 1) as AuditEntry;
    // A forger with the whole file: changes who read an entry and recomputes every hash after it.
    const forged = chain(
      entries.filter((e) => e.seq >= mid).map(({ seq: _s, prev: _p, hash: _h, ...d }, i) => (i === 0 ? { ...d, actor: "cli:nobody" } : d)),
      { seq: before.seq, hash: before.hash },
    );
    const put = f.raw.prepare("UPDATE audit_log SET actor = @actor, prev = @prev, hash = @hash WHERE seq = @seq");
    f.raw.transaction(() => forged.forEach((e) => put.run(e)))();

    const report = await verifyAudit(f.ctx, { key: f.signing.publicKey });
    expect(report.ok).toBe(false);
    expect(report.problem).toEqual({ seq: cp.seq, reason: expect.stringMatching(/not the one the checkpoint signed .*: the log was rewritten/) });

    // Without the checkpoint the rewrite is a consistent chain; a copy kept elsewhere still catches it.
    f.raw.prepare("DELETE FROM audit_checkpoints").run();
    expect((await verifyAudit(f.ctx, { key: f.signing.publicKey })).ok).toBe(true);
    const withCopy = await verifyAudit(f.ctx, { key: f.signing.publicKey, extraCheckpoints: [cp] });
    expect(withCopy.ok).toBe(false);
    expect(withCopy.problem?.seq).toBe(cp.seq);
  });

  it("detects truncation with an exported checkpoint after the checkpoint table was emptied", async () => {
    const f = await busyLog();
    const cp = (await writeCheckpoint(f.ctx, f.signing.privateKey)) as Checkpoint;
    const mid = await middleSeq(f);
    f.raw.prepare("DELETE FROM audit_log WHERE seq >= ?").run(mid);
    f.raw.prepare("DELETE FROM audit_checkpoints").run();
    expect((await verifyAudit(f.ctx, { key: f.signing.publicKey })).ok).toBe(true);

    const report = await verifyAudit(f.ctx, { key: f.signing.publicKey, extraCheckpoints: [cp] });
    expect(report.ok).toBe(false);
    expect(report.problem?.seq).toBe(mid);
    expect(report.problem?.reason).toMatch(new RegExp(`entries ${mid} to ${cp.seq} were deleted`));
  });

  it("refuses a checkpoint whose signature was altered", async () => {
    const f = await busyLog();
    const cp = (await writeCheckpoint(f.ctx, f.signing.privateKey)) as Checkpoint;
    const sig = Buffer.from(cp.signature, "base64");
    sig[10] = (sig[10] as number) ^ 0x01;
    f.raw.prepare("UPDATE audit_checkpoints SET signature = ? WHERE seq = ?").run(sig.toString("base64"), cp.seq);

    const report = await verifyAudit(f.ctx, { key: f.signing.publicKey });
    expect(report.ok).toBe(false);
    expect(report.problem).toEqual({ seq: cp.seq, reason: expect.stringMatching(/bad signature/) });
  });

  it("refuses a checkpoint moved to another entry without re-signing it", async () => {
    // What a forger without the private key would do after truncating: point the checkpoint at the new head.
    const f = await busyLog();
    const cp = (await writeCheckpoint(f.ctx, f.signing.privateKey)) as Checkpoint;
    const mid = await middleSeq(f);
    f.raw.prepare("DELETE FROM audit_log WHERE seq > ?").run(mid);
    const newHead = (await f.ctx.store.auditHead()) as { seq: number; hash: string };
    f.raw.prepare("UPDATE audit_checkpoints SET seq = ?, hash = ? WHERE seq = ?").run(newHead.seq, newHead.hash, cp.seq);

    const report = await verifyAudit(f.ctx, { key: f.signing.publicKey });
    expect(report.ok).toBe(false);
    expect(report.problem).toEqual({ seq: newHead.seq, reason: expect.stringMatching(/bad signature/) });
  });

  it("refuses a checkpoint verified with another key's public key", async () => {
    const f = await busyLog();
    const cp = (await writeCheckpoint(f.ctx, f.signing.privateKey)) as Checkpoint;
    const other = generateKeyPairSync("ed25519").publicKey;
    const report = await verifyAudit(f.ctx, { key: other });
    expect(report.ok).toBe(false);
    expect(report.problem).toEqual({ seq: cp.seq, reason: expect.stringMatching(/bad signature/) });
  });
});

/** Makes every appendAudit inside the store's transactions throw, as a failing audit write would. */
function failAuditWrites(store: SqliteStore, when: (call: number) => boolean = () => true): void {
  const original = store.transaction.bind(store);
  let calls = 0;
  store.transaction = <T>(work: (tx: StoreTx) => Promise<T>): Promise<T> =>
    original((tx) =>
      work(
        new Proxy(tx, {
          get(target, prop) {
            const value = Reflect.get(target, prop) as unknown;
            if (prop === "appendAudit") {
              return async (...args: Parameters<StoreTx["appendAudit"]>) => {
                if (when(++calls)) throw new Error("audit log unavailable");
                return target.appendAudit(...args);
              };
            }
            return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        }),
      ),
    );
}

describe("importRecords and its audit entries", () => {
  it("lists every accepted record once, with its subject, under the receipt's decision id, and nothing for duplicates", async () => {
    const f = await emptyLog();
    const receipt = await importRecords(f.ctx, ACTOR, linesOf(EXAMPLES));
    const stored = (f.raw.prepare("SELECT id FROM records ORDER BY id").all() as { id: string }[]).map((r) => r.id);
    const audited = (await f.ctx.store.auditEntries({ action: "record.accepted", limit: 1000 })).filter((e) => e.decisionId === receipt.decisionId);
    expect(stored).toHaveLength(EXAMPLE_ACCEPTED);
    const listed = audited.flatMap((e) => loggedRecords(e) ?? []);
    expect(listed.map((r) => r.record).sort()).toEqual(stored);
    const subjects = new Map((f.raw.prepare("SELECT id, subject FROM records").all() as { id: string; subject: string }[]).map((r) => [r.id, r.subject]));
    expect(listed.every((r) => subjects.get(r.record) === r.subject)).toBe(true);
    expect(audited.every((e) => e.actor === ACTOR && e.at === NOW)).toBe(true);
    // Found under each subject it names.
    for (const subject of new Set(subjects.values())) {
      expect((await f.ctx.store.auditEntries({ subject, action: "record.accepted", limit: 10 })).map((e) => e.seq)).toEqual(audited.map((e) => e.seq));
    }

    const head = await f.ctx.store.auditHead();
    const again = await importRecords(f.ctx, ACTOR, linesOf(EXAMPLES));
    expect(again.duplicates).toBe(EXAMPLE_ACCEPTED);
    expect(await f.ctx.store.auditHead()).toEqual(head);
  });

  it("shows a subject, from an entry of several records, their own records only", async () => {
    const f = await emptyLog();
    await importRecords(f.ctx, ACTOR, linesOf(EXAMPLES));
    const own = (f.raw.prepare("SELECT id FROM records WHERE subject = ? ORDER BY id").all(ADULT) as { id: string }[]).map((r) => r.id);
    expect(own.length).toBeGreaterThan(0);
    expect((f.raw.prepare("SELECT count(DISTINCT subject) AS n FROM records").get() as { n: number }).n).toBeGreaterThan(1);
    const log = (await accessLog(f.ctx, "key:subject", ADULT, 0, 50)).filter((e) => e.action === "record.accepted");
    expect(log.map((e) => e.detail)).toEqual(own.map((record) => ({ record })));
    expect(log.every((e) => e.actor.id === ACTOR)).toBe(true);
  });

  it("writes no record when its audit entry cannot be written (appendAudit throws in the transaction)", async () => {
    const f = await emptyLog();
    const head = await f.ctx.store.auditHead();
    failAuditWrites(f.store);
    await expect(importRecords(f.ctx, ACTOR, linesOf(EXAMPLES))).rejects.toThrow(/audit log unavailable/);
    expect(await f.ctx.store.counts()).toEqual({ subjects: 0, records: 0, retracted: 0 });
    expect(count(f, "record_history")).toBe(0);
    expect(count(f, "statuses")).toBe(0);
    expect(await f.ctx.store.auditHead()).toEqual(head);
  });

  it("writes no record when the database refuses the audit row itself", async () => {
    // The real appendAudit, failing at the INSERT: the records written just before it in the transaction must go too.
    const f = await emptyLog();
    f.raw.exec("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    await expect(importRecords(f.ctx, ACTOR, linesOf(EXAMPLES))).rejects.toThrow(/disk full/);
    expect((await f.ctx.store.counts()).records).toBe(0);
    expect(count(f, "statuses")).toBe(0);

    f.raw.exec("DROP TRIGGER refuse_audit");
    expect((await importRecords(f.ctx, ACTOR, linesOf(EXAMPLES))).accepted).toBe(EXAMPLE_ACCEPTED);
    expect((await verifyAudit(f.ctx)).ok).toBe(true);
  });

  it("keeps the batches committed before the failure, each with its entries, and nothing of the failed one", async () => {
    const f = await emptyLog();
    failAuditWrites(f.store, (call) => call === 2);
    await expect(importRecords(f.ctx, ACTOR, linesOf(EXAMPLES), { batchSize: 3 })).rejects.toThrow(/audit log unavailable/);
    const stored = (f.raw.prepare("SELECT id FROM records ORDER BY id").all() as { id: string }[]).map((r) => r.id);
    const audited = (await f.ctx.store.auditEntries({ action: "record.accepted", limit: 1000 })).flatMap((e) => (loggedRecords(e) ?? []).map((r) => r.record)).sort();
    expect(stored).toHaveLength(3);
    expect(audited).toEqual(stored);
  });
});
