// Applies the shared list of migrations (src/storage/migrations.ts) to a PostgreSQL database.
import type pg from "pg";
import { LATEST_VERSION, MIGRATIONS } from "../migrations.js";

// Any constant of our own: every process opening the database takes it, so two never migrate at once.
const MIGRATION_LOCK = 0x5c_0001;

/** Brings a database up to the latest schema, each version in its own transaction; a newer schema is refused rather than damaged. */
export async function migrate(client: pg.ClientBase): Promise<void> {
  await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
  try {
    await client.query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
    const row = await client.query<{ v: number | null }>("SELECT max(version) AS v FROM schema_migrations");
    const current = row.rows[0]?.v ?? 0;
    if (current > LATEST_VERSION) {
      throw new Error(`the database has schema version ${current}, newer than this release knows (${LATEST_VERSION}); upgrade social-credit`);
    }
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await client.query("BEGIN");
      try {
        if (m.postgres.trim() !== "") await client.query(m.postgres);
        await client.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [m.version, m.name, new Date().toISOString()]);
        await client.query("COMMIT");
      } catch (e) {
        await client.query("ROLLBACK");
        throw new Error(`migration ${m.version} (${m.name}) failed: ${(e as Error).message}`, { cause: e });
      }
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
  }
}
