// The storage backends a test file runs against: SQLite in memory always, PostgreSQL when a server is reachable.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll } from "vitest";
import { openPostgresStore } from "../../src/storage/postgres/pg-store.js";
import { openSqliteStore } from "../../src/storage/sqlite/sqlite-store.js";
import type { Store } from "../../src/storage/store.js";

/** The server the tests use: trust auth, user postgres (override with SOCIAL_CREDIT_TEST_PG). */
export const PG_SERVER = process.env.SOCIAL_CREDIT_TEST_PG ?? "postgres://postgres@127.0.0.1:5432";

/** One backend: a name for the test titles and a way to open a fresh, empty store. */
export interface Backend {
  name: "sqlite" | "postgres";
  open(): Promise<Store>;
  /** A URL or file path that `openStore` (and so the CLI's --db) takes, naming a fresh, empty store that may be opened more than once. */
  location(): Promise<string>;
}

/** Runs SQL on a store's database directly, behind the store's back: for states only an earlier version could leave. */
export async function rawSql(where: string, backend: Backend["name"], statements: readonly string[]): Promise<void> {
  if (backend === "sqlite") {
    const db = new Database(where);
    try {
      for (const sql of statements) db.exec(sql);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: where });
  await client.connect();
  try {
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.end();
  }
}

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: `${PG_SERVER}/postgres`, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    await client.end().catch(() => undefined);
    return false;
  }
}

let warned = false;

/**
 * The backends for the calling test file. PostgreSQL gets a database of its own for the file (dropped after it), and
 * each store a schema of its own in it. Without a server, CI fails loudly; elsewhere the PostgreSQL half is skipped
 * with a message.
 */
export async function testBackends(): Promise<Backend[]> {
  const sqlite: Backend = {
    name: "sqlite",
    open: async () => openSqliteStore(":memory:"),
    // A file, so that a second store (a second process, a restart) can open it too.
    location: async () => join(mkdtempSync(join(tmpdir(), "social-credit-store-")), "db.sqlite"),
  };
  if (!(await reachable())) {
    if (process.env.CI) throw new Error(`CI is set and PostgreSQL is not reachable at ${PG_SERVER}: start it (.ci/run does) or set SOCIAL_CREDIT_TEST_PG`);
    if (!warned) console.warn(`PostgreSQL is not reachable at ${PG_SERVER}: running the storage tests on SQLite only`);
    warned = true;
    return [sqlite];
  }
  const database = `sc_test_${randomBytes(6).toString("hex")}`;
  let created: Promise<void> | undefined;
  const stores: Store[] = [];
  let schemas = 0;
  const admin = async <T>(work: (c: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: `${PG_SERVER}/postgres` });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  const location = async () => {
    created ??= admin(async (c) => void (await c.query(`CREATE DATABASE ${database}`)));
    await created;
    const schema = `s${++schemas}`;
    const client = new pg.Client({ connectionString: `${PG_SERVER}/${database}` });
    await client.connect();
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.end();
    return `${PG_SERVER}/${database}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  };
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    if (created) await admin((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  });
  // Schemas whose stores were closed, emptied and handed out again: migrating a new schema takes a second, emptying one milliseconds.
  const free: string[] = [];
  const empty = async (where: string) => {
    const client = new pg.Client({ connectionString: where });
    await client.connect();
    try {
      const tables = await client.query<{ name: string }>(
        `SELECT relname AS name FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition
           AND relname NOT IN ('schema_migrations', 'audit_head')`,
      );
      // DELETE, not TRUNCATE: a test leaves a few rows, and truncating every partition costs a new file each.
      await client.query(tables.rows.map((t) => `DELETE FROM ${t.name};`).join("\n"));
      // What the migrations seeded, seeded again.
      await client.query("UPDATE audit_head SET seq = 0, hash = NULL");
      await client.query("SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'S'");
    } finally {
      await client.end();
    }
  };
  const postgres: Backend = {
    name: "postgres",
    location,
    open: async () => {
      const reused = free.pop();
      if (reused) await empty(reused);
      const where = reused ?? (await location());
      const store = openPostgresStore(where);
      const close = store.close.bind(store);
      let closed = false;
      store.close = async () => {
        await close();
        if (!closed) free.push(where);
        closed = true;
      };
      stores.push(store);
      await store.ready;
      return store;
    },
  };
  return [sqlite, postgres];
}
