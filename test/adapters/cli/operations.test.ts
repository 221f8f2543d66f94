// The operations commands as an operator runs them: API keys (create, list, revoke) and the audit log (keygen, checkpoint, verify).
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { VerifyReport } from "../../../src/app/audit.js";
import type { Checkpoint } from "../../../src/core/audit.js";
import { SHIPPED, cliSandbox } from "./cli-harness.js";

const ADULT = "110105198506120034";
const KEY_SHAPE = /^sck_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

// The default signing key may come from the environment; these tests must use only the files they make.
let savedKeyEnv: string | undefined;
beforeEach(() => {
  savedKeyEnv = process.env.SOCIAL_CREDIT_AUDIT_KEY;
  delete process.env.SOCIAL_CREDIT_AUDIT_KEY;
});
afterEach(() => {
  if (savedKeyEnv !== undefined) process.env.SOCIAL_CREDIT_AUDIT_KEY = savedKeyEnv;
});

async function activated() {
  const sb = cliSandbox();
  const r = await sb.run(["rulebook", "activate", ...SHIPPED]);
  expect(r.code, r.stderr).toBe(0);
  return sb;
}

/** A sandbox whose log holds an import, a check and a status read; the records file is copied so its rejects file stays in the sandbox. */
async function withActivity() {
  const sb = await activated();
  const file = sb.file("records.ndjson");
  copyFileSync("examples/records.ndjson", file);
  for (const args of [["import", file], ["check", ADULT, "restrict-air-travel"], ["status", ADULT]]) {
    const r = await sb.run(args);
    expect(r.code, r.stderr).toBe(0);
  }
  return sb;
}

/** Edits the database file directly, as someone with access to the disk could, bypassing the application. */
function tamper<T>(dbPath: string, edit: (db: Database.Database) => T): T {
  const db = new Database(dbPath);
  try {
    return edit(db);
  } finally {
    db.close();
  }
}

const seqOfNth = (dbPath: string, action: string, n: number) =>
  tamper(dbPath, (db) => (db.prepare("SELECT seq FROM audit_log WHERE action = ? ORDER BY seq LIMIT 1 OFFSET ?").get(action, n) as { seq: number }).seq);
const headSeq = (dbPath: string) => tamper(dbPath, (db) => (db.prepare("SELECT max(seq) AS seq FROM audit_log").get() as { seq: number }).seq);

describe("keys", () => {
  it("create --json prints exactly {id, key}, and the key has the documented shape", async () => {
    const sb = await activated();
    const r = await sb.run(["keys", "create", "--role", "enforcer", "--measures", "restrict-air-travel,restrict-exit", "--label", "Air China", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json<Record<string, unknown>>();
    expect(Object.keys(out).sort()).toEqual(["id", "key"]);
    expect(out.key).toMatch(KEY_SHAPE);
    expect(KEY_SHAPE.exec(out.key as string)?.[1]).toBe(out.id);
  });

  it("list shows each key's role, scope, state and label, and never the key", async () => {
    const sb = await activated();
    const make = async (...args: string[]) => {
      const r = await sb.run(["keys", "create", ...args, "--json"]);
      expect(r.code, r.stderr).toBe(0);
      return r.json<{ id: string; key: string }>();
    };
    const enforcer = await make("--role", "enforcer", "--measures", "restrict-exit,restrict-air-travel", "--label", "Air China");
    const agency = await make("--role", "agency", "--source", "court");
    const subject = await make("--role", "subject", "--subject", ADULT);
    const auditor = await make("--role", "auditor");
    const all = [enforcer, agency, subject, auditor];

    const text = await sb.run(["keys", "list"]);
    expect(text.code).toBe(0);
    const lineOf = (id: string) => text.stdout.split("\n").find((l) => l.startsWith(id)) ?? "";
    expect(lineOf(enforcer.id)).toMatch(/enforcer\s+restrict-air-travel,restrict-exit\s+active\s+Air China/);
    expect(lineOf(agency.id)).toMatch(/agency\s+court\s+active/);
    expect(lineOf(subject.id)).toMatch(new RegExp(`subject\\s+${ADULT}\\s+active`));
    expect(lineOf(auditor.id)).toMatch(/auditor\s+active/);

    const json = await sb.run(["keys", "list", "--json"]);
    expect(json.json<{ id: string; role: string }[]>().map((k) => [k.id, k.role])).toEqual(expect.arrayContaining(all.map((k, i) => [k.id, ["enforcer", "agency", "subject", "auditor"][i]])));
    expect(json.stdout).not.toMatch(/secret/i);
    for (const { key } of all) {
      const secret = KEY_SHAPE.exec(key)?.[2] as string;
      expect(text.stdout).not.toContain(secret);
      expect(json.stdout).not.toContain(secret);
    }
  });

  it("revoke marks the key revoked in the list, leaves the others active, and refuses a second revocation", async () => {
    const sb = await activated();
    const a = (await sb.run(["keys", "create", "--role", "reviewer", "--json"])).json<{ id: string }>();
    const b = (await sb.run(["keys", "create", "--role", "reviewer", "--json"])).json<{ id: string }>();
    const r = await sb.run(["keys", "revoke", a.id]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`revoked ${a.id}\n`);

    const list = (await sb.run(["keys", "list"])).stdout.split("\n");
    expect(list.find((l) => l.startsWith(a.id))).toMatch(/reviewer\s+revoked 2026-11-23T02:00:00\.000Z/);
    expect(list.find((l) => l.startsWith(b.id))).toMatch(/reviewer\s+active/);

    const again = await sb.run(["keys", "revoke", a.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`key ${a.id} was already revoked`));
    const unknown = await sb.run(["keys", "revoke", "0123456789abcdef"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no key 0123456789abcdef/);
  });

  it("create refuses a missing or foreign scope with exit 1 naming the field, and an unknown role as bad usage", async () => {
    const sb = await activated();
    const noSource = await sb.run(["keys", "create", "--role", "agency", "--json"]);
    expect(noSource.code).toBe(1);
    expect(noSource.stderr).toMatch(/^error: source: /);
    expect(noSource.stdout).toBe("");
    const badMeasure = await sb.run(["keys", "create", "--role", "enforcer", "--measures", "restrict-air-travel,restrict-voting"]);
    expect(badMeasure.code).toBe(1);
    expect(badMeasure.stderr).toMatch(/^error: measures: unknown measure restrict-voting/);
    expect((await sb.run(["keys", "create", "--role", "root"])).code).toBe(2);
    expect((await sb.run(["keys", "list"])).stdout).toBe("no keys\n");
  });
});

describe("audit keygen", () => {
  it("writes the private key readable by its owner only, prints the public key, and never overwrites a key", async () => {
    const sb = cliSandbox();
    const path = sb.file("signing.pem");
    const r = await sb.run(["audit", "keygen", "--out", path]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const key = readFileSync(path, "utf8");
    expect(key).toMatch(/^-----BEGIN PRIVATE KEY-----/);

    const again = await sb.run(["audit", "keygen", "--out", path]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists; refusing to overwrite/);
    expect(readFileSync(path, "utf8")).toBe(key);
  });
});

describe("audit checkpoint and verify", () => {
  it("verify exits 0 on an intact, checkpointed log, and 1 naming the entry after one row was edited on disk", async () => {
    const sb = await withActivity();
    const keygen = await sb.run(["audit", "keygen", "--out", `${sb.db}.audit-key.pem`]);
    expect(keygen.code).toBe(0);
    const head = headSeq(sb.db);

    const cp = await sb.run(["audit", "checkpoint"]);
    expect(cp.code, cp.stderr).toBe(0);
    expect(cp.stdout).toMatch(new RegExp(`^signed checkpoint at entry ${head} \\([0-9a-f]{64}\\)\n$`));
    expect((await sb.run(["audit", "checkpoint"])).stdout).toBe("nothing to sign: the last checkpoint covers the whole log\n");

    const ok = await sb.run(["audit", "verify"]);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toBe(`audit log intact: ${head} entries, 1 signed checkpoint\n`);

    const edited = seqOfNth(sb.db, "record.accepted", 0);
    expect(edited).toBeLessThan(head);
    tamper(sb.db, (db) => db.prepare("UPDATE audit_log SET detail = ? WHERE seq = ?").run(JSON.stringify({ record: "court:nothing-to-see" }), edited));

    const broken = await sb.run(["audit", "verify"]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(new RegExp(`^AUDIT LOG BROKEN at entry ${edited}: entry ${edited} was edited`));
    const json = await sb.run(["audit", "verify", "--json"]);
    expect(json.code).toBe(1);
    expect(json.json<VerifyReport>()).toMatchObject({ ok: false, entries: edited - 1, problem: { seq: edited } });
  });

  it("verify --checkpoints FILE detects truncation from an exported checkpoint after the checkpoint table was emptied", async () => {
    const sb = await withActivity();
    const keyPath = sb.file("signing.pem");
    const publicPath = sb.file("signing.pub");
    writeFileSync(publicPath, (await sb.run(["audit", "keygen", "--out", keyPath])).stdout);
    const cp = (await sb.run(["audit", "checkpoint", "--key", keyPath, "--json"])).json<Checkpoint>();
    // Kept off the database, in the two documented forms: JSON lines (as `serve --checkpoint-file` appends them)
    // and the body of GET /v1/audit/checkpoints (with `at` as an ISO 8601 string).
    const lines = sb.file("checkpoints.ndjson");
    writeFileSync(lines, JSON.stringify(cp) + "\n");
    const listing = sb.file("checkpoints.json");
    writeFileSync(listing, JSON.stringify({ checkpoints: [{ ...cp, at: new Date(cp.at).toISOString() }] }));

    const keep = seqOfNth(sb.db, "record.accepted", 0);
    expect(keep).toBeLessThan(cp.seq);
    tamper(sb.db, (db) => {
      db.prepare("DELETE FROM audit_log WHERE seq > ?").run(keep);
      db.prepare("DELETE FROM audit_checkpoints").run();
    });

    // With the table emptied, the shortened log is a consistent chain: only the copy kept elsewhere can tell.
    const alone = await sb.run(["audit", "verify", "--key", publicPath]);
    expect(alone.code, alone.stdout).toBe(0);
    for (const file of [lines, listing]) {
      const r = await sb.run(["audit", "verify", "--key", publicPath, "--checkpoints", file]);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`^AUDIT LOG BROKEN at entry ${keep + 1}: .*entries ${keep + 1} to ${cp.seq} were deleted`));
    }
  });

  it("verify checks signatures with the key given, refusing another key pair's, and warns when it has no key", async () => {
    const sb = await withActivity();
    const keyPath = sb.file("signing.pem");
    const publicPath = sb.file("signing.pub");
    writeFileSync(publicPath, (await sb.run(["audit", "keygen", "--out", keyPath])).stdout);
    const otherPublic = sb.file("other.pub");
    writeFileSync(otherPublic, (await sb.run(["audit", "keygen", "--out", sb.file("other.pem")])).stdout);
    expect((await sb.run(["audit", "checkpoint", "--key", keyPath])).code).toBe(0);
    expect(existsSync(`${sb.db}.audit-key.pem`)).toBe(false);

    const right = await sb.run(["audit", "verify", "--key", publicPath]);
    expect(right.code).toBe(0);
    expect(right.stdout).not.toMatch(/warning/);
    // The private key serves as well: verification derives the public key from it.
    expect((await sb.run(["audit", "verify", "--key", keyPath])).code).toBe(0);

    const wrong = await sb.run(["audit", "verify", "--key", otherPublic]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/^AUDIT LOG BROKEN at entry \d+: the checkpoint of entry \d+ has a bad signature/);

    const none = await sb.run(["audit", "verify"]);
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/^warning: no audit key given: checkpoint signatures were not verified$/m);
  });

  it("verify warns about entries written after the last checkpoint", async () => {
    const sb = await withActivity();
    expect((await sb.run(["audit", "keygen", "--out", `${sb.db}.audit-key.pem`])).code).toBe(0);
    expect((await sb.run(["audit", "checkpoint"])).code).toBe(0);
    const covered = headSeq(sb.db);
    expect((await sb.run(["status", ADULT])).code).toBe(0);
    const r = await sb.run(["audit", "verify"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`warning: entries ${covered + 1} to ${covered + 1} come after the last checkpoint`);
  });

  // Both of the following are refusals of bad input; the CLI promises exit 1 with the reason on stderr, not a crash.
  it("verify --key with a file that is not a key exits 1 naming the file", async () => {
    const sb = await withActivity();
    const junk = sb.file("not-a-key.pem");
    writeFileSync(junk, "this is not a PEM key\n");
    const r = await sb.run(["audit", "verify", "--key", junk]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(junk);
  });

  it("verify --checkpoints with a file that is not JSON exits 1 naming the file", async () => {
    const sb = await withActivity();
    const junk = sb.file("checkpoints.txt");
    writeFileSync(junk, "{ seq: 1,\n  oops\n");
    const r = await sb.run(["audit", "verify", "--checkpoints", junk]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(junk);
  });
});
