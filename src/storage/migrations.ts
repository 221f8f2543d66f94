// The schema of both backends, as one ordered list of versioned migrations: each version's SQL per dialect.

/** One step of the schema, applied once, in order, on either backend. */
export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  /** The same step in PostgreSQL: tables hash-partitioned by subject (see docs/scaling.md); empty text when the step has nothing to do there. */
  postgres: string;
}

/** Hash partitions of each PostgreSQL table keyed by subject: enough to spread a single server's vacuum and index work. */
export const PG_PARTITIONS = 16;

function partitions(table: string): string {
  return Array.from({ length: PG_PARTITIONS }, (_, i) => `CREATE TABLE ${table}_p${i} PARTITION OF ${table} FOR VALUES WITH (MODULUS ${PG_PARTITIONS}, REMAINDER ${i});`).join("\n      ");
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "records, statuses and rulebooks",
    sqlite: `
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
    postgres: `
      CREATE TABLE record_ids (
        id TEXT COLLATE "C" NOT NULL,
        subject TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (id)
      ) PARTITION BY HASH (id);
      ${partitions("record_ids")}

      CREATE TABLE records (
        subject TEXT COLLATE "C" NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        source TEXT NOT NULL,
        external_id TEXT NOT NULL,
        category TEXT NOT NULL,
        occurred_at BIGINT NOT NULL,
        attributes TEXT NOT NULL,
        legal_ref TEXT NOT NULL,
        evidence_ref TEXT,
        state TEXT NOT NULL CHECK (state IN ('active', 'retracted')),
        revision INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        PRIMARY KEY (subject, id)
      ) PARTITION BY HASH (subject);
      ${partitions("records")}

      CREATE TABLE record_history (
        record_id TEXT COLLATE "C" NOT NULL,
        revision INTEGER NOT NULL,
        op TEXT NOT NULL CHECK (op IN ('submit', 'correct', 'retract')),
        content TEXT,
        content_hash TEXT,
        reason TEXT,
        at BIGINT NOT NULL,
        PRIMARY KEY (record_id, revision)
      ) PARTITION BY HASH (record_id);
      ${partitions("record_history")}

      CREATE TABLE subject_locks (
        subject TEXT COLLATE "C" NOT NULL,
        n BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (subject)
      ) PARTITION BY HASH (subject);
      ${partitions("subject_locks")}

      CREATE TABLE statuses (
        subject TEXT COLLATE "C" NOT NULL,
        score DOUBLE PRECISION NOT NULL,
        grade TEXT,
        ruleset_hash TEXT NOT NULL,
        valid_from BIGINT,
        valid_until BIGINT,
        body TEXT NOT NULL,
        PRIMARY KEY (subject)
      ) PARTITION BY HASH (subject);
      ${partitions("statuses")}
      CREATE INDEX statuses_by_expiry ON statuses (valid_until) WHERE valid_until IS NOT NULL;

      CREATE TABLE rulebook_versions (
        sha256 TEXT PRIMARY KEY,
        layer TEXT NOT NULL,
        file TEXT NOT NULL,
        text TEXT NOT NULL
      );
      CREATE TABLE active_layers (
        layer TEXT COLLATE "C" PRIMARY KEY,
        sha256 TEXT NOT NULL REFERENCES rulebook_versions (sha256),
        activated_at BIGINT NOT NULL
      );
      CREATE TABLE activations (
        seq BIGSERIAL PRIMARY KEY,
        ruleset_hash TEXT NOT NULL,
        layers TEXT NOT NULL,
        at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: "audit log, checkpoints and API keys",
    sqlite: `
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
    postgres: `
      CREATE TABLE audit_log (
        seq BIGINT PRIMARY KEY,
        at BIGINT NOT NULL,
        actor TEXT COLLATE "C" NOT NULL,
        action TEXT NOT NULL,
        subject TEXT COLLATE "C",
        decision_id TEXT NOT NULL,
        detail TEXT NOT NULL,
        prev TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      CREATE INDEX audit_by_subject ON audit_log (subject, seq) WHERE subject IS NOT NULL;
      CREATE INDEX audit_by_actor ON audit_log (actor, seq);
      -- The head of the chain, locked by every append so that concurrent transactions never fork it.
      CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq BIGINT NOT NULL,
        hash TEXT
      );
      INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, NULL);

      CREATE TABLE audit_checkpoints (
        seq BIGINT PRIMARY KEY,
        hash TEXT NOT NULL,
        at BIGINT NOT NULL,
        signature TEXT NOT NULL
      );

      CREATE TABLE api_keys (
        id TEXT COLLATE "C" PRIMARY KEY,
        role TEXT NOT NULL,
        source TEXT,
        measures TEXT,
        subject TEXT,
        label TEXT,
        secret_hash TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        created_by TEXT NOT NULL,
        revoked_at BIGINT
      );
    `,
  },
  {
    version: 3,
    name: "statuses keep their measures apart, so a check reads only them",
    sqlite: `
      ALTER TABLE statuses ADD COLUMN measures TEXT NOT NULL DEFAULT '[]';
      UPDATE statuses SET measures = json_extract(body, '$.measures');
    `,
    postgres: `
      ALTER TABLE statuses ADD COLUMN measures TEXT NOT NULL DEFAULT '[]';
    `,
  },
  {
    version: 4,
    name: "the names of subjects, as the population and enterprise registries give them",
    sqlite: `
      CREATE TABLE subject_names (
        subject TEXT PRIMARY KEY,
        name TEXT NOT NULL
      );
    `,
    postgres: `
      CREATE TABLE subject_names (
        subject TEXT COLLATE "C" NOT NULL,
        name TEXT NOT NULL,
        PRIMARY KEY (subject)
      ) PARTITION BY HASH (subject);
      ${partitions("subject_names")}
    `,
  },
  {
    version: 5,
    name: "stored statuses keep neither their explanation nor a second copy of their measures",
    sqlite: `
      UPDATE statuses SET body = json_remove(body, '$.effects', '$.excluded', '$.measures');
    `,
    postgres: `
      -- Nothing: PostgreSQL stores have never kept the explanation.
    `,
  },
  {
    version: 6,
    name: "the audit log is looked up by subject and actor through an index kept off the write path",
    sqlite: `
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
    postgres: `
      -- Batch checks name their subjects in detail.subjects: found through this index, kept by PostgreSQL on append.
      CREATE INDEX audit_by_subjects ON audit_log USING gin (((detail::jsonb) -> 'subjects')) WHERE subject IS NULL;
    `,
  },
  {
    version: 7,
    name: "a counter every change of statuses moves, so readers know when what they remember is out of date",
    sqlite: `
      CREATE TABLE store_epochs (
        name TEXT PRIMARY KEY,
        n INTEGER NOT NULL
      );
      INSERT INTO store_epochs (name, n) VALUES ('statuses', 0);
    `,
    postgres: `
      -- Nothing: PostgreSQL stores tell other processes of changed statuses through NOTIFY, in the changing transaction.
    `,
  },
  {
    version: 8,
    name: "due process: sign-offs, objections, restorations, notices with their outbox, and list members",
    sqlite: `
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
    postgres: `
      CREATE TABLE sign_offs (
        subject TEXT COLLATE "C" NOT NULL,
        entry TEXT COLLATE "C" NOT NULL,
        list TEXT NOT NULL,
        tier TEXT,
        record TEXT NOT NULL,
        rule TEXT NOT NULL,
        requested_at BIGINT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'lapsed')),
        decided_at BIGINT,
        decided_by TEXT,
        reasons TEXT,
        PRIMARY KEY (subject, entry)
      ) PARTITION BY HASH (subject);
      ${partitions("sign_offs")}
      CREATE INDEX sign_offs_by_entry ON sign_offs (entry);
      CREATE INDEX sign_offs_pending ON sign_offs (requested_at, entry) WHERE state = 'pending';
      CREATE TABLE objections (
        subject TEXT COLLATE "C" NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        record TEXT NOT NULL,
        statement TEXT NOT NULL,
        evidence_ref TEXT,
        filed_at BIGINT NOT NULL,
        due_at BIGINT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('open', 'upheld', 'dismissed')),
        decided_at BIGINT,
        decided_by TEXT,
        reasons TEXT,
        outcome TEXT,
        PRIMARY KEY (subject, id)
      ) PARTITION BY HASH (subject);
      ${partitions("objections")}
      CREATE INDEX objections_by_id ON objections (id);
      CREATE INDEX objections_open ON objections (due_at, id) WHERE state = 'open';
      CREATE TABLE restorations (
        subject TEXT COLLATE "C" NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        list TEXT NOT NULL,
        commitment TEXT,
        statement TEXT,
        requested_at BIGINT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'granted', 'denied')),
        decided_at BIGINT,
        decided_by TEXT,
        reasons TEXT,
        legal_basis TEXT NOT NULL,
        PRIMARY KEY (subject, id)
      ) PARTITION BY HASH (subject);
      ${partitions("restorations")}
      CREATE INDEX restorations_by_id ON restorations (id);
      CREATE SEQUENCE notice_seq;
      CREATE TABLE notices (
        subject TEXT COLLATE "C" NOT NULL,
        seq BIGINT NOT NULL,
        recipient TEXT NOT NULL,
        kind TEXT NOT NULL,
        at BIGINT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (subject, seq)
      ) PARTITION BY HASH (subject);
      ${partitions("notices")}
      CREATE INDEX notices_by_seq ON notices (seq);
      CREATE INDEX notices_by_kind ON notices (kind, at);
      CREATE TABLE outbox (
        subject TEXT COLLATE "C" NOT NULL,
        notice BIGINT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at BIGINT NOT NULL,
        delivered_at BIGINT,
        last_error TEXT,
        PRIMARY KEY (subject, notice)
      ) PARTITION BY HASH (subject);
      ${partitions("outbox")}
      CREATE INDEX outbox_by_notice ON outbox (notice);
      CREATE INDEX outbox_waiting ON outbox (notice) WHERE delivered_at IS NULL;
      CREATE TABLE list_members (
        subject TEXT COLLATE "C" NOT NULL,
        list TEXT COLLATE "C" NOT NULL,
        since BIGINT NOT NULL,
        until BIGINT NOT NULL,
        published_until BIGINT,
        PRIMARY KEY (subject, list)
      ) PARTITION BY HASH (subject);
      ${partitions("list_members")}
      CREATE INDEX list_members_by_list ON list_members (list, subject);
    `,
  },
  {
    version: 9,
    name: "the audit index is kept in sorted runs, written at the end of the table rather than across it",
    sqlite: `
      CREATE TABLE audit_runs (
        id INTEGER PRIMARY KEY,
        level INTEGER NOT NULL,
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        rows INTEGER NOT NULL,
        -- While a merged run is being filled: the last key moved into it so far ('' before the first); NULL once whole.
        merged_to TEXT
      );
      CREATE TABLE audit_run_keys (
        run INTEGER NOT NULL,
        key TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (run, key, seq)
      ) WITHOUT ROWID;
      -- What was indexed becomes one merged run.
      INSERT INTO audit_runs (id, level, first_seq, last_seq, rows) SELECT 1, 2, 1, indexed_to, (SELECT count(*) FROM audit_index) FROM audit_index_state WHERE indexed_to > 0;
      INSERT INTO audit_run_keys (run, key, seq) SELECT 1, key, seq FROM audit_index WHERE EXISTS (SELECT 1 FROM audit_runs) ORDER BY key, seq;
      DROP TABLE audit_index;
    `,
    postgres: `
      -- Nothing: PostgreSQL keeps its audit indexes itself.
    `,
  },
  {
    version: 10,
    name: "an audit append may chain after the head its process expects, the head moving only if it is still there",
    sqlite: `
      -- Nothing: SQLite appends under its write lock.
    `,
    postgres: `
      -- Moves the head from where the appender chained after to its new entry, holding it until commit. Waits for a
      -- transaction that holds the head (an append of the same process still in flight), then reads where it is. Anywhere
      -- else (another process appended, the append chained after rolled back or has not reached the server yet) is a
      -- serialization failure: the transaction is retried from the head read under its lock.
      CREATE FUNCTION social_credit_advance_audit_head(expected_seq BIGINT, expected_hash TEXT, new_seq BIGINT, new_hash TEXT) RETURNS void
      LANGUAGE plpgsql AS $$
      DECLARE
        now_seq BIGINT;
        now_hash TEXT;
      BEGIN
        -- Where the head is expected and nobody holds it: one statement, as for nearly every append.
        UPDATE audit_head SET seq = new_seq, hash = new_hash WHERE id = 1 AND seq = expected_seq AND hash = expected_hash;
        IF FOUND THEN
          RETURN;
        END IF;
        SELECT seq, hash INTO now_seq, now_hash FROM audit_head WHERE id = 1 FOR UPDATE;
        IF now_seq IS DISTINCT FROM expected_seq OR now_hash IS DISTINCT FROM expected_hash THEN
          RAISE EXCEPTION 'the audit log''s head is entry %, not entry % as this append expected', now_seq, expected_seq USING
            ERRCODE = 'serialization_failure',
            DETAIL = CASE WHEN now_seq >= expected_seq THEN 'the head is past the expected entry: another process appended' ELSE 'the head is short of the expected entry' END;
        END IF;
        UPDATE audit_head SET seq = new_seq, hash = new_hash WHERE id = 1;
      END $$;
    `,
  },
  {
    version: 11,
    name: "reviewers' decisions that bear on evaluations, indexed by subject on their own",
    sqlite: `
      -- Small indexes of what evaluations read (decided sign-offs, granted restorations, open objections): a batch asks
      -- whether any of its subjects has one, and most databases have few or none at all.
      CREATE INDEX sign_offs_decided ON sign_offs (subject) WHERE state IN ('approved', 'rejected');
      CREATE INDEX restorations_granted ON restorations (subject) WHERE state = 'granted';
      CREATE INDEX objections_open_by_subject ON objections (subject) WHERE state = 'open';
    `,
    postgres: `
      -- Nothing: a batch reads its subjects' decisions in one query per table, by the partition key.
    `,
  },
];

/** The latest schema version this release knows. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
