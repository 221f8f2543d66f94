// Opens the store a --db value names: PostgreSQL for a postgres:// or postgresql:// URL, a SQLite file otherwise.
import { isPostgresUrl } from "./describe-db.js";
import { openPostgresStore, type PgOptions } from "./postgres/pg-store.js";
import { openSqliteStore, type SqliteOptions } from "./sqlite/sqlite-store.js";
import type { Store } from "./store.js";

export { describeDb, isPostgresUrl } from "./describe-db.js";

/** Settings either backend may take; each reads its own. */
export type StoreOptions = SqliteOptions & PgOptions;

/** Opens (creating or migrating if needed) the store at a path or URL. */
export function openStore(db: string, options: StoreOptions = {}): Store {
  return isPostgresUrl(db) ? openPostgresStore(db, options) : openSqliteStore(db, options);
}

/** Where files that belong with a database go (its audit signing key): beside a SQLite file, under ./data for a PostgreSQL database. */
export function localFileBase(db: string): string {
  if (!isPostgresUrl(db)) return db;
  const url = new URL(db);
  const name = `${url.hostname || "local"}${url.port ? `-${url.port}` : ""}-${decodeURIComponent(url.pathname.slice(1)) || "postgres"}`;
  return `./data/postgres-${name.replace(/[^A-Za-z0-9._-]/g, "_")}`;
}
