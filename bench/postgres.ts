// The PostgreSQL benchmark. The issue asks, measured in one run: import into PostgreSQL reaches at least half the rate
// of a raw COPY of the same rows into a bare table; checks against a PostgreSQL-backed server reach at least 80% of the
// SQLite-backed rate.
//
// Import: the synthetic city of the import benchmark written to an NDJSON file (not timed), imported as
// `social-credit import FILE` does (a reader thread parses and validates, the importing thread writes) into a fresh
// PostgreSQL database with the shipped rulebooks (the store's batches of 10,000, each one transaction of
// COPY and set-based statements), beside a raw COPY of the same rows, prepared beforehand, into a bare table of the same
// columns with a primary key and nothing else, 10,000 rows per transaction. It also reports what the stored rows weigh,
// the figures docs/scaling.md builds on.
//
// Checks: the fixture of the check benchmark built once into SQLite and once into PostgreSQL, each served by the real
// HTTP API in a child process, loaded alternately with the same requests.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { fixedClock } from "../src/app/clock.js";
import { AppContext } from "../src/app/context.js";
import { activateRulebooks } from "../src/app/rulebooks.js";
import { copyRows, type CopyValue } from "../src/storage/postgres/copy.js";
import { openPostgresStore } from "../src/storage/postgres/pg-store.js";
import { buildPopulation, seeded, shuffle } from "./fixtures.js";
import { figure, loadRun, medianCores, startChild, stopChildren, summarize, untilIdle, type Benchmark, type BenchOptions, type Interference, type LoadRun } from "./harness.js";
import { ACTOR, AT, cityLines, cityOptions, importWhole, interferenceNotes, removeDir, round, rowsOf, shippedRuleset, shippedRulebooks, tempDir, timed, type CityBenchOptions, type Row } from "./import.js";

/** The server the benchmark uses: SOCIAL_CREDIT_BENCH_PG, or the test server (trust auth, user postgres). */
const SERVER = process.env.SOCIAL_CREDIT_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432";
const BATCH = 10_000;

async function admin<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A fresh database, dropped by the returned function. */
async function scratchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `sc_bench_${randomBytes(5).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  return { url: `${SERVER}/${name}`, drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined) };
}

const COLUMNS = ["id", "source", "external_id", "subject", "category", "occurred_at", "attributes", "legal_ref", "evidence_ref", "state", "revision", "content_hash", "received_at"] as const;

/** The baseline: COPY of the prepared rows into a bare table, 10,000 rows per transaction. */
async function rawCopy(url: string, rows: readonly Row[]): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE TABLE bare_records (
      id TEXT PRIMARY KEY, source TEXT NOT NULL, external_id TEXT NOT NULL, subject TEXT NOT NULL, category TEXT NOT NULL,
      occurred_at BIGINT NOT NULL, attributes TEXT NOT NULL, legal_ref TEXT NOT NULL, evidence_ref TEXT,
      state TEXT NOT NULL, revision INTEGER NOT NULL, content_hash TEXT NOT NULL, received_at BIGINT NOT NULL)`);
    const values = rows.map((r): CopyValue[] => COLUMNS.map((c) => (c === "state" ? "active" : c === "revision" ? 1 : r[c])));
    const t0 = performance.now();
    for (let i = 0; i < values.length; i += BATCH) {
      await client.query("BEGIN");
      await copyRows(client, "bare_records", COLUMNS, values.slice(i, i + BATCH));
      await client.query("COMMIT");
    }
    const ms = performance.now() - t0;
    const n = (await client.query<{ n: string }>("SELECT count(*) AS n FROM bare_records")).rows[0]?.n;
    if (Number(n) !== rows.length) throw new Error(`raw COPY stored ${n} of ${rows.length} rows`);
    return ms;
  } finally {
    await client.end();
  }
}

/** What the stored rows weigh, table by table (partitions, indexes and TOAST included). */
async function footprint(url: string): Promise<Record<string, { rows: number; bytes: number }>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const out: Record<string, { rows: number; bytes: number }> = {};
    for (const t of ["records", "record_ids", "record_history", "statuses", "subject_locks", "list_members", "notices", "outbox", "sign_offs", "audit_log"]) {
      const r = await client.query<{ rows: string; bytes: string }>(
        `SELECT (SELECT count(*) FROM ${t}) AS rows,
           (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c WHERE c.oid = '${t}'::regclass OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = '${t}'::regclass)) AS bytes`,
      );
      out[t] = { rows: Number(r.rows[0]?.rows), bytes: Number(r.rows[0]?.bytes) };
    }
    return out;
  } finally {
    await client.end();
  }
}

async function importPart(o: BenchOptions & CityBenchOptions) {
  const { people, regions } = cityOptions(o);
  o.log(`postgres: generating a ${regions} city of ${people.toLocaleString("en-US")} people into memory (not timed)...`);
  const city = cityLines(await shippedRuleset(), people, regions);
  const rows = rowsOf(city.lines);
  const n = city.lines.length;
  const dir = tempDir();
  const file = join(dir, "city.ndjson");
  writeFileSync(file, city.lines.join("\n") + "\n");
  const rawMs: number[] = [];
  const importMs: number[] = [];
  const cpu: [string, Interference | undefined][] = [];
  let sizes: Record<string, { rows: number; bytes: number }> = {};
  try {
    for (let r = 1; r <= o.rounds; r++) {
      const raw = await scratchDatabase();
      try {
        o.log(`postgres: baseline, raw COPY of ${n.toLocaleString("en-US")} rows...`);
        const t = await timed(() => rawCopy(raw.url, rows));
        rawMs.push(t.result);
        cpu.push([`raw COPY run ${r}`, t.interference]);
      } finally {
        await raw.drop();
      }
      const db = await scratchDatabase();
      try {
        const setup = new AppContext(openPostgresStore(db.url), fixedClock(AT));
        await activateRulebooks(setup, ACTOR, shippedRulebooks());
        await setup.store.close();
        const ctx = new AppContext(openPostgresStore(db.url), fixedClock(AT));
        try {
          await ctx.requireRuleset();
          o.log(`postgres: import of a file of ${n.toLocaleString("en-US")} lines...`);
          const t = await timed(() => importWhole(ctx, file, n));
          importMs.push(t.ms);
          cpu.push([`import run ${r}`, t.interference]);
        } finally {
          await ctx.store.close();
        }
        sizes = await footprint(db.url);
      } finally {
        await db.drop();
      }
    }
  } finally {
    removeDir(dir);
  }
  const raw = summarize(rawMs).median;
  const imp = summarize(importMs).median;
  const rawRate = (n / raw) * 1000;
  const importRate = (n / imp) * 1000;
  const per = (t: string, what: "records" | "statuses" = "records") => {
    const s = sizes[t];
    const count = what === "records" ? n : (sizes["statuses"]?.rows ?? 1);
    return s ? round(s.bytes / count, 0) : 0;
  };
  return {
    figures: [
      figure("PostgreSQL import throughput", "records/s", round(importRate, 0), { name: "raw COPY into a bare table", value: round(rawRate, 0) }, {
        description: "at least 0.5 × baseline",
        met: importRate >= 0.5 * rawRate,
      }),
    ],
    notes: [
      ...interferenceNotes(cpu),
      `import city: ${regions}, ${people.toLocaleString("en-US")} people, ${n.toLocaleString("en-US")} records about ${city.withRecords.toLocaleString("en-US")} subjects, from an NDJSON file as \`social-credit import\` reads it, in batches of ${BATCH.toLocaleString("en-US")}; raw: COPY of prepared rows, ${BATCH.toLocaleString("en-US")} per transaction, primary key on id only`,
      `${o.rounds} round${o.rounds === 1 ? "" : "s"}: import ${importMs.map((x) => (x / 1000).toFixed(2)).join(", ")} s; raw COPY ${rawMs.map((x) => (x / 1000).toFixed(2)).join(", ")} s`,
      `stored bytes per record (indexes included): records ${per("records")}, id directory ${per("record_ids")}, history ${per("record_history")}, audit ${per("audit_log")}; per status row ${per("statuses", "statuses")} (+ lock row ${per("subject_locks", "statuses")})`,
    ],
    details: { records: n, importMs, rawMs, sizes },
  };
}

async function checksPart(o: BenchOptions) {
  o.log(`postgres: building the check fixture of ${o.subjects} subjects in SQLite and in PostgreSQL...`);
  const db = await scratchDatabase();
  const [sqlitePop, pgPop] = [await buildPopulation(o.subjects, o.log), await buildPopulation(o.subjects, o.log, db.url)];
  try {
    const order = shuffle([...sqlitePop.debtors, ...sqlitePop.others, ...sqlitePop.unknown], seeded(2026));
    const requests = (key: string) => order.map((s) => ({ method: "GET", path: `/v1/checks/${s}/${sqlitePop.measure}`, headers: { authorization: `Bearer ${key}` } }));
    const [lite, post] = await Promise.all([
      startChild(new URL("./servers/app.ts", import.meta.url), [sqlitePop.db], o.profileDir),
      startChild(new URL("./servers/app.ts", import.meta.url), [pgPop.db], o.profileDir),
    ]).catch(async (e: unknown) => {
      await stopChildren();
      throw e;
    });
    const liteRps: number[] = [];
    const pgRps: number[] = [];
    const cpu: [string, Interference | undefined][] = [];
    // Store transactions (group commits, and SQLite's index steps) and checks answered, per server over all rounds.
    const shared = { lite: { transactions: 0, checks: 0 }, post: { transactions: 0, checks: 0 } };
    const counted = async (which: keyof typeof shared, child: typeof lite, run: () => Promise<LoadRun>) => {
      const before = (await child.stats()).transactions ?? 0;
      const result = await run();
      shared[which].transactions += ((await child.stats()).transactions ?? 0) - before;
      shared[which].checks += result.warmupRequests + result.requests;
      return result;
    };
    try {
      for (let r = 1; r <= o.rounds; r++) {
        // Each run starts with the other server idle: after a run, the SQLite-backed one merges its audit index for a while.
        await untilIdle(post, o.log, "postgres: the PostgreSQL-backed server");
        o.log(`postgres: GET /v1/checks against the SQLite-backed server...`);
        const a = await counted("lite", lite, () => loadRun(lite, requests(sqlitePop.key), o, (run) => lite.profiled(`checks-sqlite-${r}`, run)));
        await untilIdle(lite, o.log, "postgres: the SQLite-backed server");
        o.log(`postgres: GET /v1/checks against the PostgreSQL-backed server...`);
        const b = await counted("post", post, () => loadRun(post, requests(pgPop.key), o, (run) => post.profiled(`checks-postgres-${r}`, run)));
        if (a.non2xx + a.errors + b.non2xx + b.errors > 0) throw new Error(`failed checks: SQLite ${a.non2xx + a.errors}, PostgreSQL ${b.non2xx + b.errors}`);
        liteRps.push(a.requestsPerSecond);
        pgRps.push(b.requestsPerSecond);
        cpu.push([`SQLite checks run ${r}`, a.interference], [`PostgreSQL checks run ${r}`, b.interference]);
      }
    } finally {
      await Promise.all([lite.stop(), post.stop()]);
    }
    const liteMid = summarize(liteRps).median;
    const pgMid = summarize(pgRps).median;
    // Which side was the limit: the server near 1 core, or nobody (waiting on PostgreSQL's commits).
    const cores = (backend: string, which: "serverCores" | "runnerCores" | "othersCores") =>
      medianCores(cpu.filter(([run]) => run.startsWith(`${backend} checks`)).map(([, x]) => x), which);
    return {
      figures: [
        figure("checks, PostgreSQL-backed server", "req/s", round(pgMid, 0), { name: "the same server on SQLite", value: round(liteMid, 0) }, {
          description: "at least 0.8 × baseline",
          met: pgMid >= 0.8 * liteMid,
        }),
      ],
      notes: [
        ...interferenceNotes(cpu),
        `checks: ${o.connections} connections, ${o.warmupS} s warm-up, ${o.durationS} s measured, ${order.length} subjects in a fixed shuffled order, each check audited (group commit)`,
        `store transactions per check: SQLite ${round(shared.lite.transactions / Math.max(1, shared.lite.checks), 3)}, PostgreSQL ${round(shared.post.transactions / Math.max(1, shared.post.checks), 3)}`,
        `CPU in cores, medians over rounds: SQLite-backed server ${cores("SQLite", "serverCores")}, autocannon ${cores("SQLite", "runnerCores")}; PostgreSQL-backed server ${cores("PostgreSQL", "serverCores")}, autocannon ${cores("PostgreSQL", "runnerCores")}, PostgreSQL itself (other processes) ${cores("PostgreSQL", "othersCores")}`,
      ],
      details: { liteRps, pgRps },
    };
  } finally {
    sqlitePop.remove();
    pgPop.remove();
    await db.drop();
  }
}

export const postgresBench: Benchmark = {
  name: "postgres",
  title: "PostgreSQL backend: import vs raw COPY, checks vs the SQLite-backed server",
  async run(o: BenchOptions & CityBenchOptions) {
    const imp = await importPart(o);
    const chk = await checksPart(o);
    return {
      name: "postgres",
      title: this.title,
      figures: [...imp.figures, ...chk.figures],
      notes: [...imp.notes, ...chk.notes],
      details: { import: imp.details, checks: chk.details },
    };
  },
};
