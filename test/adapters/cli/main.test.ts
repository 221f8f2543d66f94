// The command line as an operator uses it: activate, import, status, explain, check, lint, rescore, sweep.
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { CheckDecision } from "../../../src/core/check.js";
import type { Status } from "../../../src/core/evaluate.js";
import type { Receipt } from "../../../src/app/ingest.js";
import { THREAD_MIN_BYTES, threadWorthIt } from "../../../src/adapters/files/reader-thread.js";
import { residentIdCheckChar } from "../../../src/core/subject-id.js";
import { SHIPPED, cliSandbox, read } from "./cli-harness.js";

const ADULT = "110105198506120034";
const CHILD = "110108201603150044";
const BAD_CHECKSUM = "110105198506120035";
const CASE = "(2026)京0105执1234号";

function judgment(externalId: string, subject: string, caseNumber: string, extra: Record<string, unknown> = {}) {
  return {
    source: "court",
    externalId,
    subject,
    category: "court.judgment.unfulfilled",
    occurredAt: "2026-03-02",
    attributes: { caseNumber, ground: 1 },
    legalRef: "SPC Fa Shi [2017] No. 7, Art. 1(1)",
    ...extra,
  };
}

const fulfilled = {
  source: "court",
  externalId: `${CASE}-fulfilled`,
  subject: ADULT,
  category: "court.judgment.fulfilled",
  occurredAt: "2026-10-09",
  attributes: { caseNumber: CASE },
  legalRef: "SPC Fa Shi [2017] No. 7, Art. 10(1)",
};

const ndjson = (...lines: unknown[]) => lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n") + "\n";

async function activated() {
  const sb = cliSandbox();
  const r = await sb.run(["rulebook", "activate", ...SHIPPED]);
  expect(r.code, r.stderr).toBe(0);
  return sb;
}

/** A status as printed, less the decision id that differs with every audited read. */
const withoutDecision = (r: { json<T>(): T }) => {
  const { decisionId: _d, ...rest } = r.json<Status & { decisionId: string }>();
  return rest;
};

describe("the first-use tour", () => {
  it("lists a debtor, answers checks with list and legal basis, spares minors, rejects a bad checksum by line, is idempotent, and ends the measure on fulfilment", async () => {
    const sb = await activated();
    const file = sb.file("court.ndjson");
    writeFileSync(file, ndjson(judgment(CASE, ADULT, CASE), judgment("(2026)京0108执0077号", CHILD, "(2026)京0108执0077号"), judgment("(2026)京0105执1299号", BAD_CHECKSUM, "(2026)京0105执1299号")));

    const first = await sb.run(["import", file, "--json"]);
    expect(first.code).toBe(0);
    const receipt = first.json<Receipt>();
    expect(receipt.accepted).toBe(2);
    expect(receipt.duplicates).toBe(0);
    expect(receipt.rejected).toHaveLength(1);
    expect(receipt.rejected[0]?.line).toBe(3);
    expect(receipt.rejected[0]?.reason).toMatch(/subject: .*check character is 5 but should be 4/);
    const sidecar = read(`${file}.rejected.ndjson`).trim().split("\n").map((l) => JSON.parse(l) as { line: number; input: string });
    expect(sidecar).toHaveLength(1);
    expect(sidecar[0]?.line).toBe(3);
    expect(sidecar[0]?.input).toContain(BAD_CHECKSUM);

    // A serious list: nothing applies until a reviewer signs the entry off.
    expect((await sb.run(["check", ADULT, "restrict-air-travel", "--json"])).json<CheckDecision>().applies).toBe(false);
    const pending = (await sb.run(["sign-offs", "list", "--json"])).json<{ subject: string; list: string }[]>();
    expect(pending).toEqual([expect.objectContaining({ subject: ADULT, list: "dishonest-judgment-debtors" })]);
    expect(await sb.approveAll()).toBe(1);

    const check = await sb.run(["check", ADULT, "restrict-air-travel", "--json"]);
    expect(check.code).toBe(0);
    const decision = check.json<CheckDecision>();
    expect(decision.applies).toBe(true);
    expect(decision.reasons[0]?.list).toBe("dishonest-judgment-debtors");
    expect(decision.reasons[0]?.records).toEqual([`court:${CASE}`]);
    expect(decision.reasons[0]?.legalBasis).toEqual(expect.arrayContaining(["SPC Fa Shi [2015] No. 17, Art. 3(1)", "SPC Fa Shi [2017] No. 7, Art. 1"]));

    const child = (await sb.run(["check", CHILD, "restrict-air-travel", "--json"])).json<CheckDecision>();
    expect(child.applies).toBe(false);
    const childStatus = (await sb.run(["explain", CHILD, "--json"])).json<Status>();
    expect(childStatus.minor).toBe(true);
    expect(childStatus.lists).toEqual([]);
    expect(childStatus.measures).toEqual([]);
    expect(childStatus.excluded.map((x) => x.record)).toEqual(["court:(2026)京0108执0077号"]);

    const before = withoutDecision(await sb.run(["explain", ADULT, "--json"]));
    const again = (await sb.run(["import", file, "--json"])).json<Receipt>();
    expect(again).toMatchObject({ accepted: 0, duplicates: 2, corrected: 0, retracted: 0 });
    expect(again.rejected.map((r) => r.line)).toEqual([3]);
    expect(withoutDecision(await sb.run(["explain", ADULT, "--json"]))).toEqual(before);

    const done = sb.file("fulfilled.ndjson");
    writeFileSync(done, ndjson(fulfilled));
    expect((await sb.run(["import", done, "--json"])).json<Receipt>().accepted).toBe(1);
    expect(existsSync(`${done}.rejected.ndjson`)).toBe(false);
    const after = (await sb.run(["check", ADULT, "restrict-air-travel", "--json"])).json<CheckDecision>();
    expect(after.applies).toBe(false);
    const explained = (await sb.run(["explain", ADULT, "--json"])).json<Status>();
    expect(explained.effects[0]).toMatchObject({ state: "ended", endedBy: { record: `court:${CASE}-fulfilled` } });
  });

  it("prints readable text without --json", async () => {
    const sb = await activated();
    const file = sb.file("r.ndjson");
    writeFileSync(file, ndjson(judgment(CASE, ADULT, CASE)));
    expect((await sb.run(["import", file])).stdout).toMatch(/accepted 1, duplicates 0/);
    expect((await sb.run(["status", ADULT])).stdout).toMatch(/Awaiting {5}entry on dishonest-judgment-debtors \(record court:\(2026\)京0105执1234号\) waits for a reviewer's sign-off/);
    expect((await sb.run(["sign-offs", "list"])).stdout).toMatch(/pending {2}110105198506120034 {2}dishonest-judgment-debtors \(serious\)/);
    await sb.approveAll();
    const check = await sb.run(["check", ADULT, "restrict-air-travel"]);
    expect(check.stdout).toMatch(/restrict-air-travel APPLIES/);
    // The entry starts at the reviewer's approval and keeps the end its record gave it.
    expect(check.stdout).toMatch(/on list dishonest-judgment-debtors since 2026-11-23 until 2031-03-02/);
    const explain = await sb.run(["explain", ADULT]);
    expect(explain.stdout).toMatch(/\[in-force\] entry on dishonest-judgment-debtors/);
    expect(explain.stdout).toMatch(/legal basis: SPC Fa Shi \[2017\] No. 7/);
  });
});

describe("import", () => {
  it("rejects changed content under the same key unless sent as a correction, and a correction re-scores", async () => {
    const sb = await activated();
    const file = sb.file("a.ndjson");
    writeFileSync(file, ndjson(judgment(CASE, ADULT, CASE)));
    await sb.run(["import", file]);

    const changed = sb.file("b.ndjson");
    writeFileSync(changed, ndjson(judgment(CASE, ADULT, CASE, { occurredAt: "2026-03-05" })));
    const refused = (await sb.run(["import", changed, "--json"])).json<Receipt>();
    expect(refused.rejected[0]?.reason).toMatch(/already exists with different content; send it with "op": "correct"/);

    const correction = sb.file("c.ndjson");
    // Corrected to ground 2 with a one-year extension: the entry now lasts three years from the judgment.
    writeFileSync(correction, ndjson(judgment(CASE, ADULT, CASE, { op: "correct", attributes: { caseNumber: CASE, ground: 2, extensionYears: 1 } })));
    expect((await sb.run(["import", correction, "--json"])).json<Receipt>().corrected).toBe(1);
    // Another ground is another entry: a reviewer signs it off anew, and the first one's request lapses.
    const awaiting = (await sb.run(["status", ADULT, "--json"])).json<Status>();
    expect(awaiting.lists).toEqual([]);
    expect(awaiting.awaitingSignOff).toEqual([expect.objectContaining({ rule: "debtor-obstructs-or-evades", until: "2029-03-01T16:00:00.000Z" })]);
    expect((await sb.run(["sign-offs", "list", "--state", "lapsed", "--json"])).json<unknown[]>()).toHaveLength(1);
    await sb.approveAll();
    const status = (await sb.run(["status", ADULT, "--json"])).json<Status>();
    expect(status.lists[0]?.until).toBe("2029-03-01T16:00:00.000Z");
  });

  it("retracts a record with a reason, lifting what it caused; a second retraction is a duplicate", async () => {
    const sb = await activated();
    const file = sb.file("a.ndjson");
    writeFileSync(file, ndjson(judgment(CASE, ADULT, CASE)));
    await sb.run(["import", file]);
    const retraction = sb.file("r.ndjson");
    writeFileSync(retraction, ndjson({ op: "retract", source: "court", externalId: CASE, reason: "entered against the wrong person" }));
    expect((await sb.run(["import", retraction, "--json"])).json<Receipt>().retracted).toBe(1);
    expect((await sb.run(["check", ADULT, "restrict-air-travel", "--json"])).json<CheckDecision>().applies).toBe(false);
    expect((await sb.run(["import", retraction, "--json"])).json<Receipt>().duplicates).toBe(1);
    const noRetractReason = sb.file("r2.ndjson");
    writeFileSync(noRetractReason, ndjson({ op: "retract", source: "court", externalId: CASE }));
    expect((await sb.run(["import", noRetractReason, "--json"])).json<Receipt>().rejected[0]?.reason).toBe("reason: a retraction must say why");
  });

  it("names the line and the field of every bad line and keeps the good ones", async () => {
    const sb = await activated();
    const file = sb.file("mixed.ndjson");
    writeFileSync(
      file,
      ndjson(
        "{not json",
        judgment("k1", ADULT, "k1", { category: "tax.arrears.exit-control" }),
        judgment("k2", ADULT, "k2", { colour: "red" }),
        judgment("k3", ADULT, "k3", { occurredAt: "2026-02-30" }),
        judgment("k4", ADULT, "k4", { occurredAt: "2027-01-01" }),
        judgment("k5", ADULT, "k5", { attributes: { caseNumber: "k5", ground: 9 } }),
        judgment("k6", ADULT, "k6", { attributes: { caseNumber: "k6", ground: 1, religion: "x" } }),
        judgment("k7", ADULT, "k7", { source: "weibo" }),
        "",
        judgment("k8", ADULT, "k8"),
      ),
    );
    const r = (await sb.run(["import", file, "--json"])).json<Receipt>();
    expect(r.accepted).toBe(1);
    expect(r.rejected.map((x) => [x.line, x.reason.split(":")[0]])).toEqual([
      [1, "not valid JSON"],
      [2, "category"],
      [3, "unknown field 'colour'"],
      [4, "occurredAt"],
      [5, "occurredAt"],
      [6, "attributes.ground"],
      [7, "attributes.religion"],
      [8, "source"],
    ]);
    expect(r.rejected[1]?.reason).toMatch(/source court may not report tax.arrears.exit-control/);
    expect(r.rejected[3]?.reason).toMatch(/not a real date/);
    expect(r.rejected[4]?.reason).toMatch(/in the future/);
    expect(r.rejected[6]?.reason).toMatch(/not declared for court.judgment.unfulfilled/);
  });

  it("reads CSV with attributes.NAME columns typed as the rulebook declares, and --source for the whole file", async () => {
    const sb = await activated();
    const file = sb.file("court.csv");
    writeFileSync(
      file,
      [
        "externalId,subject,category,occurredAt,legalRef,attributes.caseNumber,attributes.ground",
        `${CASE},${ADULT},court.judgment.unfulfilled,2026-03-02,SPC Fa Shi [2017] No. 7,${CASE},1`,
        `x2,${BAD_CHECKSUM},court.judgment.unfulfilled,2026-03-02,SPC Fa Shi [2017] No. 7,x2,1`,
        `x3,${ADULT},court.judgment.unfulfilled,2026-03-02,SPC Fa Shi [2017] No. 7,x3,one`,
      ].join("\n") + "\n",
    );
    const r = (await sb.run(["import", file, "--source", "court", "--json"])).json<Receipt>();
    await sb.approveAll();
    expect(r.accepted).toBe(1);
    expect(r.rejected.map((x) => x.line)).toEqual([3, 4]);
    expect(r.rejected[1]?.reason).toMatch(/attributes.ground: must be an integer/);
    expect((await sb.run(["check", ADULT, "restrict-air-travel", "--json"])).json<CheckDecision>().applies).toBe(true);
  });

  it("refuses to import before any rulebook is active, and says how to activate one", async () => {
    const sb = cliSandbox();
    const file = sb.file("a.ndjson");
    writeFileSync(file, ndjson(judgment(CASE, ADULT, CASE)));
    const r = await sb.run(["import", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no rulebook is active: run `social-credit rulebook activate/);
  });

  it("reads a file of several megabytes in its reader thread, with every line accounted for as in a small file", async () => {
    const sb = await activated();
    const file = sb.file("large.ndjson");
    const people = Array.from({ length: 18_000 }, (_, i) => {
      const first17 = `1101051980${String(101 + (i % 12)).slice(1)}${String(10 + (i % 18))}${String(100 + Math.floor(i / 36))}`;
      return first17 + residentIdCheckChar(first17);
    });
    const lines: unknown[] = people.map((p, i) => judgment(`(2026)京0105执${i}号`, p, `(2026)京0105执${i}号`));
    lines.splice(9_000, 0, "{not json", judgment("(2026)京0105执x号", BAD_CHECKSUM, "(2026)京0105执x号"), lines[17]);
    writeFileSync(file, ndjson(...lines));
    expect(statSync(file).size).toBeGreaterThanOrEqual(THREAD_MIN_BYTES);
    expect(threadWorthIt(file), "the reader thread runs the build: `npm run build` first (npm test does)").toBe(true);

    const r = await sb.run(["import", file, "--json"]);
    expect(r.code).toBe(0);
    const receipt = r.json<Receipt>();
    expect([receipt.accepted, receipt.duplicates, receipt.rejected.map((x) => x.line)]).toEqual([18_000, 1, [9_001, 9_002]]);
    const sidecar = read(`${file}.rejected.ndjson`).trim().split("\n").map((l) => JSON.parse(l) as { line: number; input: string });
    expect(sidecar.map((x) => [x.line, x.input])).toEqual([
      [9_001, "{not json"],
      [9_002, JSON.stringify(lines[9_001])],
    ]);
    const status = (await sb.run(["explain", people[17_999] as string, "--json"])).json<Status>();
    expect(status.awaitingSignOff.map((a) => a.record)).toEqual(["court:(2026)京0105执17999号"]);
  });

  it("writes --batch records per transaction with the same receipt, and refuses a batch of none", async () => {
    const sb = await activated();
    const file = sb.file("batched.ndjson");
    writeFileSync(file, ndjson("{not json", ...["b1", "b2", "b3", "b4", "b5"].map((k) => judgment(k, ADULT, k)), judgment("b1", ADULT, "b1")));
    const r = (await sb.run(["import", file, "--batch", "2", "--json"])).json<Receipt>();
    expect([r.accepted, r.duplicates, r.rejected.map((x) => x.line)]).toEqual([5, 1, [1]]);
    // Every record was written: the same file again, in the default batches, finds only duplicates.
    const again = (await sb.run(["import", file, "--json"])).json<Receipt>();
    expect([again.accepted, again.duplicates, again.rejected.map((x) => x.line)]).toEqual([0, 6, [1]]);
    const none = await sb.run(["import", file, "--batch", "0"]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/--batch.*must be a whole number from 1 to 100000/);
  });

  it("fails plainly on a missing file", async () => {
    const sb = await activated();
    const r = await sb.run(["import", sb.file("nope.ndjson")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read .*nope.ndjson: ENOENT/);
  });
});

describe("time", () => {
  it("ends list membership and measures when their term runs out, on read and by the sweep", async () => {
    const sb = await activated();
    const file = sb.file("a.ndjson");
    writeFileSync(file, ndjson(judgment(CASE, ADULT, CASE, { attributes: { caseNumber: CASE, ground: 3 } })));
    await sb.run(["import", file]);
    await sb.approveAll();
    expect((await sb.run(["check", ADULT, "restrict-air-travel", "--json"])).json<CheckDecision>().applies).toBe(true);
    const later = "2028-03-02T00:00:00+08:00";
    expect((await sb.run(["sweep", "--json"], { at: later })).json<{ subjects: number }>().subjects).toBe(1);
    expect((await sb.run(["check", ADULT, "restrict-air-travel", "--json"], { at: later })).json<CheckDecision>().applies).toBe(false);
    expect((await sb.run(["check", ADULT, "restrict-air-travel", "--json"], { at: "2028-03-01T23:59:59+08:00" })).json<CheckDecision>().applies).toBe(true);
  });
});

describe("rulebook commands", () => {
  it("lint fails on a rulebook with one legalBasis removed, naming file, line and rule", async () => {
    const sb = cliSandbox();
    const text = read("rulebooks/national.yaml");
    const lines = text.split("\n");
    const ruleLine = lines.findIndex((l) => l.includes("- id: debtor-obstructs-or-evades"));
    const basis = lines.findIndex((l, i) => i > ruleLine && l.trim().startsWith("legalBasis:"));
    lines.splice(basis, 1);
    const broken = sb.file("national.yaml");
    writeFileSync(broken, lines.join("\n"));
    const r = await sb.run(["rulebook", "lint", broken]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${broken}:${ruleLine + 1}:`);
    expect(r.stdout).toMatch(/rule debtor-obstructs-or-evades: legalBasis is missing/);
    expect((await sb.run(["rulebook", "lint", ...SHIPPED])).code).toBe(0);
  });

  it("lints a local layer alone against the active national layer", async () => {
    const sb = await activated();
    const r = await sb.run(["rulebook", "lint", "rulebooks/jiangsu.yaml"]);
    expect(r.stdout).toBe("1 file: no problems\n");
    const fresh = cliSandbox();
    const alone = await fresh.run(["rulebook", "lint", "rulebooks/jiangsu.yaml"]);
    expect(alone.code).toBe(1);
    expect(alone.stdout).toMatch(/parent layer national is not among the layers given/);
  });

  it("activation of a bad set changes nothing; show lists the active layers", async () => {
    const sb = await activated();
    const bad = sb.file("beijing.yaml");
    writeFileSync(bad, read("rulebooks/beijing.yaml").replace("target: subject", "target: relatives"));
    const r = await sb.run(["rulebook", "activate", bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/measure beijing-restrict-public-procurement: measure targets "relatives": a measure binds only the subject itself/);
    const shown = (await sb.run(["rulebook", "show", "--json"])).json<{ layers: { id: string; file: string }[] }>();
    expect(shown.layers.map((l) => l.id)).toEqual(["beijing", "hangzhou", "jiangsu", "national", "rongcheng"]);
    expect(shown.layers.find((l) => l.id === "beijing")?.file).toBe("rulebooks/beijing.yaml");
  });

  it("rescore re-evaluates everyone after a rulebook change", async () => {
    const sb = await activated();
    const jiangsuPerson = "320102199001010053";
    const file = sb.file("a.ndjson");
    writeFileSync(file, ndjson({ source: "court", externalId: "d1", subject: jiangsuPerson, category: "court.judgment.online-defamation", occurredAt: "2026-05-20", attributes: { caseNumber: "d1", proceeding: "civil" }, legalRef: "Civil Code, Art. 1024" }));
    await sb.run(["import", file]);
    expect((await sb.run(["status", jiangsuPerson, "--json"])).json<Status>().score).toBe(900);
    const doubled = sb.file("jiangsu.yaml");
    writeFileSync(doubled, read("rulebooks/jiangsu.yaml").replace("points: -100", "points: -200"));
    const act = await sb.run(["rulebook", "activate", doubled, "--json"]);
    expect(act.json<{ rescored: number }>().rescored).toBe(1);
    expect((await sb.run(["status", jiangsuPerson, "--json"])).json<Status>().score).toBe(800);
  });
});

describe("usage", () => {
  it("rejects an invalid subject ID with the reason and exit 1, and unknown commands with exit 2", async () => {
    const sb = await activated();
    const r = await sb.run(["status", "11010519850612003"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invalid subject ID: .*18-digit resident ID/);
    expect((await sb.run(["frobnicate"])).code).toBe(2);
    const unknownMeasure = await sb.run(["check", ADULT, "ban-pets"]);
    expect(unknownMeasure.code).toBe(1);
    expect(unknownMeasure.stderr).toMatch(/unknown measure ban-pets; the active rulebook has: .*restrict-air-travel/);
    expect((await sb.run(["status", ADULT, "--at", "yesterday"], { at: null })).stderr).toMatch(/--at: "yesterday" is not an ISO 8601 date/);
  });

  it("gives a subject nobody reported on the base status", async () => {
    const sb = await activated();
    const s = (await sb.run(["status", "371082198802100018", "--json"])).json<Status>();
    expect(s).toMatchObject({ score: 1000, grade: "A", jurisdiction: "rongcheng", lists: [], measures: [] });
  });
});

describe("malformed input", () => {
  it("rejects a CSV row with the wrong number of cells by its line and keeps every other row", async () => {
    const sb = await activated();
    const file = sb.file("court.csv");
    const row = (n: number) => `c${n},${ADULT},court.judgment.unfulfilled,2026-03-02,SPC,c${n},1`;
    const rows = ["externalId,subject,category,occurredAt,legalRef,attributes.caseNumber,attributes.ground"];
    for (let n = 1; n <= 3000; n++) rows.push(row(n));
    rows.push(`${row(3001)},extra`);
    for (let n = 3002; n <= 3101; n++) rows.push(row(n));
    writeFileSync(file, rows.join("\n") + "\n");
    const r = (await sb.run(["import", file, "--source", "court", "--json"])).json<Receipt>();
    expect(r.accepted).toBe(3100);
    expect(r.rejected).toEqual([{ line: 3002, reason: expect.stringMatching(/^CSV: /) }]);
  });

  it("reads an NDJSON file that starts with a byte-order mark, refuses a directory, and reports bad --format as usage", async () => {
    const sb = await activated();
    const file = sb.file("bom.ndjson");
    writeFileSync(file, "\uFEFF" + ndjson(judgment(CASE, ADULT, CASE)));
    expect((await sb.run(["import", file, "--json"])).json<Receipt>().accepted).toBe(1);
    const dir = await sb.run(["import", sb.dir]);
    expect([dir.code, dir.stderr]).toEqual([1, `error: cannot read ${sb.dir}: not a file\n`]);
    expect((await sb.run(["import", file, "--format", "xml"])).code).toBe(2);
  });

  it("still reports the receipt when the file of rejected lines cannot be written", async () => {
    const sb = await activated();
    const file = sb.file("x.ndjson");
    writeFileSync(file, ndjson(judgment(CASE, ADULT, CASE), "{broken"));
    mkdirSync(`${file}.rejected.ndjson`);
    const r = await sb.run(["import", file, "--json"]);
    expect(r.code).toBe(1);
    expect(r.json<Receipt>().accepted).toBe(1);
    expect(r.stderr).toMatch(/the records were imported, but the rejected lines could not be written/);
  });
});

describe("re-importing files that held corrections and retractions", () => {
  it("is still safe: earlier revisions sent again are duplicates, not rejections", async () => {
    const sb = await activated();
    const file = sb.file("history.ndjson");
    writeFileSync(
      file,
      ndjson(
        judgment(CASE, ADULT, CASE),
        judgment(CASE, ADULT, CASE, { op: "correct", attributes: { caseNumber: CASE, ground: 2 } }),
        judgment("k2", ADULT, "k2"),
        { op: "retract", source: "court", externalId: "k2", reason: "wrong person" },
      ),
    );
    expect((await sb.run(["import", file, "--json"])).json<Receipt>()).toMatchObject({ accepted: 2, corrected: 1, retracted: 1, rejected: [] });
    const before = withoutDecision(await sb.run(["explain", ADULT, "--json"]));
    expect((await sb.run(["import", file, "--json"])).json<Receipt>()).toMatchObject({ accepted: 0, duplicates: 4, rejected: [] });
    expect(withoutDecision(await sb.run(["explain", ADULT, "--json"]))).toEqual(before);
  });

  it("a what-if read at a later instant does not leave a status the sweep would miss", async () => {
    const sb = await activated();
    const file = sb.file("a.ndjson");
    writeFileSync(file, ndjson(judgment(CASE, ADULT, CASE)));
    await sb.run(["import", file]);
    await sb.run(["status", ADULT], { at: "2032-01-01T00:00:00+08:00" });
    expect((await sb.run(["sweep", "--json"])).json<{ subjects: number }>().subjects).toBe(1);
  });
});

describe("lint and activation agree", () => {
  it("lint checks a layer against every active layer, as activation would", async () => {
    const sb = await activated();
    const rival = sb.file("capital.yaml");
    writeFileSync(rival, read("rulebooks/beijing.yaml").replace("id: beijing", "id: capital").replace(/beijing-/g, "capital-"));
    const lint = await sb.run(["rulebook", "lint", rival]);
    expect(lint.code).toBe(1);
    expect(lint.stdout).toMatch(/region 11 is already claimed by layer/);
    expect((await sb.run(["rulebook", "activate", rival])).code).toBe(1);
  });

  it("activating the same texts again rescores nothing", async () => {
    const sb = await activated();
    const file = sb.file("a.ndjson");
    writeFileSync(file, ndjson(judgment(CASE, ADULT, CASE)));
    await sb.run(["import", file]);
    const again = (await sb.run(["rulebook", "activate", ...SHIPPED, "--json"])).json<{ rescored?: number }>();
    expect(again.rescored).toBeUndefined();
  });
});
