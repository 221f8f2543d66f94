// The audit log's lookup by subject and actor: exact after every append, cut into sorted runs that are merged a few at
// a time, kept up by a worker for bulk writers, exact while behind, and carried over from the index of schema 8.
import Database from "better-sqlite3";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chain, type AuditDraft } from "../../../src/core/audit.js";
import { MIGRATIONS } from "../../../src/storage/migrations.js";
import { AuditIndexer } from "../../../src/storage/sqlite/audit-index.js";
import { openSqliteStore, type SqliteStore } from "../../../src/storage/sqlite/sqlite-store.js";

const SUBJECTS = ["110105198506120034", "320102199001010053", "91110105MA01ABCD26"];
const ACTORS = ["key:aaaaaaaaaaaaaaaa", "key:bbbbbbbbbbbbbbbb", "cli:operator"];

/** Entry i concerns one subject, or every subject at once (a batch of checks) when i is a multiple of 7. */
function draft(i: number): AuditDraft {
  const batch = i % 7 === 0;
  return {
    actor: ACTORS[i % ACTORS.length] as string,
    action: batch ? "check.batch" : i % 2 === 0 ? "check" : "subject.read",
    subject: batch ? null : (SUBJECTS[i % SUBJECTS.length] as string),
    decisionId: `d-${i}`,
    at: 1_800_000_000_000 + i,
    detail: batch ? { subjects: SUBJECTS, checks: SUBJECTS.map((s) => ({ subject: s })) } : { n: i },
  };
}

/** What the filters must return, worked out from the drafts themselves. */
function expected(drafts: readonly AuditDraft[], f: { subject?: string; actor?: string; action?: string }, after = 0): number[] {
  return drafts
    .map((d, i) => ({ d, seq: i + 1 }))
    .filter(({ seq }) => seq > after)
    .filter(({ d }) => f.subject === undefined || d.subject === f.subject || (d.subject === null && (d.detail.subjects as string[] | undefined)?.includes(f.subject)))
    .filter(({ d }) => f.actor === undefined || d.actor === f.actor)
    .filter(({ d }) => f.action === undefined || d.action === f.action)
    .map(({ seq }) => seq);
}

const indexedTo = (store: SqliteStore) => (store.db.prepare("SELECT indexed_to AS n FROM audit_index_state").get() as { n: number }).n;

async function seqs(store: SqliteStore, f: { subject?: string; actor?: string; action?: string }, after = 0): Promise<number[]> {
  return (await store.auditEntries({ ...f, afterSeq: after, limit: 100_000 })).map((e) => e.seq);
}

/** Each filter finds what the drafts imply, from the start of the log and after `after`. */
async function expectExact(store: SqliteStore, drafts: readonly AuditDraft[], filters: readonly { subject?: string; actor?: string; action?: string }[], after: number): Promise<void> {
  for (const f of filters) {
    expect(await seqs(store, f)).toEqual(expected(drafts, f));
    expect(await seqs(store, f, after)).toEqual(expected(drafts, f, after));
  }
}

const runs = (store: SqliteStore) => store.db.prepare("SELECT level, first_seq AS first, last_seq AS last FROM audit_runs ORDER BY first_seq").all() as { level: number; first: number; last: number }[];

/** Every index row of the entries indexed so far, as read from the log, is in exactly one run, and there is no other. */
function expectWhole(store: SqliteStore): void {
  const db = store.db;
  const upto = indexedTo(store);
  const want = db
    .prepare(
      `SELECT key, seq FROM (SELECT 's:' || subject AS key, seq FROM audit_log WHERE seq <= ? AND subject IS NOT NULL
         UNION SELECT 's:' || j.value, seq FROM audit_log, json_each(detail, '$.subjects') AS j WHERE seq <= ? AND subject IS NULL
         UNION SELECT 'a:' || actor, seq FROM audit_log WHERE seq <= ?) ORDER BY key, seq`,
    )
    .all(upto, upto, upto);
  expect(db.prepare("SELECT key, seq FROM audit_run_keys ORDER BY key, seq").all()).toEqual(want);
  expect((db.prepare("SELECT count(*) AS n FROM audit_run_keys WHERE run NOT IN (SELECT id FROM audit_runs)").get() as { n: number }).n).toBe(0);
}

const FILTERS = [{ subject: SUBJECTS[0] }, { subject: SUBJECTS[2], action: "check.batch" }, { actor: ACTORS[1] }, { actor: ACTORS[2], action: "check" }, { subject: SUBJECTS[1], actor: ACTORS[0] }];

describe("the audit index", () => {
  it("answers exactly after every append, batch entries under each of their subjects, whether indexed yet or not", async () => {
    const store = openSqliteStore(":memory:");
    const drafts = Array.from({ length: 700 }, (_, i) => draft(i + 1));
    await store.appendAudit(drafts.slice(0, 100));
    // Too few entries for a run of their own: found by scanning past the index.
    expect(indexedTo(store)).toBe(0);
    for (const f of FILTERS) expect(await seqs(store, f)).toEqual(expected(drafts.slice(0, 100), f));
    await store.appendAudit(drafts.slice(100));
    // The run is cut right after the commit, not in it.
    await store.indexSettled();
    expect(indexedTo(store)).toBe(700);
    await expectExact(store, drafts, FILTERS, 350);
    await store.close();
  });

  it("cuts runs after the commits as entries come, one at a time or many, and stays exact", async () => {
    const store = openSqliteStore(":memory:");
    const drafts = Array.from({ length: 20_000 }, (_, i) => draft(i + 1));
    let appended = 0;
    const sizes = [1, 2, 5, 40, 300, 3, 1000, 7];
    for (let i = 0; appended < drafts.length; i++) {
      const size = sizes[i % sizes.length] as number;
      await store.appendAudit(drafts.slice(appended, appended + size));
      appended += size;
      if (i % 40 === 0) for (const f of FILTERS.slice(0, 2)) expect(await seqs(store, f)).toEqual(expected(drafts.slice(0, appended), f));
    }
    await store.indexSettled();
    expect(runs(store).length).toBeGreaterThan(3);
    expect(drafts.length - indexedTo(store)).toBeLessThan(128);
    expectWhole(store);
    await expectExact(store, drafts, FILTERS, 18_765);
    await store.close();
  });

  it("stays whole and exact when another connection's entries and rolled-back appends come between its cuts", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "social-credit-audit-index-")), "db.sqlite");
    const store = openSqliteStore(path);
    const other = openSqliteStore(path);
    try {
      const drafts = Array.from({ length: 6000 }, (_, i) => draft(i + 1));
      const appended: AuditDraft[] = [];
      const append = async (s: SqliteStore, n: number) => {
        const next = drafts.slice(appended.length, appended.length + n);
        await s.appendAudit(next);
        appended.push(...next);
      };
      const rolledBack = (s: SqliteStore) =>
        s.transaction(async (tx) => {
          await tx.appendAudit(drafts.slice(appended.length, appended.length + 5));
          throw new Error("the work failed");
        });
      for (let round = 0; round < 40; round++) {
        await append(store, 40);
        await store.indexSettled();
        // Now and then an append rolled back (its sequence numbers taken again next), or another connection's entries.
        if (round % 5 === 1) await expect(rolledBack(store)).rejects.toThrow("the work failed");
        if (round % 7 === 3) await append(other, 10);
        if (round % 11 === 5) {
          await expect(rolledBack(store)).rejects.toThrow("the work failed");
          await append(other, 3);
        }
        await append(store, 60);
        await store.indexSettled();
      }
      await store.indexSettled();
      await other.indexSettled();
      expect(indexedTo(store)).toBeGreaterThan(3500);
      expectWhole(store);
      await expectExact(store, appended, FILTERS, 1234);
    } finally {
      await other.close();
      await store.close();
    }
  });

  it("merges level by level, a piece at a time, every row in exactly one run after every step", async () => {
    const store = openSqliteStore(":memory:");
    store.indexAuditWithEntries(false);
    const indexer = new AuditIndexer(store.db);
    let random = 7;
    const next = (n: number) => {
      random = (random * 1_103_515_245 + 12_345) % 2 ** 31;
      return 1 + (random % n);
    };
    const drafts = Array.from({ length: 3_000 }, (_, i) => draft(i + 1));
    let appended = 0;
    let steps = 0;
    while (appended < drafts.length || indexedTo(store) < drafts.length) {
      const size = Math.min(next(60), drafts.length - appended);
      if (size > 0) await store.appendAudit(drafts.slice(appended, appended + size));
      appended += size;
      // Small runs, small pieces and few per merge, so that merges of three levels are caught halfway many times.
      store.db.transaction(() => indexer.step({ chunk: next(40) - 1, fanout: 1 + next(3), top: 3, piece: next(30), keepUp: next(2) === 1 }))();
      steps++;
      expectWhole(store);
      if (steps % 10 === 0) {
        const f = FILTERS[steps % FILTERS.length] as (typeof FILTERS)[number];
        expect(await seqs(store, f)).toEqual(expected(drafts.slice(0, appended), f));
      }
    }
    expect(runs(store).some((r) => r.level === 3)).toBe(true);
    for (const f of FILTERS) expect(await seqs(store, f, 1_234)).toEqual(expected(drafts, f, 1_234));
    await store.close();
  });

  it("leaves merging for a quiet moment: runs pile up while appends keep coming, and merge once they stop", async () => {
    const store = openSqliteStore(":memory:");
    const drafts = Array.from({ length: 70 * 128 }, (_, i) => draft(i + 1));
    // A run is cut every 128 entries, right after the commit that made it due; appends come one after another, as
    // requests do under load, each let through the event loop.
    for (let i = 0; i < drafts.length; i += 64) {
      await store.appendAudit(drafts.slice(i, i + 64));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await store.indexSettled();
    const busy = runs(store);
    expect(busy.filter((r) => r.level === 0).length).toBeGreaterThanOrEqual(64);
    expectWhole(store);
    for (const f of FILTERS) expect(await seqs(store, f)).toEqual(expected(drafts, f));
    // Quiet now: the merge goes on by itself, piece after piece, and every lookup stays exact meanwhile.
    const deadline = Date.now() + 10_000;
    while (runs(store).filter((r) => r.level === 0).length >= 64 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      expectWhole(store);
    }
    const after = runs(store);
    expect(after.filter((r) => r.level === 0).length).toBeLessThan(64);
    expect(after.some((r) => r.level === 1)).toBe(true);
    await expectExact(store, drafts, FILTERS, 4_321);
    await store.close();
  });

  it("merges with the appends again once too many runs wait, however busy, until it has caught up", async () => {
    const store = openSqliteStore(":memory:", { maxRunsUnmerged: 70 });
    const drafts = Array.from({ length: 150 * 128 }, (_, i) => draft(i + 1));
    let most = 0;
    for (let i = 0; i < drafts.length; i += 64) {
      await store.appendAudit(drafts.slice(i, i + 64));
      await new Promise((resolve) => setImmediate(resolve));
      most = Math.max(most, runs(store).filter((r) => r.level === 0).length);
    }
    await store.indexSettled();
    // 150 runs were cut; past the bound each cut brought a piece of the merge and pieces followed at once, so the runs
    // waiting never went far past it (a merge's sources count until it ends, and cuts go on meanwhile).
    expect(most).toBeGreaterThan(70);
    expect(most).toBeLessThan(100);
    expect(runs(store).some((r) => r.level === 1)).toBe(true);
    expectWhole(store);
    await expectExact(store, drafts, FILTERS, 9_876);
    await store.close();
  });

  it("catches up a log an older version left unindexed: exact answers before, during and after", async () => {
    const store = openSqliteStore(":memory:");
    const drafts = Array.from({ length: 12_000 }, (_, i) => draft(i + 1));
    await store.appendAudit(drafts);
    // As a version that indexed behind the log left it: nothing indexed yet.
    store.db.exec("DELETE FROM audit_run_keys; DELETE FROM audit_runs; UPDATE audit_index_state SET indexed_to = 0");
    // Far behind: the reader indexes until few entries are left to scan, and gets the same answers.
    await expectExact(store, drafts, [{ subject: SUBJECTS[1] }, { subject: SUBJECTS[2], actor: ACTORS[0] }, { actor: ACTORS[2] }], 5_000);
    expect(indexedTo(store)).toBeGreaterThan(6_000);
    // The next appends index the backlog from wherever it stands, a bounded chunk each, until less than a run is left.
    const more = [draft(12_001), draft(12_002)];
    for (const d of more) await store.appendAudit([d]);
    await store.indexSettled();
    expect(12_002 - indexedTo(store)).toBeLessThan(128);
    expectWhole(store);
    const all = [...drafts, ...more];
    for (const f of [{ subject: SUBJECTS[0] }, { actor: ACTORS[0] }, { actor: ACTORS[1] }]) expect(await seqs(store, f)).toEqual(expected(all, f));
    await store.close();
  });

  it("is kept up by the worker of a bulk writer's store, and exact meanwhile", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "social-credit-audit-index-")), "db.sqlite");
    const store = openSqliteStore(path, { backgroundCheckpoints: true, indexAuditBehind: true });
    try {
      const drafts = Array.from({ length: 500 }, (_, i) => draft(i + 1));
      await store.appendAudit(drafts);
      // The append left the index to the worker; whatever it has done so far, the answer is whole.
      expect(await seqs(store, { subject: SUBJECTS[1] })).toEqual(expected(drafts, { subject: SUBJECTS[1] }));
      const deadline = Date.now() + 10_000;
      while (indexedTo(store) < 500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(indexedTo(store)).toBe(500);
      expect(await seqs(store, { subject: SUBJECTS[0] })).toEqual(expected(drafts, { subject: SUBJECTS[0] }));
    } finally {
      await store.close();
    }
  });

  it("carries the index of schema 8 over as one run of the top level", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "social-credit-audit-index-")), "db.sqlite");
    const drafts = Array.from({ length: 900 }, (_, i) => draft(i + 1));
    // A database as schema 8 left it: the log, indexed up to entry 800 in the table of that version.
    const old = new Database(path);
    old.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
    for (const m of MIGRATIONS.filter((m) => m.version <= 8)) {
      old.exec(m.sqlite);
      old.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(m.version, m.name, "2026-01-01T00:00:00Z");
    }
    const insert = old.prepare("INSERT INTO audit_log (seq, at, actor, action, subject, decision_id, detail, prev, hash) VALUES (@seq, @at, @actor, @action, @subject, @decisionId, @detail, @prev, @hash)");
    for (const e of chain(drafts, undefined)) insert.run({ ...e, detail: JSON.stringify(e.detail) });
    old.exec(`INSERT INTO audit_index (key, seq) SELECT 's:' || subject, seq FROM audit_log WHERE seq <= 800 AND subject IS NOT NULL;
      INSERT OR IGNORE INTO audit_index (key, seq) SELECT 's:' || j.value, seq FROM audit_log, json_each(audit_log.detail, '$.subjects') AS j WHERE seq <= 800 AND subject IS NULL;
      INSERT INTO audit_index (key, seq) SELECT 'a:' || actor, seq FROM audit_log WHERE seq <= 800;
      UPDATE audit_index_state SET indexed_to = 800`);
    old.close();
    const store = openSqliteStore(path);
    try {
      expect(runs(store)).toEqual([{ level: 2, first: 1, last: 800 }]);
      await expectExact(store, drafts, FILTERS, 500);
    } finally {
      await store.close();
    }
  });
});
