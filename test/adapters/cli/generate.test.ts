// `social-credit generate` as a user runs it: options, rates files, the summary, and the refusals.
import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { GenerateSummary } from "../../../src/app/generate.js";
import { SHIPPED, cliSandbox } from "./cli-harness.js";

async function activated(at?: string) {
  const sb = cliSandbox(at);
  const r = await sb.run(["rulebook", "activate", ...SHIPPED]);
  expect(r.code, r.stderr).toBe(0);
  return sb;
}

describe("generate", () => {
  it("refuses without an active rulebook, saying how to activate one", async () => {
    const sb = cliSandbox();
    const r = await sb.run(["generate", "--people", "10"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no rulebook is active.*`social-credit rulebook activate rulebooks\/\*\.yaml`/);
  });

  it("generates a city at --at and prints what it made; the subjects can then be checked", async () => {
    const sb = await activated();
    const r = await sb.run(["generate", "--people", "2000", "--enterprises", "100", "--seed", "7", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const s = r.json<GenerateSummary>();
    expect(s).toMatchObject({ seed: 7, people: 2000, enterprises: 100, years: 10, at: "2026-11-23T02:00:00.000Z" });
    expect(s.regions).toHaveLength(16);
    expect(s.receipt.rejected).toEqual([]);
    expect(s.receipt.accepted).toBeGreaterThan(0);

    const text = await sb.run(["generate", "--people", "2000", "--enterprises", "100", "--seed", "7"]);
    expect(text.code, text.stderr).toBe(0);
    // The same city again: every record a duplicate.
    expect(text.stdout).toMatch(/^generated 2,000 people \(\d+ under 18\) and 100 enterprises, seed 7, records over 10 years to 2026-11-23T02:00:00.000Z$/m);
    expect(text.stdout).toMatch(new RegExp(`import: accepted 0, duplicates ${s.receipt.accepted}, rejected 0`));
    expect(text.stdout).toMatch(/on dishonest-judgment-debtors: \d+ people/);
    expect(text.stdout).toMatch(/^took [\d.]+ s: generating [\d.]+ s, names [\d.]+ s, importing [\d.]+ s, summary [\d.]+ s$/m);
  });

  it("uses the documented fixed instant without --at, for the records and the audit log alike", async () => {
    const sb = await activated();
    const r = await sb.run(["generate", "--people", "300", "--json"], { at: null });
    expect(r.code, r.stderr).toBe(0);
    const s = r.json<GenerateSummary>();
    expect(s.at).toBe("2026-11-23T04:00:00.000Z");
    expect(s.enterprises).toBe(30);
    const audit = await sb.run(["audit", "verify", "--json"]);
    expect(audit.code, audit.stderr).toBe(0);
  });

  it("takes other jurisdictions and a rates file, in YAML or JSON", async () => {
    const sb = await activated();
    const yaml = sb.file("rates.yaml");
    writeFileSync(yaml, "traffic.drunk-driving: 0.02\ntax.arrears.exit-control: { person: 0.01, resolved: 0.5 }\n");
    const r = await sb.run(["generate", "--people", "2000", "--enterprises", "0", "--regions", "rongcheng,330106=0.5", "--rates", yaml, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const s = r.json<GenerateSummary>();
    expect(s.regions.map((p) => p.code)).toEqual(["371082", "330106"]);
    expect(s.records["traffic.drunk-driving"]).toBeGreaterThan(50);
    expect(s.records["tax.arrears.exit-control"]).toBeGreaterThan(50);
    expect(s.records["civic.blood-donation"]).toBeGreaterThan(0);
    expect(s.rates["traffic.drunk-driving"]?.person).toBe(0.02);
    expect(Object.keys(s.grades).length).toBeGreaterThan(1);

    const json = sb.file("rates.json");
    writeFileSync(json, JSON.stringify({ "civic.volunteering": { person: 0.3, everywhere: true } }));
    const j = await sb.run(["generate", "--people", "500", "--seed", "other", "--rates", json, "--json"]);
    expect(j.code, j.stderr).toBe(0);
    expect(j.json<GenerateSummary>().records["civic.volunteering"]).toBeGreaterThan(100);
  });

  it("refuses bad options and rates files, naming the problem", async () => {
    const sb = await activated();
    const bad = await sb.run(["generate", "--people", "many"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--people <n>' argument 'many' is invalid. must be a whole number/);
    expect((await sb.run(["generate", "--years", "0"])).stderr).toMatch(/years: must be a whole number from 1 to 50/);
    expect((await sb.run(["generate", "--years", "51"])).code).toBe(2);
    const region = await sb.run(["generate", "--regions", "atlantis"]);
    expect(region.code).toBe(1);
    expect(region.stderr).toMatch(/--regions: region "atlantis": not a jurisdiction/);
    const rates = sb.file("bad.yaml");
    writeFileSync(rates, "court.judgment.fulfilled: 0.1\n");
    const r = await sb.run(["generate", "--rates", rates]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.yaml: court\.judgment\.fulfilled: generated only as the follow-up/);
    expect((await sb.run(["generate", "--rates", sb.file("missing.yaml")])).stderr).toMatch(/cannot read .*missing\.yaml: ENOENT/);
    writeFileSync(rates, "a: [");
    expect((await sb.run(["generate", "--rates", rates])).stderr).toMatch(/not JSON or YAML/);
  });
});
