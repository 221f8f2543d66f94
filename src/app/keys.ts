// API keys: created with a role and scope, shown once, stored as a hash, revoked by id; and authenticating a presented key.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { aRole, ROLES, type Identity, type Role } from "../core/roles.js";
import { sha256 } from "../core/sha256.js";
import { parseSubjectId } from "../core/subject-id.js";
import type { ApiKeyRecord } from "../storage/store.js";
import { REREAD_MS, type AppContext } from "./context.js";
import { UserError } from "./errors.js";
import { newDecisionId } from "./statuses.js";

/** What a new key may do. */
export interface KeySpec {
  role: string;
  source?: string;
  measures?: readonly string[];
  subject?: string;
  label?: string;
}

const PREFIX = "sck";
// The secret is 256 random bits: a plain hash is enough to store it (no password stretching needed) and fast to check per request.
const hashSecret = (secret: string): string => sha256(secret);

/** Splits a presented key "sck_<id>_<secret>" into its parts. */
function splitKey(key: string): { id: string; secret: string } | undefined {
  const m = /^sck_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/.exec(key);
  return m ? { id: m[1] as string, secret: m[2] as string } : undefined;
}

/** Checks a key's scope against its role and the active rulebook, then stores it; the key itself is returned once and never again. */
export async function createKey(ctx: AppContext, actor: string, spec: KeySpec): Promise<{ id: string; key: string; record: ApiKeyRecord }> {
  const role = spec.role as Role;
  if (!ROLES.includes(role)) throw new UserError(`role: must be one of ${ROLES.join(", ")}, got ${spec.role}`);
  const scope = { source: spec.source, measures: spec.measures, subject: spec.subject };
  const needs: Record<Role, keyof typeof scope | undefined> = { agency: "source", enforcer: "measures", subject: "subject", reviewer: undefined, auditor: undefined, admin: undefined };
  for (const field of ["source", "measures", "subject"] as const) {
    if (needs[role] === field && (scope[field] === undefined || scope[field]?.length === 0)) throw new UserError(`${field}: ${aRole(role)} key needs one`);
    if (needs[role] !== field && scope[field] !== undefined) throw new UserError(`${field}: ${aRole(role)} key takes none (only ${needs[role] ?? "no scope"})`);
  }
  const ruleset = await ctx.requireRuleset();
  if (spec.source !== undefined && !ruleset.grants.has(spec.source)) {
    throw new UserError(`source: ${spec.source} is not a source of the active rulebook (sources: ${[...ruleset.grants.keys()].sort().join(", ")})`);
  }
  for (const m of spec.measures ?? []) {
    if (!ruleset.measures.has(m)) throw new UserError(`measures: unknown measure ${m}; the active rulebook has: ${[...ruleset.measures.keys()].sort().join(", ")}`);
  }
  let subject: string | null = null;
  if (spec.subject !== undefined) {
    const parsed = parseSubjectId(spec.subject);
    if (!parsed.ok) throw new UserError(`subject: invalid subject ID: ${parsed.reason}`);
    subject = parsed.subject.id;
  }
  const id = randomBytes(8).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  const at = ctx.clock.now();
  const record: ApiKeyRecord = {
    id,
    role,
    source: spec.source ?? null,
    measures: spec.measures ? [...new Set(spec.measures)].sort() : null,
    subject,
    label: spec.label ?? null,
    secretHash: hashSecret(secret),
    createdAt: at,
    createdBy: actor,
    revokedAt: null,
  };
  await ctx.store.transaction(async (tx) => {
    await tx.putKey(record);
    const { secretHash: _h, ...shown } = record;
    await tx.appendAudit([{ actor, action: "key.created", subject, decisionId: newDecisionId(), at, detail: { key: shown } }]);
  });
  return { id, key: `${PREFIX}_${id}_${secret}`, record };
}

/** Revokes a key at once: its next request is refused. */
export async function revokeKey(ctx: AppContext, actor: string, id: string): Promise<void> {
  const at = ctx.clock.now();
  await ctx.store.transaction(async (tx) => {
    const key = await tx.getKey(id);
    if (!key) throw new UserError(`no key ${id}`, [], "not-found");
    if (key.revokedAt !== null) throw new UserError(`key ${id} was already revoked`, [], "conflict");
    await tx.revokeKey(id, at);
    await tx.appendAudit([{ actor, action: "key.revoked", subject: key.subject, decisionId: newDecisionId(), at, detail: { key: id } }]);
  });
  ctx.forget();
}

/** Every key, revoked ones included, without their hashes. */
export async function listKeys(ctx: AppContext): Promise<Omit<ApiKeyRecord, "secretHash">[]> {
  return (await ctx.store.listKeys()).map(({ secretHash: _h, ...k }) => k);
}

// Bounds the identities remembered, whatever keys are presented.
const MAX_REMEMBERED = 10_000;

/** The identity of a key that authenticated lately, without a read; undefined when it has to be looked up (authenticate). */
export function rememberedIdentity(ctx: AppContext, presented: string): Identity | undefined {
  const known = ctx.identities.get(presented);
  return known && performance.now() - known.readAt < REREAD_MS ? known.identity : undefined;
}

/** The identity of a presented key; undefined when it is malformed, unknown, revoked or wrong. */
export async function authenticate(ctx: AppContext, presented: string): Promise<Identity | undefined> {
  const known = rememberedIdentity(ctx, presented);
  if (known) return known;
  const now = performance.now();
  const parts = splitKey(presented);
  if (!parts) return undefined;
  const key = await ctx.store.getKey(parts.id);
  if (!key || key.revokedAt !== null) return undefined;
  const given = Buffer.from(hashSecret(parts.secret), "hex");
  if (!timingSafeEqual(given, Buffer.from(key.secretHash, "hex"))) return undefined;
  const identity = identityOf(key);
  // Only keys that authenticated are remembered, so wrong guesses cannot fill the map.
  if (ctx.identities.size >= MAX_REMEMBERED) ctx.identities.clear();
  ctx.identities.set(presented, { identity, readAt: now });
  return identity;
}

/** The identity a stored key grants. */
export function identityOf(key: ApiKeyRecord): Identity {
  switch (key.role) {
    case "agency":
      return { role: "agency", keyId: key.id, source: key.source as string };
    case "enforcer":
      return { role: "enforcer", keyId: key.id, measures: key.measures ?? [] };
    case "subject":
      return { role: "subject", keyId: key.id, subject: key.subject as string };
    case "reviewer":
    case "auditor":
    case "admin":
      return { role: key.role, keyId: key.id };
  }
}
