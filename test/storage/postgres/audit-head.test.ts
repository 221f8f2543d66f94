// How a PostgreSQL audit append that chained after the head its process expects moves the head at commit: it waits for
// the append it chained after while that one holds the head, and fails as a serialization failure (retried from the
// locked head) when the head is anywhere else.
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../../../src/storage/open.js";
import type { Store } from "../../../src/storage/store.js";
import { testBackends } from "../backends.js";

const postgres = (await testBackends()).find((b) => b.name === "postgres");
const clients: pg.Client[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
});

async function connect(where: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: where });
  await c.connect();
  clients.push(c);
  return c;
}

/** A store whose log holds one entry, and two connections of its own to its database. */
async function oneEntry(): Promise<{ store: Store; head: { seq: number; hash: string }; a: pg.Client; b: pg.Client }> {
  const where = await (postgres as NonNullable<typeof postgres>).location();
  const store = openStore(where);
  const [first] = await store.appendAudit([{ actor: "cli:test", action: "check", subject: null, decisionId: "d1", at: 1, detail: {} }]);
  if (!first) throw new Error("no entry appended");
  return { store, head: { seq: first.seq, hash: first.hash }, a: await connect(where), b: await connect(where) };
}

const advance = (c: pg.Client, from: { seq: number; hash: string }, to: { seq: number; hash: string }) =>
  c.query("SELECT social_credit_advance_audit_head($1, $2, $3, $4)", [from.seq, from.hash, to.seq, to.hash]);
const headOf = async (c: pg.Client) => (await c.query<{ seq: string; hash: string }>("SELECT seq, hash FROM audit_head WHERE id = 1")).rows[0];
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: { code?: string; message: string; detail?: string }) => e);

describe.skipIf(!postgres)("social_credit_advance_audit_head", () => {
  it("moves the head from where the append chained after", async () => {
    const { store, head, a } = await oneEntry();
    await advance(a, head, { seq: 2, hash: "h2" });
    expect(await headOf(a)).toEqual({ seq: "2", hash: "h2" });
    await store.close();
  });

  it("fails as a serialization failure when another process moved the head past it", async () => {
    const { store, head, a } = await oneEntry();
    await advance(a, head, { seq: 2, hash: "h2" });
    const e = await failure(advance(a, head, { seq: 2, hash: "other" }));
    expect(e?.code).toBe("40001");
    expect(e?.message).toMatch(/head is entry 2, not entry 1/);
    // What makes the process pause chaining ahead for a while.
    expect(e?.detail).toBe("the head is past the expected entry: another process appended");
    expect(await headOf(a)).toEqual({ seq: "2", hash: "h2" });
    await store.close();
  });

  it("fails at once when the append it chained after has not reached the server yet, without holding that one up", async () => {
    const { store, head, a, b } = await oneEntry();
    await b.query("BEGIN");
    const e = await failure(advance(b, { seq: 2, hash: "h2" }, { seq: 3, hash: "h3" }));
    expect(e?.code).toBe("40001");
    expect(e?.message).toMatch(/head is entry 1, not entry 2/);
    expect(e?.detail).toBe("the head is short of the expected entry");
    await b.query("ROLLBACK");
    await advance(a, head, { seq: 2, hash: "h2" });
    expect(await headOf(a)).toEqual({ seq: "2", hash: "h2" });
    await store.close();
  });

  it("waits for the lock of the append it chained after, and moves the head once that one commits", async () => {
    const { store, head, a, b } = await oneEntry();
    await a.query("BEGIN");
    await advance(a, head, { seq: 2, hash: "h2" });
    let done = false;
    const second = advance(b, { seq: 2, hash: "h2" }, { seq: 3, hash: "h3" }).then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(done).toBe(false);
    await a.query("COMMIT");
    await second;
    expect(await headOf(a)).toEqual({ seq: "3", hash: "h3" });
    await store.close();
  });

  it("fails as a serialization failure when the append it chained after rolls back and the head never comes", async () => {
    const { store, head, a, b } = await oneEntry();
    await a.query("BEGIN");
    await advance(a, head, { seq: 2, hash: "h2" });
    const second = failure(advance(b, { seq: 2, hash: "h2" }, { seq: 3, hash: "h3" }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    await a.query("ROLLBACK");
    expect((await second)?.code).toBe("40001");
    expect(await headOf(a)).toEqual({ seq: "1", hash: head.hash });
    await store.close();
  });
});

describe.skipIf(!postgres)("a PostgreSQL store chaining ahead", () => {
  const draft = (i: number) => ({ actor: "cli:test", action: "check", subject: null, decisionId: `d${i}`, at: i, detail: { i } });

  /** Two stores on one database, as two processes, each having appended once; the second last. */
  async function twoProcesses() {
    const where = await (postgres as NonNullable<typeof postgres>).location();
    const [one, two] = [openStore(where), openStore(where)];
    await one.appendAudit([draft(1)]);
    await two.appendAudit([draft(2)]);
    return { one, two };
  }

  /** Runs an audited transaction and counts how often its work ran: a second run is a retry from the locked head. */
  async function runs(store: Store, i: number, work: (tx: Parameters<Parameters<Store["transaction"]>[0]>[0]) => Promise<unknown> = async () => undefined) {
    let n = 0;
    await store.transaction(async (tx) => {
      n++;
      await work(tx);
      await tx.appendAudit([draft(i)]);
    });
    return n;
  }

  it("never chains ahead in a transaction that did database work first, so that work is never done twice", async () => {
    const { one, two } = await twoProcesses();
    // `one` expects the head at its own entry, but `two` appended since.
    expect(await runs(one, 3, (tx) => tx.recordsOf("110105198506120034"))).toBe(1);
    const all = await one.auditEntries({ limit: 10 });
    expect(all.map((e) => e.decisionId)).toEqual(["d1", "d2", "d3"]);
    await Promise.all([one.close(), two.close()]);
  });

  it("after another process moved the head, retries once, then takes the head's lock for a while instead of failing again", async () => {
    const { one, two } = await twoProcesses();
    expect(await runs(one, 3)).toBe(2);
    await two.appendAudit([draft(4)]);
    expect(await runs(one, 5)).toBe(1);
    const all = await two.auditEntries({ limit: 10 });
    expect(all.map((e) => [e.seq, e.decisionId])).toEqual([[1, "d1"], [2, "d2"], [3, "d3"], [4, "d4"], [5, "d5"]]);
    await Promise.all([one.close(), two.close()]);
  });
});
