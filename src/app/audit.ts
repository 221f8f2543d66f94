// The audit log's services: reading it, a subject's access log, signed checkpoints of its head, and verifying the whole chain.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { ChainVerifier, checkpointPayload, type AuditEntry, type Checkpoint } from "../core/audit.js";
import type { Role } from "../core/roles.js";
import type { AuditQuery, StoreTx } from "../storage/store.js";
import { loggedChecks } from "./check-audit.js";
import type { AppContext } from "./context.js";
import { UserError } from "./errors.js";
import { loggedRecords } from "./ingest.js";
import { newDecisionId, requireSubject } from "./statuses.js";

/** Reads audit entries for an auditor; the reading is itself audited. */
export async function readAudit(ctx: AppContext, actor: string, query: AuditQuery): Promise<AuditEntry[]> {
  return ctx.store.transaction(async (tx) => {
    const entries = await tx.auditEntries(query);
    const { limit: _l, ...filter } = query;
    await tx.appendAudit([{ actor, action: "audit.read", subject: null, decisionId: newDecisionId(), at: ctx.clock.now(), detail: { filter, entries: entries.length } }]);
    return entries;
  });
}

/** One line of a subject's access log: who acted on their file, as whom, when and why. */
export interface AccessEntry {
  seq: number;
  at: number;
  action: string;
  decisionId: string;
  actor: { id: string; role: Role | "operator" | "public"; label: string | null; source: string | null };
  detail: Record<string, unknown>;
}

async function describeActor(tx: StoreTx, actor: string): Promise<AccessEntry["actor"]> {
  if (actor.startsWith("key:")) {
    const key = await tx.getKey(actor.slice(4));
    if (key) return { id: actor, role: key.role, label: key.label, source: key.source };
  }
  return { id: actor, role: actor === "public" ? "public" : "operator", label: null, source: null };
}

/** Everything done to a subject's file (reads, checks, writes), oldest first; the subject's own way to see who read it. */
export async function accessLog(ctx: AppContext, actor: string, rawId: string, afterSeq: number, limit: number): Promise<AccessEntry[]> {
  const subject = requireSubject(rawId).id;
  return ctx.store.transaction(async (tx) => {
    const out = await accessEntries(tx, subject, afterSeq, limit);
    await tx.appendAudit([{ actor, action: "subject.access-log.read", subject, decisionId: newDecisionId(), at: ctx.clock.now(), detail: { entries: out.length } }]);
    return out;
  });
}

/** The audit entries about a subject as the subject may see them, inside a transaction; not audited by itself. */
export async function accessEntries(tx: StoreTx, subject: string, afterSeq: number, limit: number): Promise<AccessEntry[]> {
  const entries = await tx.auditEntries({ subject, afterSeq, limit });
  const actors = new Map<string, AccessEntry["actor"]>();
  const out: AccessEntry[] = [];
  for (const e of entries) {
    if (!actors.has(e.actor)) actors.set(e.actor, await describeActor(tx, e.actor));
    const who = actors.get(e.actor) as AccessEntry["actor"];
    // From an entry of several checks or records a subject sees their own only, never the other people's in it.
    const checks = loggedChecks(e);
    // An entry of one record (whose detail may say more, such as the objection behind a correction) is shown whole.
    const records = e.subject === null ? loggedRecords(e) : undefined;
    if (checks) {
      for (const c of checks.filter((c) => c.subject === subject)) {
        const { decisionId, subject: _s, at, ...detail } = c;
        out.push({ seq: e.seq, at: at ?? e.at, action: "check", decisionId, actor: who, detail });
      }
    } else if (records) {
      for (const r of records) if (r.subject === subject) out.push({ seq: e.seq, at: e.at, action: e.action, decisionId: e.decisionId, actor: who, detail: { record: r.record } });
    } else out.push({ seq: e.seq, at: e.at, action: e.action, decisionId: e.decisionId, actor: who, detail: e.detail });
  }
  return out;
}

/** Reads an Ed25519 private key (PKCS#8 PEM) for signing checkpoints. */
export function loadSigningKey(path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(path, "utf8"));
  } catch (e) {
    throw new UserError(`cannot read the audit signing key ${path}: ${(e as Error).message}`);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new UserError(`the audit signing key ${path} is ${key.asymmetricKeyType}, not Ed25519`);
  return key;
}

/** Reads a public key (SPKI PEM), or derives it from a private key file: what verification needs. */
export function loadVerifyingKey(path: string): KeyObject {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UserError(`cannot read the audit key ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let key: KeyObject;
  try {
    key = text.includes("PRIVATE KEY") ? createPublicKey(createPrivateKey(text)) : createPublicKey(text);
  } catch (e) {
    throw new UserError(`${path} is not a PEM public or private key: ${(e as Error).message}`);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new UserError(`the audit key ${path} is ${key.asymmetricKeyType}, not Ed25519`);
  return key;
}

/** Writes a new Ed25519 private key (readable by its owner only) and returns the public key in PEM. */
export function generateSigningKey(path: string): string {
  if (existsSync(path)) throw new UserError(`${path} exists; refusing to overwrite a signing key`);
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  writeFileSync(path, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  return publicKey.export({ type: "spki", format: "pem" }).toString();
}

/** Signs the log's current head, unless the last checkpoint already covers it. */
export async function writeCheckpoint(ctx: AppContext, key: KeyObject): Promise<Checkpoint | undefined> {
  return ctx.store.transaction(async (tx) => {
    const head = await tx.auditHead();
    const last = (await tx.checkpoints()).at(-1);
    if (!head || (last && last.seq >= head.seq)) return undefined;
    const unsigned = { seq: head.seq, hash: head.hash, at: ctx.clock.now() };
    const checkpoint = { ...unsigned, signature: sign(null, checkpointPayload(unsigned), key).toString("base64") };
    await tx.putCheckpoint(checkpoint);
    return checkpoint;
  });
}

/** The outcome of verifying the log. */
export interface VerifyReport {
  ok: boolean;
  entries: number;
  checkpoints: number;
  /** The first problem found, naming the entry. */
  problem?: { seq: number; reason: string };
  warnings: string[];
}

const PAGE = 10_000;

/**
 * Re-hashes the whole chain in order and checks each checkpoint: its signature, that the entry it signed is
 * still there with the same hash, so that edits, deletions, reordering and truncation up to it are all detected.
 */
export async function verifyAudit(ctx: AppContext, opts: { key?: KeyObject; extraCheckpoints?: readonly Checkpoint[]; progress?: (done: number) => void } = {}): Promise<VerifyReport> {
  const warnings: string[] = [];
  const bySeq = new Map<number, Checkpoint>();
  for (const c of [...(await ctx.store.checkpoints()), ...(opts.extraCheckpoints ?? [])]) {
    const seen = bySeq.get(c.seq);
    if (seen && (seen.hash !== c.hash || seen.at !== c.at)) {
      return { ok: false, entries: 0, checkpoints: bySeq.size, problem: { seq: c.seq, reason: `two different checkpoints claim entry ${c.seq}` }, warnings };
    }
    bySeq.set(c.seq, c);
  }
  const checkpoints = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  const fail = (entries: number, seq: number, reason: string): VerifyReport => ({ ok: false, entries, checkpoints: checkpoints.length, problem: { seq, reason }, warnings });

  if (opts.key) {
    for (const c of checkpoints) {
      if (!verify(null, checkpointPayload(c), opts.key, Buffer.from(c.signature, "base64"))) {
        return fail(0, c.seq, `the checkpoint of entry ${c.seq} has a bad signature: it was forged or altered`);
      }
    }
  } else if (checkpoints.length > 0) {
    warnings.push("no audit key given: checkpoint signatures were not verified");
  }

  const verifier = new ChainVerifier(new Set(checkpoints.map((c) => c.seq)));
  let after = 0;
  for (;;) {
    const page = await ctx.store.auditEntries({ afterSeq: after, limit: PAGE });
    if (page.length === 0) break;
    for (const e of page) {
      const broken = verifier.push(e);
      if (broken) return fail(verifier.length, broken.seq, broken.reason);
    }
    after = (page.at(-1) as AuditEntry).seq;
    opts.progress?.(verifier.length);
  }
  for (const c of checkpoints) {
    const when = new Date(c.at).toISOString();
    if (c.seq > verifier.length) {
      return fail(verifier.length, verifier.length + 1, `the log ends at entry ${verifier.length}, but the checkpoint signed at ${when} covers ${c.seq} entries: entries ${verifier.length + 1} to ${c.seq} were deleted`);
    }
    if (verifier.hashAt(c.seq) !== c.hash) return fail(verifier.length, c.seq, `entry ${c.seq} is not the one the checkpoint signed at ${when}: the log was rewritten`);
  }
  const last = checkpoints.at(-1);
  if (verifier.length > 0 && (!last || last.seq < verifier.length)) {
    warnings.push(`entries ${(last?.seq ?? 0) + 1} to ${verifier.length} come after the last checkpoint: their truncation would not be detected until the next one`);
  }
  return { ok: true, entries: verifier.length, checkpoints: checkpoints.length, warnings };
}
