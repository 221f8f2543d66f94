// The PostgreSQL tables of due process: sign-offs, objections, restorations, notices and their outbox, list members; set-based, called inside the store's transactions.
import { caseFactsOf, type Objection, type Restoration, type SignOff } from "../../core/due-process.js";
import type { AwaitingSignOff, CaseFacts, ListMembership } from "../../core/evaluate.js";
import type { Notice, NoticeDraft } from "../../core/notices.js";
import { parseInstant, type Instant } from "../../core/time.js";
import type { ListMember, ListStatistics, ObjectionStatistics, ReviewQuery } from "../store.js";
import { toNotice, toObjection, toRestoration, toSignOff, type NoticeRow, type ObjectionRow, type RestorationRow, type SignOffRow } from "../due-process-rows.js";

/** Runs one statement and gives its rows. */
export type Sql = <R>(text: string, values?: readonly unknown[]) => Promise<R[]>;

/** Filters of a review queue as SQL conditions with numbered parameters. */
function where(q: ReviewQuery<string>, key: string, dueColumn?: string): { sql: string; params: unknown[] } {
  const conds: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (q.subject !== undefined) conds.push(`subject = ${p(q.subject)}`);
  if (q.state !== undefined) conds.push(`state = ${p(q.state)}`);
  if (q.overdueAt !== undefined && dueColumn) conds.push(`state = 'open' AND ${dueColumn} <= ${p(q.overdueAt)}`);
  if (q.after !== undefined) conds.push(`${key} > ${p(q.after)}`);
  const limit = p(q.limit);
  return { sql: `${conds.length > 0 ? `WHERE ${conds.join(" AND ")}` : ""} ORDER BY ${key} LIMIT ${limit}`, params };
}

/** A sign-off the queue must ask for or let lapse, collected over a batch of subjects. */
export interface SignOffChanges {
  lapse: { subject: string; entry: string }[];
  request: { subject: string; a: AwaitingSignOff; at: Instant }[];
}

/** The due-process tables through one connection (or the pool, outside a transaction). */
export class PgDueProcess {
  constructor(private readonly sql: Sql) {}

  /** The reviewers' decisions of many subjects at once: what their evaluation takes. */
  async caseFactsMany(subjects: readonly string[]): Promise<Map<string, CaseFacts>> {
    // One after the other: a connection runs one statement at a time anyway.
    const signOffs = await this.sql<SignOffRow>("SELECT * FROM sign_offs WHERE subject = ANY($1::text[]) AND state IN ('approved', 'rejected')", [subjects]);
    const restorations = await this.sql<RestorationRow>("SELECT * FROM restorations WHERE subject = ANY($1::text[]) AND state = 'granted'", [subjects]);
    const objections = await this.sql<ObjectionRow>("SELECT * FROM objections WHERE subject = ANY($1::text[]) AND state = 'open'", [subjects]);
    const out = new Map<string, CaseFacts>();
    const group = <T extends { subject: string }>(rows: T[]) => {
      const m = new Map<string, T[]>();
      for (const r of rows) m.set(r.subject, [...(m.get(r.subject) ?? []), r]);
      return m;
    };
    const s = group(signOffs);
    const r = group(restorations);
    const o = group(objections);
    for (const subject of subjects) {
      out.set(subject, caseFactsOf((s.get(subject) ?? []).map(toSignOff), (r.get(subject) ?? []).map(toRestoration), (o.get(subject) ?? []).map(toObjection)));
    }
    return out;
  }

  /** Keeps the sign-off queue in step with new statuses: new entries asked, vanished ones lapsed, all in two statements. */
  async syncSignOffs(c: SignOffChanges): Promise<void> {
    if (c.lapse.length > 0) {
      await this.sql(
        `UPDATE sign_offs s SET state = 'lapsed' FROM unnest($1::text[], $2::text[]) AS u(subject, entry)
         WHERE s.subject = u.subject AND s.entry = u.entry AND s.state = 'pending'`,
        [c.lapse.map((l) => l.subject), c.lapse.map((l) => l.entry)],
      );
    }
    // One row per entry: a statement may not touch a row twice, and asking again for a pending entry changes nothing.
    const seen = new Set<string>();
    const req = c.request.filter((r) => !seen.has(`${r.subject}\u0000${r.a.entry}`) && seen.add(`${r.subject}\u0000${r.a.entry}`));
    if (req.length > 0) {
      await this.sql(
        `INSERT INTO sign_offs (entry, subject, list, tier, record, rule, requested_at, state)
         SELECT *, 'pending' FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
         ON CONFLICT (subject, entry) DO UPDATE SET state = 'pending', requested_at = excluded.requested_at WHERE sign_offs.state = 'lapsed'`,
        [
          req.map((r) => r.a.entry),
          req.map((r) => r.subject),
          req.map((r) => r.a.list),
          req.map((r) => r.a.tier),
          req.map((r) => r.a.record),
          req.map((r) => r.a.rule),
          req.map((r) => r.at),
        ],
      );
    }
  }

  /** Replaces the list memberships of the subjects given. */
  async syncMembers(had: readonly string[], members: readonly { subject: string; l: ListMembership }[]): Promise<void> {
    if (had.length > 0) await this.sql("DELETE FROM list_members WHERE subject = ANY($1::text[])", [had]);
    if (members.length === 0) return;
    await this.sql(
      "INSERT INTO list_members (list, subject, since, until, published_until) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])",
      [
        members.map((m) => m.l.list),
        members.map((m) => m.subject),
        members.map((m) => parseInstant(m.l.since) as number),
        members.map((m) => parseInstant(m.l.until) as number),
        members.map((m) => (m.l.publishedUntil === null ? null : (parseInstant(m.l.publishedUntil) as number))),
      ],
    );
  }

  async getSignOff(entry: string): Promise<SignOff | undefined> {
    const [r] = await this.sql<SignOffRow>("SELECT * FROM sign_offs WHERE entry = $1", [entry]);
    return r ? toSignOff(r) : undefined;
  }

  async signOffs(q: ReviewQuery<SignOff["state"]>): Promise<SignOff[]> {
    const w = where(q, "entry");
    return (await this.sql<SignOffRow>(`SELECT * FROM sign_offs ${w.sql}`, w.params)).map(toSignOff);
  }

  async decideSignOff(entry: string, approved: boolean, at: Instant, by: string, reasons: string | null): Promise<boolean> {
    const rows = await this.sql(
      "UPDATE sign_offs SET state = $1, decided_at = $2, decided_by = $3, reasons = $4 WHERE entry = $5 AND state = 'pending' RETURNING entry",
      [approved ? "approved" : "rejected", at, by, reasons, entry],
    );
    return rows.length > 0;
  }

  async putObjection(o: Objection): Promise<void> {
    await this.sql(
      `INSERT INTO objections (id, subject, record, statement, evidence_ref, filed_at, due_at, state, decided_at, decided_by, reasons, outcome)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (subject, id) DO UPDATE SET record = excluded.record, statement = excluded.statement, evidence_ref = excluded.evidence_ref,
         filed_at = excluded.filed_at, due_at = excluded.due_at, state = excluded.state, decided_at = excluded.decided_at,
         decided_by = excluded.decided_by, reasons = excluded.reasons, outcome = excluded.outcome`,
      [o.id, o.subject, o.record, o.statement, o.evidenceRef, o.filedAt, o.dueAt, o.state, o.decidedAt, o.decidedBy, o.reasons, o.outcome],
    );
  }

  async getObjection(id: string): Promise<Objection | undefined> {
    const [r] = await this.sql<ObjectionRow>("SELECT * FROM objections WHERE id = $1", [id]);
    return r ? toObjection(r) : undefined;
  }

  async objections(q: ReviewQuery<Objection["state"]>): Promise<Objection[]> {
    const w = where(q, "id", "due_at");
    return (await this.sql<ObjectionRow>(`SELECT * FROM objections ${w.sql}`, w.params)).map(toObjection);
  }

  async objectionStatistics(at: Instant): Promise<ObjectionStatistics> {
    const [c] = await this.sql<Omit<ObjectionStatistics, "decisionTimes">>(
      `SELECT count(*) FILTER (WHERE state = 'open')::int AS open, count(*) FILTER (WHERE state = 'open' AND due_at <= $1)::int AS overdue,
         count(*) FILTER (WHERE state = 'upheld')::int AS upheld, count(*) FILTER (WHERE state = 'dismissed')::int AS dismissed FROM objections`,
      [at],
    );
    const times = await this.sql<{ d: number }>("SELECT decided_at - filed_at AS d FROM objections WHERE decided_at IS NOT NULL ORDER BY 1");
    return { ...(c as Omit<ObjectionStatistics, "decisionTimes">), decisionTimes: times.map((t) => t.d) };
  }

  async putRestoration(r: Restoration): Promise<void> {
    await this.sql(
      `INSERT INTO restorations (id, subject, list, commitment, statement, requested_at, state, decided_at, decided_by, reasons, legal_basis)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (subject, id) DO UPDATE SET list = excluded.list, commitment = excluded.commitment, statement = excluded.statement,
         requested_at = excluded.requested_at, state = excluded.state, decided_at = excluded.decided_at, decided_by = excluded.decided_by,
         reasons = excluded.reasons, legal_basis = excluded.legal_basis`,
      [r.id, r.subject, r.list, r.commitment, r.statement, r.requestedAt, r.state, r.decidedAt, r.decidedBy, r.reasons, r.legalBasis],
    );
  }

  async getRestoration(id: string): Promise<Restoration | undefined> {
    const [r] = await this.sql<RestorationRow>("SELECT * FROM restorations WHERE id = $1", [id]);
    return r ? toRestoration(r) : undefined;
  }

  async restorations(q: ReviewQuery<Restoration["state"]>): Promise<Restoration[]> {
    const w = where(q, "id");
    return (await this.sql<RestorationRow>(`SELECT * FROM restorations ${w.sql}`, w.params)).map(toRestoration);
  }

  /** Stores notices and queues each for delivery, numbered in the order given. */
  async appendNotices(drafts: readonly NoticeDraft[]): Promise<Notice[]> {
    if (drafts.length === 0) return [];
    // Numbers first, in order, so that the notices keep the order they were drafted in.
    const seqs = (await this.sql<{ seq: number }>("SELECT nextval('notice_seq') AS seq FROM generate_series(1, $1)", [drafts.length])).map((r) => r.seq).sort((a, b) => a - b);
    const recipient = (d: NoticeDraft) => ("source" in d.recipient ? `source:${d.recipient.source}` : `subject:${d.recipient.subject}`);
    await this.sql(
      `WITH n AS (
         INSERT INTO notices (seq, subject, recipient, kind, at, body)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[]) RETURNING seq, subject, at
       )
       INSERT INTO outbox (subject, notice, next_attempt_at) SELECT subject, seq, at FROM n`,
      [seqs, drafts.map((d) => d.subject), drafts.map(recipient), drafts.map((d) => d.kind), drafts.map((d) => d.at), drafts.map((d) => JSON.stringify(d))],
    );
    return drafts.map((d, i) => ({ seq: seqs[i] as number, ...d }));
  }

  async notices(q: { subject?: string; afterSeq?: number; limit: number }): Promise<Notice[]> {
    const rows =
      q.subject === undefined
        ? await this.sql<NoticeRow>("SELECT seq, body FROM notices WHERE seq > $1 ORDER BY seq LIMIT $2", [q.afterSeq ?? 0, q.limit])
        : await this.sql<NoticeRow>("SELECT seq, body FROM notices WHERE subject = $1 AND seq > $2 ORDER BY seq LIMIT $3", [q.subject, q.afterSeq ?? 0, q.limit]);
    return rows.map(toNotice);
  }

  async outboxDue(at: Instant, limit: number): Promise<{ notice: Notice; attempts: number }[]> {
    // In order: a notice waiting for its retry holds back the later ones, so that none overtakes it.
    const rows = await this.sql<NoticeRow & { attempts: number; next_attempt_at: number }>(
      `SELECT n.seq, n.body, o.attempts, o.next_attempt_at FROM outbox o JOIN notices n ON n.subject = o.subject AND n.seq = o.notice
       WHERE o.delivered_at IS NULL ORDER BY o.notice LIMIT $1`,
      [limit],
    );
    const due = [];
    for (const r of rows) {
      if (r.next_attempt_at > at) break;
      due.push({ notice: toNotice(r), attempts: r.attempts });
    }
    return due;
  }

  async markDelivered(seq: number, at: Instant): Promise<void> {
    await this.sql("UPDATE outbox SET delivered_at = $1, attempts = attempts + 1, last_error = NULL WHERE notice = $2", [at, seq]);
  }

  async markFailed(seq: number, error: string, nextAttemptAt: Instant): Promise<void> {
    await this.sql("UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE notice = $3", [error, nextAttemptAt, seq]);
  }

  async outboxBacklog(): Promise<number> {
    const [r] = await this.sql<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE delivered_at IS NULL");
    return r?.n ?? 0;
  }

  async listSizes(at: Instant): Promise<Map<string, number>> {
    const rows = await this.sql<{ list: string; n: number }>("SELECT list, count(*)::int AS n FROM list_members WHERE since <= $1 AND until > $1 GROUP BY list", [at]);
    return new Map(rows.map((r) => [r.list, r.n] as const));
  }

  async listMembers(list: string, at: Instant, q: { subjectLike?: string; name?: string; offset: number; limit: number }): Promise<ListMember[]> {
    const params: unknown[] = [list, at, q.limit, q.offset];
    const conds = ["m.list = $1", "m.since <= $2", "m.published_until > $2"];
    // ILIKE: SQLite's LIKE, which the SQLite store uses, ignores ASCII case.
    if (q.subjectLike !== undefined) conds.push(`m.subject ILIKE $${params.push(q.subjectLike)}`);
    if (q.name !== undefined) conds.push(`strpos(n.name, $${params.push(q.name)}) > 0`);
    return this.sql<ListMember>(
      `SELECT m.subject, m.since, m.until, m.published_until AS "publishedUntil", n.name FROM list_members m LEFT JOIN subject_names n ON n.subject = m.subject
       WHERE ${conds.join(" AND ")} ORDER BY m.subject LIMIT $3 OFFSET $4`,
      params,
    );
  }

  async listStatistics(at: Instant): Promise<ListStatistics[]> {
    return this.sql<ListStatistics>(
      `SELECT list, sum(entries)::int AS entries, sum(exits)::int AS exits, sum(members)::int AS members FROM (
         SELECT ((body::jsonb) -> 'detail' ->> 'list') COLLATE "C" AS list, count(*) FILTER (WHERE kind = 'list-entry') AS entries,
           count(*) FILTER (WHERE kind = 'list-exit') AS exits, 0 AS members
           FROM notices WHERE kind IN ('list-entry', 'list-exit') AND at <= $1 GROUP BY 1
         UNION ALL
         SELECT list, 0, 0, count(*) FILTER (WHERE published_until > $1) FROM list_members WHERE since <= $1 AND until > $1 GROUP BY list
       ) x GROUP BY list ORDER BY list`,
      [at],
    );
  }
}
