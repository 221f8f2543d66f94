// The one narrow, asynchronous storage interface every backend implements.
import type { AuditDraft, AuditEntry, Checkpoint } from "../core/audit.js";
import type { Objection, Restoration, SignOff } from "../core/due-process.js";
import type { CaseFacts, Evaluation, MeasureApplication, Status } from "../core/evaluate.js";
import type { Notice, NoticeDraft } from "../core/notices.js";
import type { RecordFact } from "../core/record.js";
import type { RecordOp } from "../core/record-input.js";
import type { Role } from "../core/roles.js";
import type { Instant } from "../core/time.js";

/** What became of one record operation. */
export type RecordOutcome =
  | { kind: "accepted" | "duplicate" | "corrected" | "retracted"; id: string; subject: string }
  | { kind: "rejected"; id: string; reason: string };

/** A record as stored: its current content, revision and state. */
export interface StoredRecord extends RecordFact {
  revision: number;
  state: "active" | "retracted";
  receivedAt: Instant;
}

/** One entry of a record's history: each submission, correction and retraction. */
export interface RecordRevision {
  revision: number;
  op: "submit" | "correct" | "retract";
  at: Instant;
  content: Omit<RecordFact, "id" | "source" | "externalId"> | null;
  reason?: string;
}

/** A rulebook layer as activated: its text is kept so that any status can be traced to the rules that made it. */
export interface StoredLayer {
  id: string;
  file: string;
  text: string;
  sha256: string;
  activatedAt: Instant;
}

/** The measures of a stored status, with what says whether it still holds. */
export interface StoredMeasures {
  rulesetHash: string;
  validFrom: Instant | null;
  validUntil: Instant | null;
  measures: MeasureApplication[];
}

/** A status without its explanation: what is stored, since the explanation is re-derived from the records when asked for. */
export type StatusSummary = Omit<Status, "effects" | "excluded">;

/** A materialised status and the interval it holds for. */
export interface StatusRow {
  subject: string;
  status: StatusSummary;
  validFrom: Instant | null;
  validUntil: Instant | null;
}

/**
 * Evaluates a subject from its current active records and its reviewers' decisions; pure and synchronous so a backend
 * may call it inside its transaction.
 */
export type SubjectEvaluator = (subject: string, records: readonly RecordFact[], facts: CaseFacts) => Evaluation;

/** An API key as stored: its scope and the hash of its secret, never the secret. */
export interface ApiKeyRecord {
  id: string;
  role: Role;
  source: string | null;
  measures: string[] | null;
  subject: string | null;
  label: string | null;
  secretHash: string;
  createdAt: Instant;
  createdBy: string;
  revokedAt: Instant | null;
}

/** A filter over the audit log, paged by sequence number. */
export interface AuditQuery {
  subject?: string;
  actor?: string;
  action?: string;
  afterSeq?: number;
  limit: number;
}

/** A page of a queue of reviews, oldest first. */
export interface ReviewQuery<S extends string> {
  subject?: string;
  state?: S;
  /** Only open objections already past their deadline at this instant. */
  overdueAt?: Instant;
  limit: number;
  /** The id (entry for sign-offs) after which to continue. */
  after?: string;
}

/** A page of notices, by sequence number. */
export interface NoticeQuery {
  subject?: string;
  afterSeq?: number;
  limit: number;
}

/** One member of a list as the published lists show it. */
export interface ListMember {
  subject: string;
  since: Instant;
  /** When the entry ends. */
  until: Instant;
  /** When it leaves the published list: the entry's end, or earlier when its tier's publication period is shorter. */
  publishedUntil: Instant;
  name: string | null;
}

/** Counts behind the public statistics of one list. */
export interface ListStatistics {
  list: string;
  /** Published members now. */
  members: number;
  entries: number;
  exits: number;
}

/** Counts behind the public statistics of objections, with each decided one's time to decision. */
export interface ObjectionStatistics {
  open: number;
  overdue: number;
  upheld: number;
  dismissed: number;
  /** Milliseconds from filing to decision, of every decided objection. */
  decisionTimes: number[];
}

/** Every operation on stored data; what a transaction hands its work. */
export interface StoreTx {
  activeLayers(): Promise<StoredLayer[]>;
  /** A number that changes whenever the active layers do: a cheap test of whether a cached ruleset is still current. */
  activationSeq(): Promise<number>;
  /** Makes exactly these layers the active set, keeping every earlier version in the history. */
  activateLayers(layers: readonly Omit<StoredLayer, "activatedAt">[], rulesetHash: string, at: Instant): Promise<void>;

  /**
   * Applies record operations in order, each whole or not at all, and re-evaluates every subject they touch
   * in the same transaction, so that statuses never lag behind records.
   */
  writeRecords(ops: readonly RecordOp[], evaluate: SubjectEvaluator, at: Instant): Promise<RecordOutcome[]>;
  /** The current records of a subject, retracted ones included (marked). */
  recordsOf(subject: string): Promise<StoredRecord[]>;
  /** One record by id, retracted or not. */
  getRecord(id: string): Promise<StoredRecord | undefined>;
  recordHistory(id: string): Promise<RecordRevision[]>;

  getStatus(subject: string): Promise<StatusRow | undefined>;
  /** What a check needs of a stored status, without its explanation: far cheaper to read than the whole status. */
  getMeasures(subject: string): Promise<StoredMeasures | undefined>;
  /** getMeasures of each subject, in their order, read at once: a batch of checks (a flight's passengers). */
  getMeasuresMany(subjects: readonly string[]): Promise<(StoredMeasures | undefined)[]>;
  /**
   * Re-evaluates the given subjects from their stored records and saves their statuses. `wholeRange` says the subjects
   * are every subject with records from the first to the last, in order (a page of subjectsAfter), so that the store
   * may read them by range rather than one by one.
   */
  refreshStatuses(subjects: readonly string[], evaluate: SubjectEvaluator, options?: { wholeRange?: boolean }): Promise<void>;
  /** Subjects after a cursor whose stored status does not hold at `at` (run out, or made for a later instant) or was made under another ruleset. */
  dueSubjects(at: Instant, rulesetHash: string, after: string | null, limit: number): Promise<string[]>;
  /** Subjects that have records, in order, after a cursor: for paging through everything. */
  subjectsAfter(cursor: string | null, limit: number): Promise<string[]>;
  counts(): Promise<{ subjects: number; records: number; retracted: number }>;
  /** Records subjects' names (from a population or enterprise registry); a later name replaces an earlier one. */
  putNames(names: readonly { subject: string; name: string }[]): Promise<void>;
  /** The names known for the given subjects. */
  namesOf(subjects: readonly string[]): Promise<Map<string, string>>;
  /** How many subjects are on each list at an instant. */
  listSizes(at: Instant): Promise<Map<string, number>>;
  /**
   * Published members of a list at an instant, in subject order; `subjectLike` is a SQL LIKE pattern over the ID, `name`
   * a part of the name. Paged by offset: a cursor would carry an unmasked ID.
   */
  listMembers(list: string, at: Instant, q: { subjectLike?: string; name?: string; offset: number; limit: number }): Promise<ListMember[]>;
  /** Entries and exits ever noticed and current members, per list. */
  listStatistics(at: Instant): Promise<ListStatistics[]>;

  /** A subject's reviewers' decisions, as the evaluator takes them. */
  caseFactsOf(subject: string): Promise<CaseFacts>;
  getSignOff(entry: string): Promise<SignOff | undefined>;
  signOffs(q: ReviewQuery<SignOff["state"]>): Promise<SignOff[]>;
  /** Decides a pending sign-off; false when it is not pending (decided already, or lapsed). */
  decideSignOff(entry: string, approved: boolean, at: Instant, by: string, reasons: string | null): Promise<boolean>;
  /** Inserts or replaces an objection by id. */
  putObjection(o: Objection): Promise<void>;
  getObjection(id: string): Promise<Objection | undefined>;
  objections(q: ReviewQuery<Objection["state"]>): Promise<Objection[]>;
  objectionStatistics(at: Instant): Promise<ObjectionStatistics>;
  /** Inserts or replaces a restoration request by id. */
  putRestoration(r: Restoration): Promise<void>;
  getRestoration(id: string): Promise<Restoration | undefined>;
  restorations(q: ReviewQuery<Restoration["state"]>): Promise<Restoration[]>;

  /** Stores notices and queues each for delivery. */
  appendNotices(drafts: readonly NoticeDraft[]): Promise<Notice[]>;
  notices(q: NoticeQuery): Promise<Notice[]>;
  /** Undelivered notices in order, up to the first whose next attempt is not yet due, with how often delivery was tried. */
  outboxDue(at: Instant, limit: number): Promise<{ notice: Notice; attempts: number }[]>;
  markDelivered(seq: number, at: Instant): Promise<void>;
  markFailed(seq: number, error: string, nextAttemptAt: Instant): Promise<void>;
  /** How many notices wait for delivery. */
  outboxBacklog(): Promise<number>;

  /** Chains and appends audit entries after the current head. */
  appendAudit(drafts: readonly AuditDraft[]): Promise<AuditEntry[]>;
  /** Audit entries in sequence order matching a filter. */
  auditEntries(query: AuditQuery): Promise<AuditEntry[]>;
  auditHead(): Promise<{ seq: number; hash: string } | undefined>;
  putCheckpoint(checkpoint: Checkpoint): Promise<void>;
  checkpoints(): Promise<Checkpoint[]>;

  putKey(key: ApiKeyRecord): Promise<void>;
  getKey(id: string): Promise<ApiKeyRecord | undefined>;
  listKeys(): Promise<ApiKeyRecord[]>;
  /** Revokes a key; false when there is no such key or it was already revoked. */
  revokeKey(id: string, at: Instant): Promise<boolean>;
}

export interface Store extends StoreTx {
  /** The backend's name, for messages. */
  readonly backend: string;
  /** Records an import should write per transaction: what this backend writes fastest while bounding the work lost to a crash. */
  readonly importBatchSize: number;
  close(): Promise<void>;
  /**
   * Runs work in one transaction: all of it commits or none. The work must use the `tx` it is given,
   * never the store itself, and must not wait on anything but the store.
   */
  transaction<T>(work: (tx: StoreTx) => Promise<T>): Promise<T>;
}
