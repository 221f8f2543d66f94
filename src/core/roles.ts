// Who may do what: the roles of API keys and the scope each is bound to. Pure rules, applied by every adapter.

export const ROLES = ["agency", "enforcer", "reviewer", "auditor", "admin", "subject"] as const;
export type Role = (typeof ROLES)[number];

/** An authenticated caller, or the public (no key). */
export type Identity =
  | { role: "public" }
  | { role: "agency"; keyId: string; source: string }
  | { role: "enforcer"; keyId: string; measures: readonly string[] }
  | { role: "subject"; keyId: string; subject: string }
  | { role: "reviewer"; keyId: string }
  | { role: "auditor"; keyId: string }
  | { role: "admin"; keyId: string };

/** "an agency", "a reviewer": a role as a message names it. */
export function aRole(role: string): string {
  return `${/^[aeiou]/.test(role) ? "an" : "a"} ${role}`;
}

// Identities are kept while their key is remembered (a second or so, see AppContext.identities), and a key's requests
// use its name several times each: made once per identity, an old string whose hash a Map lookup need not compute.
const ACTORS = new WeakMap<Identity, string>();

/** The name an identity goes by in the audit log. */
export function actorOf(identity: Identity): string {
  if (identity.role === "public") return "public";
  let actor = ACTORS.get(identity);
  if (actor === undefined) ACTORS.set(identity, (actor = `key:${identity.keyId}`));
  return actor;
}

/** Whether the identity may read a subject's file (status, explanation, records, access log). */
export function mayReadFile(identity: Identity, subject: string): boolean {
  return identity.role === "reviewer" || (identity.role === "subject" && identity.subject === subject);
}

/** Whether the identity may see a subject's records: all of them, only its own source's, or none. */
export function recordsVisibleTo(identity: Identity, subject: string): "all" | { source: string } | "none" {
  if (mayReadFile(identity, subject)) return "all";
  if (identity.role === "agency") return { source: identity.source };
  return "none";
}

/** Whether the identity may check a measure. */
export function mayCheck(identity: Identity, measure: string): boolean {
  return identity.role === "enforcer" && identity.measures.includes(measure);
}

/** The one source the identity may submit records for, if any. */
export function submittingSource(identity: Identity): string | undefined {
  return identity.role === "agency" ? identity.source : undefined;
}

export const mayReadAudit = (identity: Identity): boolean => identity.role === "auditor";
export const mayManage = (identity: Identity): boolean => identity.role === "admin";
