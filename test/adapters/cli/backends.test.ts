// The command line on each backend: the same commands give the same answers on a SQLite file and a PostgreSQL URL.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCli } from "../../../src/adapters/cli/main.js";
import type { Receipt } from "../../../src/app/ingest.js";
import { testBackends } from "../../storage/backends.js";
import { cliSandbox, SHIPPED } from "./cli-harness.js";

const BACKENDS = await testBackends();
const ADULT = "110105198506120034";

describe.each(BACKENDS)("the CLI on $name", (backend) => {
  it("activates, imports, signs off and checks; a second import of the file changes nothing", async () => {
    const sb = cliSandbox(undefined, await backend.location());
    expect((await sb.run(["rulebook", "activate", ...SHIPPED])).code).toBe(0);
    const first = (await sb.run(["import", "examples/records.ndjson", "--json"])).json<Receipt>();
    expect([first.accepted, first.rejected.map((r) => r.line)]).toEqual([9, [3]]);
    expect(await sb.approveAll()).toBeGreaterThan(0);
    const check = (await sb.run(["check", ADULT, "restrict-air-travel", "--json"])).json<{ applies: boolean; reasons: { code: string }[] }>();
    expect(check.applies).toBe(true);
    expect(check.reasons.map((r) => r.code)).toEqual(["list:dishonest-judgment-debtors"]);
    const again = (await sb.run(["import", "examples/records.ndjson", "--json"])).json<Receipt>();
    expect([again.accepted, again.duplicates]).toEqual([0, 9]);
    const verified = await sb.run(["audit", "verify", "--json"]);
    expect(verified.json<{ ok: boolean }>().ok).toBe(true);
  });
});

describe.skipIf(!BACKENDS.some((b) => b.name === "postgres"))("DATABASE_URL", () => {
  it("names the database when --db is not given", async () => {
    const url = await (BACKENDS.find((b) => b.name === "postgres") as (typeof BACKENDS)[number]).location();
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = url;
    try {
      let out = "";
      const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true, isTTY: false } };
      expect(await runCli(["rulebook", "activate", ...SHIPPED, "--json"], io)).toBe(0);
      out = "";
      expect(await runCli(["rulebook", "show", "--json"], io)).toBe(0);
      expect(out).toContain("national");
      // And the file named by --db still wins over it.
      const sb = cliSandbox();
      expect((await sb.run(["rulebook", "show"])).stderr).toMatch(/no rulebook is active/);
      expect(readFileSync(sb.db).length).toBeGreaterThan(0);
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
  });
});
