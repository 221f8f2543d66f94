// Applies the shared list of migrations (src/storage/migrations.ts) to a SQLite database.
import type Database from "better-sqlite3";
import { LATEST_VERSION, MIGRATIONS, type Migration } from "../migrations.js";

/** Brings a database up to the latest schema; a database from a newer release is refused rather than damaged. */
export function migrate(db: Database.Database): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
  const row = db.prepare("SELECT max(version) AS v FROM schema_migrations").get() as { v: number | null };
  const current = row.v ?? 0;
  if (current > LATEST_VERSION) {
    throw new Error(`the database has schema version ${current}, newer than this release knows (${LATEST_VERSION}); upgrade social-credit`);
  }
  const apply = db.transaction((m: Migration) => {
    db.exec(m.sqlite);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(m.version, m.name, new Date().toISOString());
  });
  for (const m of MIGRATIONS) if (m.version > current) apply(m);
}
