// The SQLite tables of due process: sign-offs, objections, restorations, notices and their outbox, list members; synchronous, called inside the store's transactions.
import type Database from "better-sqlite3";
import { caseFactsOf, type Objection, type Restoration, type SignOff } from "../../core/due-process.js";
import type { AwaitingSignOff, CaseFacts, ListMembership } from "../../core/evaluate.js";
import type { Notice, NoticeDraft } from "../../core/notices.js";
import { parseInstant, type Instant } from "../../core/time.js";
import type { ListMember, ListStatistics, ObjectionStatistics, ReviewQuery } from "../store.js";
import { toNotice, toObjection, toRestoration, toSignOff, type NoticeRow, type ObjectionRow, type RestorationRow, type SignOffRow } from "../due-process-rows.js";

/** Filters of a review queue as SQL conditions, with their parameters. */
function where(q: ReviewQuery<string>, key: string, dueColumn?: string): { sql: string; params: Record<string, unknown> } {
  const conds: string[] = [];
  const params: Record<string, unknown> = { limit: q.limit };
  if (q.subject !== undefined) {
    conds.push("subject = @subject");
    params["subject"] = q.subject;
  }
  if (q.state !== undefined) {
    conds.push("state = @state");
    params["state"] = q.state;
  }
  if (q.overdueAt !== undefined && dueColumn) {
    conds.push(`state = 'open' AND ${dueColumn} <= @overdueAt`);
    params["overdueAt"] = q.overdueAt;
  }
  if (q.after !== undefined) {
    conds.push(`${key} > @after`);
    params["after"] = q.after;
  }
  return { sql: conds.length > 0 ? `WHERE ${conds.join(" AND ")}` : "", params };
}

/** The due-process tables of one connection. */
export class DueProcessTables {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      signOffsOf: db.prepare<[string], SignOffRow>("SELECT * FROM sign_offs WHERE subject = ?"),
      restorationsOf: db.prepare<[string], RestorationRow>("SELECT * FROM restorations WHERE subject = ? AND state = 'granted'"),
      openObjectionsOf: db.prepare<[string], ObjectionRow>("SELECT * FROM objections WHERE subject = ? AND state = 'open'"),
      // Cheap test first: most subjects were never reviewed.
      casesBetween: db.prepare<[string, string, string, string, string, string], { subject: string }>(
        `SELECT subject FROM sign_offs WHERE subject BETWEEN ? AND ? AND state IN ('approved', 'rejected')
         UNION SELECT subject FROM restorations WHERE subject BETWEEN ? AND ? AND state = 'granted'
         UNION SELECT subject FROM objections WHERE subject BETWEEN ? AND ? AND state = 'open'`,
      ),
      // The subjects are a JSON array: one statement for a batch's subjects, each probed through its table's index.
      casesAmong: db.prepare<[string], { subject: string }>(
        `WITH asked(subject) AS (SELECT value FROM json_each(?))
         SELECT subject FROM sign_offs WHERE subject IN asked AND state IN ('approved', 'rejected')
         UNION SELECT subject FROM restorations WHERE subject IN asked AND state = 'granted'
         UNION SELECT subject FROM objections WHERE subject IN asked AND state = 'open'`,
      ),
      // Through the partial indexes of migration 11: a few pages read however large the tables.
      anyCaseAtAll: db.prepare<[], { one: number }>(
        `SELECT 1 AS one WHERE EXISTS (SELECT 1 FROM sign_offs WHERE state IN ('approved', 'rejected'))
           OR EXISTS (SELECT 1 FROM restorations WHERE state = 'granted')
           OR EXISTS (SELECT 1 FROM objections WHERE state = 'open')`,
      ),
      anyCase: db.prepare<[string, string, string], { one: number }>(
        `SELECT 1 AS one WHERE EXISTS (SELECT 1 FROM sign_offs WHERE subject = ? AND state IN ('approved', 'rejected'))
           OR EXISTS (SELECT 1 FROM restorations WHERE subject = ? AND state = 'granted')
           OR EXISTS (SELECT 1 FROM objections WHERE subject = ? AND state = 'open')`,
      ),
      requestSignOff: db.prepare(
        `INSERT INTO sign_offs (entry, subject, list, tier, record, rule, requested_at, state) VALUES (@entry, @subject, @list, @tier, @record, @rule, @at, 'pending')
         ON CONFLICT (entry) DO UPDATE SET state = 'pending', requested_at = excluded.requested_at WHERE state = 'lapsed'`,
      ),
      lapseSignOff: db.prepare("UPDATE sign_offs SET state = 'lapsed' WHERE entry = ? AND state = 'pending'"),
      getSignOff: db.prepare<[string], SignOffRow>("SELECT * FROM sign_offs WHERE entry = ?"),
      decideSignOff: db.prepare("UPDATE sign_offs SET state = ?, decided_at = ?, decided_by = ?, reasons = ? WHERE entry = ? AND state = 'pending'"),
      putObjection: db.prepare(
        `INSERT OR REPLACE INTO objections (id, subject, record, statement, evidence_ref, filed_at, due_at, state, decided_at, decided_by, reasons, outcome)
         VALUES (@id, @subject, @record, @statement, @evidenceRef, @filedAt, @dueAt, @state, @decidedAt, @decidedBy, @reasons, @outcome)`,
      ),
      getObjection: db.prepare<[string], ObjectionRow>("SELECT * FROM objections WHERE id = ?"),
      putRestoration: db.prepare(
        `INSERT OR REPLACE INTO restorations (id, subject, list, commitment, statement, requested_at, state, decided_at, decided_by, reasons, legal_basis)
         VALUES (@id, @subject, @list, @commitment, @statement, @requestedAt, @state, @decidedAt, @decidedBy, @reasons, @legalBasis)`,
      ),
      getRestoration: db.prepare<[string], RestorationRow>("SELECT * FROM restorations WHERE id = ?"),
      insertNotice: db.prepare<[string, string, string, number, string], number>(
        "INSERT INTO notices (subject, recipient, kind, at, body) VALUES (?, ?, ?, ?, ?) RETURNING seq",
      ).pluck(),
      queueNotice: db.prepare("INSERT INTO outbox (notice, next_attempt_at) VALUES (?, ?)"),
      deleteMembers: db.prepare("DELETE FROM list_members WHERE subject = ?"),
      insertMember: db.prepare("INSERT INTO list_members (list, subject, since, until, published_until) VALUES (?, ?, ?, ?, ?)"),
    };
  }

  /** The subjects from `first` to `last` whose case facts are not empty: what caseFacts would find anything for. */
  subjectsWithCasesBetween(first: string, last: string): Set<string> {
    return new Set(this.s.casesBetween.all(first, last, first, last, first, last).map((r) => r.subject));
  }

  /** Those of `subjects` whose case facts are not empty: a batch's in one statement, rather than a probe per subject. */
  subjectsWithCasesAmong(subjects: readonly string[]): Set<string> {
    // Until a reviewer decides anything (a new city's first imports), no subject has a case: nothing to probe.
    if (!this.s.anyCaseAtAll.get()) return new Set();
    return new Set(this.s.casesAmong.all(JSON.stringify(subjects)).map((r) => r.subject));
  }

  caseFacts(subject: string): CaseFacts {
    if (!this.s.anyCase.get(subject, subject, subject)) return caseFactsOf([], [], []);
    return caseFactsOf(
      this.s.signOffsOf.all(subject).map(toSignOff),
      this.s.restorationsOf.all(subject).map(toRestoration),
      this.s.openObjectionsOf.all(subject).map(toObjection),
    );
  }

  /** Keeps the sign-off queue in step with what a new status awaits: new entries asked, vanished ones lapsed. */
  syncSignOffs(subject: string, before: readonly AwaitingSignOff[], now: readonly AwaitingSignOff[], at: Instant): void {
    const still = new Set(now.map((a) => a.entry));
    for (const a of before) if (!still.has(a.entry)) this.s.lapseSignOff.run(a.entry);
    for (const a of now) this.s.requestSignOff.run({ entry: a.entry, subject, list: a.list, tier: a.tier, record: a.record, rule: a.rule, at });
  }

  /** Replaces a subject's list memberships. */
  syncMembers(subject: string, had: boolean, lists: readonly ListMembership[]): void {
    if (had) this.s.deleteMembers.run(subject);
    for (const l of lists) {
      const published = l.publishedUntil === null ? null : (parseInstant(l.publishedUntil) as number);
      this.s.insertMember.run(l.list, subject, parseInstant(l.since) as number, parseInstant(l.until) as number, published);
    }
  }

  getSignOff(entry: string): SignOff | undefined {
    const r = this.s.getSignOff.get(entry);
    return r ? toSignOff(r) : undefined;
  }

  signOffs(q: ReviewQuery<SignOff["state"]>): SignOff[] {
    const w = where(q, "entry");
    return (this.db.prepare(`SELECT * FROM sign_offs ${w.sql} ORDER BY entry LIMIT @limit`).all(w.params) as SignOffRow[]).map(toSignOff);
  }

  decideSignOff(entry: string, approved: boolean, at: Instant, by: string, reasons: string | null): boolean {
    return this.s.decideSignOff.run(approved ? "approved" : "rejected", at, by, reasons, entry).changes > 0;
  }

  putObjection(o: Objection): void {
    this.s.putObjection.run(o);
  }

  getObjection(id: string): Objection | undefined {
    const r = this.s.getObjection.get(id);
    return r ? toObjection(r) : undefined;
  }

  objections(q: ReviewQuery<Objection["state"]>): Objection[] {
    const w = where(q, "id", "due_at");
    return (this.db.prepare(`SELECT * FROM objections ${w.sql} ORDER BY id LIMIT @limit`).all(w.params) as ObjectionRow[]).map(toObjection);
  }

  objectionStatistics(at: Instant): ObjectionStatistics {
    const c = this.db
      .prepare(
        `SELECT coalesce(sum(state = 'open'), 0) AS open, coalesce(sum(state = 'open' AND due_at <= ?), 0) AS overdue,
           coalesce(sum(state = 'upheld'), 0) AS upheld, coalesce(sum(state = 'dismissed'), 0) AS dismissed FROM objections`,
      )
      .get(at) as Omit<ObjectionStatistics, "decisionTimes">;
    const decisionTimes = this.db.prepare("SELECT decided_at - filed_at FROM objections WHERE decided_at IS NOT NULL ORDER BY 1").pluck().all() as number[];
    return { ...c, decisionTimes };
  }

  putRestoration(r: Restoration): void {
    this.s.putRestoration.run(r);
  }

  getRestoration(id: string): Restoration | undefined {
    const r = this.s.getRestoration.get(id);
    return r ? toRestoration(r) : undefined;
  }

  restorations(q: ReviewQuery<Restoration["state"]>): Restoration[] {
    const w = where(q, "id");
    return (this.db.prepare(`SELECT * FROM restorations ${w.sql} ORDER BY id LIMIT @limit`).all(w.params) as RestorationRow[]).map(toRestoration);
  }

  appendNotices(drafts: readonly NoticeDraft[]): Notice[] {
    return drafts.map((d) => {
      const recipient = "source" in d.recipient ? `source:${d.recipient.source}` : `subject:${d.recipient.subject}`;
      const seq = this.s.insertNotice.get(d.subject, recipient, d.kind, d.at, JSON.stringify(d)) as number;
      this.s.queueNotice.run(seq, d.at);
      return { seq, ...d };
    });
  }

  notices(q: { subject?: string; afterSeq?: number; limit: number }): Notice[] {
    const rows =
      q.subject === undefined
        ? this.db.prepare("SELECT seq, body FROM notices WHERE seq > ? ORDER BY seq LIMIT ?").all(q.afterSeq ?? 0, q.limit)
        : this.db.prepare("SELECT seq, body FROM notices WHERE subject = ? AND seq > ? ORDER BY seq LIMIT ?").all(q.subject, q.afterSeq ?? 0, q.limit);
    return (rows as NoticeRow[]).map(toNotice);
  }

  outboxDue(at: Instant, limit: number): { notice: Notice; attempts: number }[] {
    // In order: a notice waiting for its retry holds back the later ones, so that none overtakes it.
    const rows = this.db
      .prepare(
        `SELECT n.seq, n.body, o.attempts, o.next_attempt_at FROM outbox o JOIN notices n ON n.seq = o.notice
         WHERE o.delivered_at IS NULL ORDER BY o.notice LIMIT ?`,
      )
      .all(limit) as (NoticeRow & { attempts: number; next_attempt_at: number })[];
    const due = [];
    for (const r of rows) {
      if (r.next_attempt_at > at) break;
      due.push({ notice: toNotice(r), attempts: r.attempts });
    }
    return due;
  }

  markDelivered(seq: number, at: Instant): void {
    this.db.prepare("UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE notice = ?").run(at, seq);
  }

  markFailed(seq: number, error: string, nextAttemptAt: Instant): void {
    this.db.prepare("UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE notice = ?").run(error, nextAttemptAt, seq);
  }

  outboxBacklog(): number {
    return this.db.prepare("SELECT count(*) FROM outbox WHERE delivered_at IS NULL").pluck().get() as number;
  }

  listSizes(at: Instant): Map<string, number> {
    const rows = this.db.prepare("SELECT list, count(*) AS n FROM list_members WHERE since <= ? AND until > ? GROUP BY list").all(at, at) as { list: string; n: number }[];
    return new Map(rows.map((r) => [r.list, r.n] as const));
  }

  listMembers(list: string, at: Instant, q: { subjectLike?: string; name?: string; offset: number; limit: number }): ListMember[] {
    const conds = ["m.list = @list", "m.since <= @at", "m.published_until > @at"];
    const params: Record<string, unknown> = { list, at, offset: q.offset, limit: q.limit };
    if (q.subjectLike !== undefined) {
      conds.push("m.subject LIKE @like");
      params["like"] = q.subjectLike;
    }
    if (q.name !== undefined) {
      conds.push("instr(n.name, @name) > 0");
      params["name"] = q.name;
    }
    return this.db
      .prepare(
        `SELECT m.subject, m.since, m.until, m.published_until AS publishedUntil, n.name FROM list_members m LEFT JOIN subject_names n ON n.subject = m.subject
         WHERE ${conds.join(" AND ")} ORDER BY m.subject LIMIT @limit OFFSET @offset`,
      )
      .all(params) as ListMember[];
  }

  listStatistics(at: Instant): ListStatistics[] {
    const rows = this.db
      .prepare(
        `SELECT list, sum(entries) AS entries, sum(exits) AS exits, sum(members) AS members FROM (
           SELECT json_extract(body, '$.detail.list') AS list, sum(kind = 'list-entry') AS entries, sum(kind = 'list-exit') AS exits, 0 AS members
             FROM notices WHERE kind IN ('list-entry', 'list-exit') AND at <= @at GROUP BY 1
           UNION ALL
           SELECT list, 0, 0, count(*) FILTER (WHERE published_until > @at) FROM list_members WHERE since <= @at AND until > @at GROUP BY list
         ) GROUP BY list ORDER BY list`,
      )
      .all({ at }) as ListStatistics[];
    return rows;
  }
}
