// Telling a PostgreSQL URL from a SQLite path, and naming either in messages without its password.

/** Whether a --db value is a PostgreSQL connection URL rather than a file path. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** The --db value with a URL's password masked, for messages and logs. */
export function describeDb(db: string): string {
  return isPostgresUrl(db) ? db.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@") : db;
}
