// API keys as an administrator and a key holder rely on them: scoped at creation, shown once, stored as a hash, revocable, audited.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { verifyAudit } from "../../src/app/audit.js";
import { fixedClock } from "../../src/app/clock.js";
import { AppContext } from "../../src/app/context.js";
import { UserError } from "../../src/app/errors.js";
import { authenticate, createKey, listKeys, revokeKey, type KeySpec } from "../../src/app/keys.js";
import { activateRulebooks } from "../../src/app/rulebooks.js";
import { openSqliteStore, type SqliteStore } from "../../src/storage/sqlite/sqlite-store.js";

const NOW = Date.parse("2026-11-23T10:00:00+08:00");
const SHIPPED = ["national", "beijing", "jiangsu", "hangzhou", "rongcheng"].map((n) => ({ file: `rulebooks/${n}.yaml`, text: readFileSync(`rulebooks/${n}.yaml`, "utf8") }));
const ADMIN = "cli:admin";
const ADULT = "110105198506120034";
/** A valid resident ID whose check character is X, typed in lower case. */
const ID_WITH_X = "11010519800501003x";

let store: SqliteStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

async function fresh(): Promise<AppContext> {
  store = openSqliteStore(":memory:");
  const ctx = new AppContext(store, fixedClock(NOW));
  await activateRulebooks(ctx, ADMIN, SHIPPED);
  return ctx;
}

async function refusal(p: Promise<unknown>): Promise<UserError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(UserError);
  return e as UserError;
}

describe("createKey refuses a role or scope that does not fit, naming the field", () => {
  const cases: { spec: KeySpec; field: string; says: RegExp }[] = [
    { spec: { role: "root" }, field: "role", says: /must be one of agency, enforcer, reviewer, auditor, admin, subject/ },
    { spec: { role: "agency" }, field: "source", says: /needs one/ },
    { spec: { role: "agency", source: "" }, field: "source", says: /needs one/ },
    { spec: { role: "agency", source: "secret-police" }, field: "source", says: /secret-police is not a source of the active rulebook \(sources: .*court/ },
    { spec: { role: "agency", source: "court", measures: ["restrict-air-travel"] }, field: "measures", says: /takes none/ },
    { spec: { role: "enforcer" }, field: "measures", says: /needs one/ },
    { spec: { role: "enforcer", measures: [] }, field: "measures", says: /needs one/ },
    { spec: { role: "enforcer", measures: ["restrict-air-travel", "restrict-breathing"] }, field: "measures", says: /unknown measure restrict-breathing/ },
    { spec: { role: "enforcer", measures: ["restrict-air-travel"], source: "court" }, field: "source", says: /takes none/ },
    { spec: { role: "subject" }, field: "subject", says: /needs one/ },
    { spec: { role: "subject", subject: "110105198506120035" }, field: "subject", says: /invalid subject ID: .*check character/ },
    { spec: { role: "subject", subject: ` ${ADULT}` }, field: "subject", says: /invalid subject ID/ },
    { spec: { role: "subject", subject: ADULT, measures: ["restrict-air-travel"] }, field: "measures", says: /takes none/ },
    ...(["reviewer", "auditor", "admin"] as const).flatMap((role) => [
      { spec: { role, source: "court" }, field: "source", says: /takes none/ },
      { spec: { role, measures: ["restrict-air-travel"] }, field: "measures", says: /takes none/ },
      { spec: { role, subject: ADULT }, field: "subject", says: /takes none/ },
    ]),
  ];

  for (const c of cases) {
    it(`${JSON.stringify(c.spec)} → ${c.field}`, async () => {
      const ctx = await fresh();
      const head = await ctx.store.auditHead();
      const e = await refusal(createKey(ctx, ADMIN, c.spec));
      expect(e.kind).toBe("invalid");
      expect(e.message.startsWith(`${c.field}: `)).toBe(true);
      expect(e.message).toMatch(c.says);
      // A refused key leaves nothing behind: no row, no audit entry.
      expect(await listKeys(ctx)).toEqual([]);
      expect(await ctx.store.auditHead()).toEqual(head);
    });
  }
});

describe("a created key authenticates as the identity it was made for", () => {
  it("agency, enforcer, subject, reviewer, auditor and admin keys each carry their role and scope", async () => {
    const ctx = await fresh();
    const agency = await createKey(ctx, ADMIN, { role: "agency", source: "court", label: "Dongcheng court" });
    expect(await authenticate(ctx, agency.key)).toEqual({ role: "agency", keyId: agency.id, source: "court" });

    // Measures are kept as a set: duplicates dropped, order fixed.
    const enforcer = await createKey(ctx, ADMIN, { role: "enforcer", measures: ["restrict-high-speed-rail", "restrict-air-travel", "restrict-air-travel"] });
    expect(await authenticate(ctx, enforcer.key)).toEqual({ role: "enforcer", keyId: enforcer.id, measures: ["restrict-air-travel", "restrict-high-speed-rail"] });

    // The subject is kept in its normal form, so it matches the IDs records are stored under.
    const subject = await createKey(ctx, ADMIN, { role: "subject", subject: ID_WITH_X });
    expect(await authenticate(ctx, subject.key)).toEqual({ role: "subject", keyId: subject.id, subject: ID_WITH_X.toUpperCase() });

    for (const role of ["reviewer", "auditor", "admin"] as const) {
      const k = await createKey(ctx, ADMIN, { role });
      expect(await authenticate(ctx, k.key)).toEqual({ role, keyId: k.id });
    }
    const ids = [agency.id, enforcer.id, subject.id];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("does not authenticate a wrong secret, a malformed key, or an unknown id", async () => {
    const ctx = await fresh();
    const { id, key } = await createKey(ctx, ADMIN, { role: "reviewer" });
    const secret = key.slice(`sck_${id}_`.length);
    expect(key).toBe(`sck_${id}_${secret}`);
    const otherSecret = (secret[0] === "A" ? "B" : "A") + secret.slice(1);
    const otherId = (id[0] === "a" ? "b" : "a") + id.slice(1);

    const refused = [
      `sck_${id}_${otherSecret}`,
      `sck_${otherId}_${secret}`,
      // An id of digits only (one in about two thousand) has no upper case to try.
      ...(id.toUpperCase() !== id ? [`sck_${id.toUpperCase()}_${secret}`] : []),
      `SCK_${id}_${secret}`,
      `${key}A`,
      key.slice(0, -1),
      ` ${key}`,
      `${key}\n`,
      `sck_${id}`,
      "",
    ];
    for (const k of refused) expect(await authenticate(ctx, k), JSON.stringify(k)).toBeUndefined();
    expect(await authenticate(ctx, key)).toBeDefined();
  });

  it("never stores the secret: the row holds a hash that differs from it, and no byte of the database contains it", async () => {
    const ctx = await fresh();
    const { id, key } = await createKey(ctx, ADMIN, { role: "enforcer", measures: ["restrict-air-travel"] });
    const secret = key.slice(`sck_${id}_`.length);
    const db = (ctx.store as SqliteStore).db;
    const row = db.prepare("SELECT * FROM api_keys WHERE id = ?").get(id) as Record<string, unknown>;
    expect(row.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.secret_hash).not.toBe(secret);
    for (const value of Object.values(row)) expect(String(value)).not.toContain(secret);
    const image = db.serialize();
    // The image does hold the key's row: the search below would find the secret if it were there.
    expect(image.includes(String(row.secret_hash))).toBe(true);
    expect(image.includes(secret)).toBe(false);
    expect(image.includes(key)).toBe(false);

    const listed = await listKeys(ctx);
    expect(listed).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(String(row.secret_hash));
    expect(listed[0]).not.toHaveProperty("secretHash");
  });
});

describe("revokeKey", () => {
  it("stops the key at once, leaves other keys working, and shows the key as revoked", async () => {
    const ctx = await fresh();
    const a = await createKey(ctx, ADMIN, { role: "agency", source: "tax" });
    const b = await createKey(ctx, ADMIN, { role: "agency", source: "tax" });
    await revokeKey(ctx, ADMIN, a.id);
    expect(await authenticate(ctx, a.key)).toBeUndefined();
    expect(await authenticate(ctx, b.key)).toEqual({ role: "agency", keyId: b.id, source: "tax" });
    const listed = await listKeys(ctx);
    expect(listed.find((k) => k.id === a.id)?.revokedAt).toBe(NOW);
    expect(listed.find((k) => k.id === b.id)?.revokedAt).toBeNull();
  });

  it("refuses to revoke a key twice (conflict) or a key that does not exist (not found), writing nothing", async () => {
    const ctx = await fresh();
    const { id } = await createKey(ctx, ADMIN, { role: "auditor" });
    await revokeKey(ctx, ADMIN, id);
    const head = await ctx.store.auditHead();

    const twice = await refusal(revokeKey(ctx, ADMIN, id));
    expect(twice.kind).toBe("conflict");
    expect(twice.message).toContain(id);
    const unknown = await refusal(revokeKey(ctx, ADMIN, "0123456789abcdef"));
    expect(unknown.kind).toBe("not-found");
    expect(unknown.message).toContain("0123456789abcdef");
    expect(await ctx.store.auditHead()).toEqual(head);
  });
});

describe("key creation and revocation are audited", () => {
  it("records who created and revoked which key, with its scope and the subject it concerns, but no secret or hash", async () => {
    const ctx = await fresh();
    const { id, key, record } = await createKey(ctx, ADMIN, { role: "subject", subject: ADULT, label: "citizen app" });
    await revokeKey(ctx, "cli:other-admin", id);

    const created = await ctx.store.auditEntries({ action: "key.created", limit: 10 });
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ actor: ADMIN, subject: ADULT, at: NOW, detail: { key: { id, role: "subject", subject: ADULT, label: "citizen app", createdBy: ADMIN } } });
    expect(JSON.stringify(created[0])).not.toContain(record.secretHash);
    expect(JSON.stringify(created[0])).not.toContain(key.slice(`sck_${id}_`.length));

    const revoked = await ctx.store.auditEntries({ action: "key.revoked", limit: 10 });
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({ actor: "cli:other-admin", subject: ADULT, at: NOW, detail: { key: id } });

    // The subject sees both in the entries filed under their ID.
    expect((await ctx.store.auditEntries({ subject: ADULT, limit: 10 })).map((e) => e.action)).toEqual(["key.created", "key.revoked"]);
    expect((await verifyAudit(ctx)).ok).toBe(true);
  });
});
