// Opens the store a --db value names: PostgreSQL for a postgres:// or postgresql:// URL, a SQLite file otherwise.
import { openPostgresStore, type PgOptions } from "./postgres/pg-store.js";
import { openSqliteStore, type SqliteOptions } from "./sqlite/sqlite-store.js";
import type { Store } from "./store.js";

/** Settings either backend may take; each reads its own. */
export type StoreOptions = SqliteOptions & PgOptions;

/** Whether a --db value is a PostgreSQL connection URL rather than a file path. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** Opens (creating or migrating if needed) the store at a path or URL. */
export function openStore(db: string, options: StoreOptions = {}): Store {
  return isPostgresUrl(db) ? openPostgresStore(db, options) : openSqliteStore(db, options);
}

/** The credentials of a URL masked, for messages and logs. */
export function describeDb(db: string): string {
  return isPostgresUrl(db) ? db.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@") : db;
}
