// The audit log's lookup by subject and actor: complete after every append, kept up by a worker for bulk writers, exact while behind.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AuditDraft } from "../../../src/core/audit.js";
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

describe("the audit index", () => {
  it("is complete after every append, batch entries under each of their subjects", async () => {
    const store = openSqliteStore(":memory:");
    const drafts = Array.from({ length: 700 }, (_, i) => draft(i + 1));
    await store.appendAudit(drafts.slice(0, 300));
    expect(indexedTo(store)).toBe(300);
    await store.appendAudit(drafts.slice(300));
    expect(indexedTo(store)).toBe(700);
    for (const f of [{ subject: SUBJECTS[0] }, { subject: SUBJECTS[2], action: "check.batch" }, { actor: ACTORS[1] }, { actor: ACTORS[2], action: "check" }, { subject: SUBJECTS[1], actor: ACTORS[0] }]) {
      expect(await seqs(store, f)).toEqual(expected(drafts, f));
      expect(await seqs(store, f, 350)).toEqual(expected(drafts, f, 350));
    }
    await store.close();
  });

  it("catches up a log an older version left unindexed: exact answers before, during and after", async () => {
    const store = openSqliteStore(":memory:");
    const drafts = Array.from({ length: 12_000 }, (_, i) => draft(i + 1));
    await store.appendAudit(drafts);
    // As a version that indexed behind the log left it: nothing indexed yet.
    store.db.exec("DELETE FROM audit_index; UPDATE audit_index_state SET indexed_to = 0");
    // Far behind: the reader indexes until few entries are left to scan, and gets the same answers.
    for (const f of [{ subject: SUBJECTS[1] }, { subject: SUBJECTS[2], actor: ACTORS[0] }, { actor: ACTORS[2] }]) {
      expect(await seqs(store, f)).toEqual(expected(drafts, f));
      expect(await seqs(store, f, 5_000)).toEqual(expected(drafts, f, 5_000));
    }
    expect(indexedTo(store)).toBeGreaterThan(6_000);
    // The next append completes the index from wherever it stands.
    const more = draft(12_001);
    await store.appendAudit([more]);
    expect(indexedTo(store)).toBe(12_001);
    const all = [...drafts, more];
    for (const f of [{ subject: SUBJECTS[0] }, { actor: ACTORS[more.actor === ACTORS[0] ? 0 : 1] }]) expect(await seqs(store, f)).toEqual(expected(all, f));
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
});
