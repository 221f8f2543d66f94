// The audit log's chain: each entry carries the hash of the one before it, so that an edit, deletion or reordering shows.
import { canonicalJson, canonicalNumber, canonicalString } from "./canonical-json.js";
import type { Instant } from "./time.js";
import { sha256 } from "./sha256.js";

/** An action to be recorded: who did what, to whom, when, under which decision id. */
export interface AuditDraft {
  /** The acting identity, e.g. "key:3f9a…" or "cli:alice". */
  actor: string;
  /** What was done, e.g. "record.accepted", "check", "subject.read". */
  action: string;
  /** The subject the action concerns, if any: what a subject's own access log is filtered by. */
  subject: string | null;
  /** The id the response carried, so a person can quote it. */
  decisionId: string;
  at: Instant;
  detail: Record<string, unknown>;
}

/** An entry as chained: its position, the hash of its predecessor, and its own hash. */
export interface AuditEntry extends AuditDraft {
  seq: number;
  prev: string;
  hash: string;
}

/** The hash the first entry links to. */
export const GENESIS_HASH = "0".repeat(64);

/**
 * The canonical JSON (RFC 8785) of every field of an entry but its hash, given its detail's: the members are written in
 * canonical order around it, so the detail (the only part of any size) is serialised once.
 */
function canonicalEntryWith(e: Omit<AuditEntry, "hash" | "detail">, detail: string): string {
  const s = canonicalString;
  const n = canonicalNumber;
  return `{"action":${s(e.action)},"actor":${s(e.actor)},"at":${n(e.at)},"decisionId":${s(e.decisionId)},"detail":${detail},"prev":${s(e.prev)},"seq":${n(e.seq)},"subject":${e.subject === null ? "null" : s(e.subject)}}`;
}

/** The canonical JSON (RFC 8785) of every field of an entry but its hash: what the hash covers. */
export function canonicalEntry(e: Omit<AuditEntry, "hash">): string {
  return canonicalEntryWith(e, canonicalJson(e.detail));
}

/** The hash of an entry over the canonical JSON (RFC 8785) of every field but the hash itself. */
export function entryHash(e: Omit<AuditEntry, "hash">): string {
  return sha256(canonicalEntry(e));
}

// The canonical JSON of each detail chained lately, by object: what the stores write, so that no detail is serialised
// twice. Weak, so that it lasts exactly as long as the entry.
const chainedDetails = new WeakMap<object, string>();

/** An entry's detail as stored: the canonical JSON its hash was computed over, when it was chained in this process. */
export function detailJson(detail: Record<string, unknown>): string {
  return chainedDetails.get(detail) ?? canonicalJson(detail);
}

/** Chains drafts after a head (or the genesis), giving each its sequence number and hashes. */
export function chain(drafts: readonly AuditDraft[], head: { seq: number; hash: string } | undefined): AuditEntry[] {
  let seq = head?.seq ?? 0;
  let prev = head?.hash ?? GENESIS_HASH;
  return drafts.map((d) => {
    seq++;
    // Spelled out rather than spread: a spread with members added is slow, and a busy server chains thousands a second.
    const e: AuditEntry = { actor: d.actor, action: d.action, subject: d.subject, decisionId: d.decisionId, at: d.at, detail: d.detail, seq, prev, hash: "" };
    const detail = canonicalJson(d.detail);
    chainedDetails.set(d.detail, detail);
    e.hash = sha256(canonicalEntryWith(e, detail));
    prev = e.hash;
    return e;
  });
}

/** Why an entry breaks the chain. */
export interface ChainBreak {
  seq: number;
  reason: string;
}

/** Checks entries fed in order, one at a time, so a log of any length is verified in constant memory. */
export class ChainVerifier {
  private expectedSeq = 1;
  private prev = GENESIS_HASH;
  private readonly seen = new Map<number, string>();

  constructor(
    /** Sequence numbers whose hash must be remembered (those a checkpoint signed). */
    private readonly remember: ReadonlySet<number> = new Set(),
  ) {}

  /** Feeds the next entry; returns what is wrong with it, if anything. */
  push(e: AuditEntry): ChainBreak | undefined {
    if (e.seq !== this.expectedSeq) {
      return e.seq > this.expectedSeq
        ? { seq: this.expectedSeq, reason: `entry ${this.expectedSeq} is missing (the next entry is ${e.seq})` }
        : { seq: e.seq, reason: `entry ${e.seq} is out of order (expected ${this.expectedSeq})` };
    }
    if (e.prev !== this.prev) return { seq: e.seq, reason: `entry ${e.seq} does not link to entry ${e.seq - 1}: entries were edited, deleted or reordered` };
    const { hash: _stored, ...rest } = e;
    if (entryHash(rest) !== e.hash) return { seq: e.seq, reason: `entry ${e.seq} was edited: its content does not match its hash` };
    if (this.remember.has(e.seq)) this.seen.set(e.seq, e.hash);
    this.prev = e.hash;
    this.expectedSeq++;
    return undefined;
  }

  /** How many entries were verified. */
  get length(): number {
    return this.expectedSeq - 1;
  }

  /** The verified hash at a remembered position. */
  hashAt(seq: number): string | undefined {
    return this.seen.get(seq);
  }
}

/** A signed statement of the log's head at some moment: what makes truncation detectable. */
export interface Checkpoint {
  seq: number;
  hash: string;
  at: Instant;
  /** Base64 Ed25519 signature over checkpointPayload(). */
  signature: string;
}

/** The bytes a checkpoint's signature covers. */
export function checkpointPayload(c: Pick<Checkpoint, "seq" | "hash" | "at">): Buffer {
  return Buffer.from(canonicalJson({ seq: c.seq, hash: c.hash, at: c.at }), "utf8");
}
