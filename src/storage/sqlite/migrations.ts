// The SQLite schema, as an ordered list of migrations applied once each.
import type Database from "better-sqlite3";

interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "records, statuses and rulebooks",
    sql: `
      CREATE TABLE records (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        external_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        category TEXT NOT NULL,
        occurred_at INTEGER NOT NULL,
        attributes TEXT NOT NULL,
        legal_ref TEXT NOT NULL,
        evidence_ref TEXT,
        state TEXT NOT NULL CHECK (state IN ('active', 'retracted')),
        revision INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        received_at INTEGER NOT NULL
      );
      CREATE INDEX records_by_subject ON records (subject);

      CREATE TABLE record_history (
        record_id TEXT NOT NULL,
        revision INTEGER NOT NULL,
        op TEXT NOT NULL CHECK (op IN ('submit', 'correct', 'retract')),
        content TEXT,
        content_hash TEXT,
        reason TEXT,
        at INTEGER NOT NULL,
        PRIMARY KEY (record_id, revision)
      );

      CREATE TABLE statuses (
        subject TEXT PRIMARY KEY,
        score INTEGER NOT NULL,
        grade TEXT,
        ruleset_hash TEXT NOT NULL,
        valid_from INTEGER,
        valid_until INTEGER,
        body TEXT NOT NULL
      );
      CREATE INDEX statuses_by_expiry ON statuses (valid_until) WHERE valid_until IS NOT NULL;

      CREATE TABLE rulebook_versions (
        sha256 TEXT PRIMARY KEY,
        layer TEXT NOT NULL,
        file TEXT NOT NULL,
        text TEXT NOT NULL
      );
      CREATE TABLE active_layers (
        layer TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL REFERENCES rulebook_versions (sha256),
        activated_at INTEGER NOT NULL
      );
      CREATE TABLE activations (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        ruleset_hash TEXT NOT NULL,
        layers TEXT NOT NULL,
        at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: "audit log, checkpoints and API keys",
    sql: `
      CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT,
        decision_id TEXT NOT NULL,
        detail TEXT NOT NULL,
        prev TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      CREATE INDEX audit_by_subject ON audit_log (subject, seq) WHERE subject IS NOT NULL;
      CREATE INDEX audit_by_actor ON audit_log (actor, seq);

      CREATE TABLE audit_checkpoints (
        seq INTEGER PRIMARY KEY,
        hash TEXT NOT NULL,
        at INTEGER NOT NULL,
        signature TEXT NOT NULL
      );

      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        source TEXT,
        measures TEXT,
        subject TEXT,
        label TEXT,
        secret_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        revoked_at INTEGER
      );
    `,
  },
  {
    version: 3,
    name: "statuses keep their measures apart, so a check reads only them",
    sql: `
      ALTER TABLE statuses ADD COLUMN measures TEXT NOT NULL DEFAULT '[]';
      UPDATE statuses SET measures = json_extract(body, '$.measures');
    `,
  },
  {
    version: 4,
    name: "the names of subjects, as the population and enterprise registries give them",
    sql: `
      CREATE TABLE subject_names (
        subject TEXT PRIMARY KEY,
        name TEXT NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: "stored statuses keep neither their explanation nor a second copy of their measures",
    sql: `
      UPDATE statuses SET body = json_remove(body, '$.effects', '$.excluded', '$.measures');
    `,
  },
  {
    version: 6,
    name: "the audit log is looked up by subject and actor through an index kept off the write path",
    sql: `
      DROP INDEX audit_by_subject;
      DROP INDEX audit_by_actor;
      CREATE TABLE audit_index (
        key TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (key, seq)
      ) WITHOUT ROWID;
      CREATE TABLE audit_index_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        indexed_to INTEGER NOT NULL
      );
      INSERT INTO audit_index (key, seq) SELECT 's:' || subject, seq FROM audit_log WHERE subject IS NOT NULL;
      INSERT INTO audit_index (key, seq) SELECT 'a:' || actor, seq FROM audit_log;
      INSERT INTO audit_index_state (id, indexed_to) SELECT 1, coalesce(max(seq), 0) FROM audit_log;
    `,
  },
  {
    version: 7,
    name: "a counter every change of statuses moves, so readers know when what they remember is out of date",
    sql: `
      CREATE TABLE store_epochs (
        name TEXT PRIMARY KEY,
        n INTEGER NOT NULL
      );
      INSERT INTO store_epochs (name, n) VALUES ('statuses', 0);
    `,
  },
  {
    version: 8,
    name: "due process: sign-offs, objections, restorations, notices with their outbox, and list members",
    sql: `
      CREATE TABLE sign_offs (
        entry TEXT PRIMARY KEY,
        subject TEXT NOT NULL,
        list TEXT NOT NULL,
        tier TEXT,
        record TEXT NOT NULL,
        rule TEXT NOT NULL,
        requested_at INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'lapsed')),
        decided_at INTEGER,
        decided_by TEXT,
        reasons TEXT
      );
      CREATE INDEX sign_offs_by_subject ON sign_offs (subject);
      CREATE INDEX sign_offs_pending ON sign_offs (requested_at, entry) WHERE state = 'pending';
      CREATE TABLE objections (
        id TEXT PRIMARY KEY,
        subject TEXT NOT NULL,
        record TEXT NOT NULL,
        statement TEXT NOT NULL,
        evidence_ref TEXT,
        filed_at INTEGER NOT NULL,
        due_at INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('open', 'upheld', 'dismissed')),
        decided_at INTEGER,
        decided_by TEXT,
        reasons TEXT,
        outcome TEXT
      );
      CREATE INDEX objections_by_subject ON objections (subject);
      CREATE INDEX objections_open ON objections (due_at, id) WHERE state = 'open';
      CREATE TABLE restorations (
        id TEXT PRIMARY KEY,
        subject TEXT NOT NULL,
        list TEXT NOT NULL,
        commitment TEXT,
        statement TEXT,
        requested_at INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'granted', 'denied')),
        decided_at INTEGER,
        decided_by TEXT,
        reasons TEXT,
        legal_basis TEXT NOT NULL
      );
      CREATE INDEX restorations_by_subject ON restorations (subject);
      CREATE TABLE notices (
        seq INTEGER PRIMARY KEY,
        subject TEXT NOT NULL,
        recipient TEXT NOT NULL,
        kind TEXT NOT NULL,
        at INTEGER NOT NULL,
        body TEXT NOT NULL
      );
      CREATE INDEX notices_by_subject ON notices (subject, seq);
      CREATE INDEX notices_by_kind ON notices (kind, at);
      CREATE TABLE outbox (
        notice INTEGER PRIMARY KEY REFERENCES notices (seq),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        delivered_at INTEGER,
        last_error TEXT
      );
      CREATE INDEX outbox_waiting ON outbox (notice) WHERE delivered_at IS NULL;
      CREATE TABLE list_members (
        list TEXT NOT NULL,
        subject TEXT NOT NULL,
        since INTEGER NOT NULL,
        until INTEGER NOT NULL,
        published_until INTEGER,
        PRIMARY KEY (list, subject)
      ) WITHOUT ROWID;
      CREATE INDEX list_members_by_subject ON list_members (subject);
    `,
  },
];

/** Brings a database up to the latest schema; a database from a newer release is refused rather than damaged. */
export function migrate(db: Database.Database): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
  const row = db.prepare("SELECT max(version) AS v FROM schema_migrations").get() as { v: number | null };
  const current = row.v ?? 0;
  const latest = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
  if (current > latest) {
    throw new Error(`the database has schema version ${current}, newer than this release knows (${latest}); upgrade social-credit`);
  }
  const apply = db.transaction((m: Migration) => {
    db.exec(m.sql);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(m.version, m.name, new Date().toISOString());
  });
  for (const m of MIGRATIONS) if (m.version > current) apply(m);
}
