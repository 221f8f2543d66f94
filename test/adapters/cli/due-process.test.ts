// Due process at a credit office's terminal: sign-offs, objections, restoration, notices, the subject's file, publication and delivery.
import { createServer } from "node:http";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CheckDecision } from "../../../src/core/check.js";
import { SHIPPED, cliSandbox } from "./cli-harness.js";

const ADULT = "110105198506120034";
const RECORD = "court:(2026)京0105执1234号";

async function withExamples() {
  const sb = cliSandbox();
  expect((await sb.run(["rulebook", "activate", ...SHIPPED])).code).toBe(0);
  expect((await sb.run(["import", "examples/records.ndjson"])).code).toBe(0);
  return sb;
}

describe("due process on the command line", () => {
  it("signs off, objects and dismisses, refuses an early restoration with its date and grants it a year on", async () => {
    const sb = await withExamples();
    expect(await sb.approveAll()).toBe(3);
    const filed = await sb.run(["objections", "file", ADULT, RECORD, "--statement", "the amount is wrong", "--json"]);
    expect(filed.code, filed.stderr).toBe(0);
    const id = filed.json<{ objection: { id: string } }>().objection.id;
    expect((await sb.run(["objections", "list"])).stdout).toContain(id);
    const dismissed = await sb.run(["objections", "dismiss", id]);
    expect(dismissed.code).toBe(2); // --reasons is required
    expect((await sb.run(["objections", "dismiss", id, "--reasons", "the amount matches the judgment"])).stdout).toMatch(/dismissed/);
    expect((await sb.run(["check", ADULT, "restrict-air-travel", "--json"])).json<CheckDecision>().applies).toBe(true);

    const early = await sb.run(["restorations", "request", ADULT, "dishonest-judgment-debtors", "--commitment", "I will pay"]);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/minimum period of P1Y on the list is served on 2027-11-23.*it may be asked from 2027-11-23/);
    const later = "2027-11-24T10:00:00+08:00";
    const asked = await sb.run(["restorations", "request", ADULT, "dishonest-judgment-debtors", "--commitment", "I will pay", "--json"], { at: later });
    expect(asked.code, asked.stderr).toBe(0);
    const rid = asked.json<{ restoration: { id: string } }>().restoration.id;
    expect((await sb.run(["restorations", "deny", rid], { at: later })).code).toBe(1);
    expect((await sb.run(["restorations", "grant", rid], { at: later })).code).toBe(0);
    expect((await sb.run(["check", ADULT, "restrict-air-travel", "--json"], { at: later })).json<CheckDecision>().applies).toBe(false);
    const notices = (await sb.run(["notices", ADULT], { at: later })).stdout;
    expect(notices).toMatch(/objection-dismissed: Your objection to record court:\(2026\)京0105执1234号 was dismissed/);
    expect(notices).toMatch(/restoration-granted/);
    expect(notices).toMatch(/list-exit: You are no longer on the List of dishonest judgment debtors/);
  });

  it("writes the subject's whole file, publishes masked snapshots, and delivers notices to a webhook", async () => {
    const sb = await withExamples();
    await sb.approveAll();
    await sb.run(["objections", "file", ADULT, RECORD, "--statement", "not mine"]);

    const out = sb.file("file.json");
    expect((await sb.run(["file", ADULT, "--out", out])).code).toBe(0);
    const file = JSON.parse(readFileSync(out, "utf8")) as { subject: string; records: { id: string; history: unknown[] }[]; notices: { kind: string }[]; objections: unknown[]; signOffs: unknown[]; accessLog: { action: string }[]; status: { lists: unknown[] } };
    expect(file.subject).toBe(ADULT);
    expect(file.records).toEqual([expect.objectContaining({ id: RECORD, history: [expect.objectContaining({ op: "submit" })] })]);
    expect(file.notices.map((n) => n.kind)).toEqual(expect.arrayContaining(["sign-off-requested", "list-entry", "measure-start", "objection-received"]));
    expect(file.objections).toHaveLength(1);
    expect(file.signOffs).toHaveLength(1);
    expect(file.accessLog.map((e) => e.action)).toEqual(expect.arrayContaining(["record.accepted", "sign-off.approve", "objection.file"]));
    expect(file.status.lists).toHaveLength(1);

    const dir = sb.file("open-data");
    const published = await sb.run(["publish", "--out", dir]);
    expect(published.code, published.stderr).toBe(0);
    const day = join(dir, "2026-11-23");
    expect(readdirSync(day).sort()).toEqual(
      ["beijing-serious-dishonest-enterprises", "dishonest-judgment-debtors", "hangzhou-trustworthy-volunteers"].flatMap((l) => [`${l}.csv`, `${l}.html`, `${l}.json`]).concat(["index.html", "statistics.json"]).sort(),
    );
    const csv = readFileSync(join(day, "dishonest-judgment-debtors.csv"), "utf8");
    expect(csv).toMatch(/^name,id,since,until,publishedUntil\n,1101\*{10}0034,/);
    expect(readFileSync(join(day, "beijing-serious-dishonest-enterprises.csv"), "utf8")).toContain("91110105MA01ABCD26");
    for (const f of readdirSync(day)) expect(readFileSync(join(day, f), "utf8"), f).not.toMatch(/\d{17}[\dX]/);

    const got: number[] = [];
    let up = false;
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        if (up) got.push((JSON.parse(body) as { id: number }).id);
        res.writeHead(up ? 200 : 500).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const port = (receiver.address() as { port: number }).port;
    try {
      const down = await sb.run(["deliver", "--webhook", `http://127.0.0.1:${port}/n`]);
      expect(down.code).toBe(1);
      expect(down.stdout).toMatch(/delivered 0; the receiver refused the next notice/);
      up = true;
      const ok = await sb.run(["deliver", "--webhook", `http://127.0.0.1:${port}/n`], { at: "2026-11-23T11:00:00+08:00" });
      expect(ok.code, ok.stdout).toBe(0);
      expect(ok.stdout).toMatch(/delivered \d+; 0 waiting/);
      expect(got.length).toBeGreaterThan(5);
      expect(new Set(got).size).toBe(got.length);
    } finally {
      await new Promise((r) => receiver.close(r));
    }
  });
});
