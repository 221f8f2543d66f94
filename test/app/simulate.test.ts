// What-if runs: a draft evaluated over everyone changes nothing, and reports exactly what activating it and rescoring would change.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { fixedClock } from "../../src/app/clock.js";
import { AppContext } from "../../src/app/context.js";
import { UserError } from "../../src/app/errors.js";
import { importRecords, type InputLine } from "../../src/app/ingest.js";
import { activateRulebooks, type RulebookFile } from "../../src/app/rulebooks.js";
import { AGE_BANDS, ageBandOf, simulate, type WhatIfReport } from "../../src/app/simulate.js";
import { rescore } from "../../src/app/statuses.js";
import { unmaskedResidentIds } from "../../src/core/mask.js";
import { creditCodeCheckChar, parseSubjectId, residentIdCheckChar, type Subject } from "../../src/core/subject-id.js";
import { openStore } from "../../src/storage/open.js";
import { testBackends } from "../storage/backends.js";

const NOW = Date.parse("2026-11-23T12:00:00+08:00");
const DAY = 86_400_000;
const ACTOR = "test:simulate";
const SHIPPED: RulebookFile[] = ["national", "beijing", "jiangsu", "hangzhou", "rongcheng"].map((n) => ({ file: `rulebooks/${n}.yaml`, text: readFileSync(`rulebooks/${n}.yaml`, "utf8") }));
const JIANGSU_TEXT = readFileSync("rulebooks/jiangsu.yaml", "utf8");

/** rulebooks/jiangsu.yaml with the online-defamation penalty doubled, and nothing else changed. */
function doubledDefamation(): RulebookFile {
  const rule = /(- id: jiangsu-online-defamation\n(?:.*\n)*?\s+- points: )-100\n/;
  expect(JIANGSU_TEXT).toMatch(rule);
  const text = JIANGSU_TEXT.replace(rule, "$1-200\n").replace('version: "2026.1"', 'version: "2026.2-draft"');
  expect(text).not.toBe(JIANGSU_TEXT);
  return { file: "drafts/jiangsu.yaml", text };
}

const person = (region: string, birth: string, seq: number) => {
  const first17 = `${region}${birth}${String(seq).padStart(3, "0")}`;
  return first17 + residentIdCheckChar(first17);
};
const enterprise = (region: string, serial: string) => {
  const first17 = `91${region}${serial}`;
  return first17 + creditCodeCheckChar(first17);
};
const day = (t: number) => new Date(t + 8 * 3_600_000).toISOString().slice(0, 10);

const defamation = (subject: string, n: string, occurredAt: string) => ({
  source: "court",
  externalId: `(${occurredAt.slice(0, 4)})苏民初${n}号`,
  subject,
  category: "court.judgment.online-defamation",
  occurredAt,
  attributes: { caseNumber: `(${occurredAt.slice(0, 4)})苏民初${n}号`, proceeding: Number(n) % 3 === 0 ? "private-prosecution" : "civil" },
  legalRef: "Civil Code, Art. 1024",
});
const counterfeit = (subject: string, n: string, occurredAt: string) => ({
  source: "market-regulator",
  externalId: `苏市监〔${occurredAt.slice(0, 4)}〕${n}号`,
  subject,
  category: "market.counterfeit-goods",
  occurredAt,
  attributes: { decisionNumber: `苏市监〔${occurredAt.slice(0, 4)}〕${n}号` },
  legalRef: "Product Quality Law, Art. 5",
});
const debt = (subject: string, n: string, occurredAt: string, ground: number) => ({
  source: "court",
  externalId: `(${occurredAt.slice(0, 4)})执${n}号`,
  subject,
  category: "court.judgment.unfulfilled",
  occurredAt,
  attributes: { caseNumber: `(${occurredAt.slice(0, 4)})执${n}号`, ground },
  legalRef: "SPC Fa Shi [2017] No. 7, Art. 1",
});
const volunteering = (subject: string, n: string, occurredAt: string, hours: number) => ({
  source: "volunteer-registry",
  externalId: `V-${n}`,
  subject,
  category: "civic.volunteering",
  occurredAt,
  attributes: { hours },
  legalRef: "Regulations on Volunteer Service, Art. 33",
});

/** Subjects the tests name. */
const HEAVY6 = person("320102", "19800101", 11); // six defamation judgments in force: 400 now, 0 doubled
const HEAVY11 = person("320102", "19800101", 13); // eleven: 0 now and doubled, the floor holds
const MINOR = person("320106", "20120615", 21); // a judgment at 13: records of minors give no effects
const BEIJING_DEFAMER = person("110105", "19750505", 31); // the Jiangsu rule does not reach Beijing
const JIANGSU_FIRM = enterprise("320102", "MA1XYW012"); // enterprises are not exempt from the Jiangsu rule
const EXAMPLE_JIANGSU = "320102199001010053"; // examples/records.ndjson: a defamation judgment in May 2026

/** Generated records: Jiangsu defamation judgments in and out of force, counterfeits, retractions, and scoring elsewhere. */
function generated(): { submits: unknown[]; retracts: unknown[] } {
  const submits: unknown[] = [];
  const retracts: unknown[] = [];
  const regions = ["320102", "320106", "320205", "320506"];
  for (let i = 0; i < 60; i++) {
    const year = 1950 + ((i * 7) % 60);
    const subject = person(regions[i % regions.length] as string, `${year}0615`, 100 + 2 * i);
    const judgments = i % 4;
    for (let j = 0; j < judgments; j++) {
      // Between January 2022 and November 2026: some have run out (three years), some are in force.
      const at = Date.UTC(2022, 0, 10) + ((i * 97 + j * 211) % 1780) * DAY;
      const r = defamation(subject, `${i}${j}`, day(at));
      submits.push(r);
      if (i % 11 === 0 && j === 0) retracts.push({ op: "retract", source: r.source, externalId: r.externalId, reason: "quashed on appeal" });
    }
    if (i % 5 === 0) submits.push(counterfeit(subject, `${i}`, day(Date.UTC(2025, 2, 1) + i * DAY)));
  }
  for (let j = 0; j < 6; j++) submits.push(defamation(HEAVY6, `H6${j}`, `2026-0${j + 1}-15`));
  for (let j = 0; j < 11; j++) submits.push(defamation(HEAVY11, `H11${j}`, `2026-${String(j + 1).padStart(2, "0")}-02`));
  submits.push(defamation(MINOR, "M1", "2026-01-20"));
  submits.push(defamation(BEIJING_DEFAMER, "B1", "2026-03-03"));
  submits.push(defamation(JIANGSU_FIRM, "E1", "2026-04-04"));
  // Beijing debtors and Rongcheng residents, whom the draft does not touch.
  for (let i = 0; i < 12; i++) submits.push(debt(person("110108", `${1960 + i}0310`, 200 + 2 * i), `${i}`, `2026-0${1 + (i % 9)}-10`, 1 + (i % 6)));
  for (let i = 0; i < 12; i++) submits.push(volunteering(person("371082", `${1970 + i}0101`, 300 + 2 * i), `${i}`, "2026-06-01", 5 + 10 * i));
  return { submits, retracts };
}

async function* linesOf(values: readonly unknown[]): AsyncGenerator<InputLine> {
  let line = 0;
  for (const value of values) yield { line: ++line, value, raw: JSON.stringify(value) };
}

async function* fileLines(path: string): AsyncGenerator<InputLine> {
  for (const [i, raw] of readFileSync(path, "utf8").split("\n").entries()) if (raw.trim() !== "") yield { line: i + 1, value: JSON.parse(raw) as unknown, raw };
}

const open: AppContext[] = [];
afterEach(async () => {
  for (const ctx of open.splice(0)) await ctx.store.close();
});

function contextAt(path: string): AppContext {
  const ctx = new AppContext(openStore(path), fixedClock(NOW));
  open.push(ctx);
  return ctx;
}

/** A database file with the shipped rulebooks, the example records and the generated ones. */
async function populated(where?: string): Promise<{ ctx: AppContext; dir: string; db: string }> {
  const dir = mkdtempSync(join(tmpdir(), "social-credit-simulate-"));
  const db = where ?? join(dir, "db.sqlite");
  const ctx = contextAt(db);
  await activateRulebooks(ctx, ACTOR, SHIPPED);
  const examples = await importRecords(ctx, ACTOR, fileLines("examples/records.ndjson"));
  expect(examples.rejected.map((r) => r.line)).toEqual([3]);
  const { submits, retracts } = generated();
  const receipt = await importRecords(ctx, ACTOR, linesOf([...submits, ...retracts]));
  expect(receipt.rejected).toEqual([]);
  expect(receipt.retracted).toBe(retracts.length);
  return { ctx, dir, db };
}

/** Every row of every table but the audit log and its index, read through a connection of its own. */
function snapshot(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('audit_log', 'audit_runs', 'audit_run_keys', 'audit_index_state') ORDER BY name").all() as { name: string }[]).map((t) => t.name);
    // Tables without rowid (list members) are ordered by their whole row instead.
    const withoutRowid = new Set((db.prepare("SELECT name FROM pragma_table_list WHERE wr = 1").all() as { name: string }[]).map((t) => t.name));
    return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}" ORDER BY ${withoutRowid.has(t) ? "1, 2, 3" : "rowid"}`).all()]));
  } finally {
    db.close();
  }
}

/** A consistent copy of a live database file. */
function copyOf(path: string, to: string): string {
  const db = new Database(path);
  try {
    db.prepare("VACUUM INTO ?").run(to);
  } finally {
    db.close();
  }
  return to;
}

/** The outcome of every stored status (what decides whether a subject changed); "unreported" where the store keeps none. */
async function storedOutcomes(ctx: AppContext): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let cursor: string | null = null;
  for (;;) {
    const page = await ctx.store.subjectsAfter(cursor, 100);
    if (page.length === 0) return out;
    for (const id of page) {
      const row = await ctx.store.getStatus(id);
      if (!row) {
        // Every record retracted: as if never reported.
        out.set(id, "unreported");
        continue;
      }
      const s = row.status;
      out.set(id, JSON.stringify([s.score, s.grade, s.lists.map((l) => l.list).sort(), s.measures.map((m) => m.measure).sort()]));
    }
    cursor = page[page.length - 1] as string;
  }
}

const sum = (xs: readonly { changed: number }[]) => xs.reduce((a, x) => a + x.changed, 0);

const BACKENDS = await testBackends();

describe("simulate", () => {
  it("doubling the defamation penalty reports exactly the subjects a full rescore under the draft changes, and writes nothing but its audit entry", async () => {
    const { ctx, dir, db } = await populated();
    const draft = doubledDefamation();
    const tablesBefore = snapshot(db);
    const head = (await ctx.store.auditHead())?.seq ?? 0;

    const { report, changed } = await simulate(ctx, ACTOR, [draft], { collectChanged: true, pageSize: 7 });

    // Nothing but one audit entry was written.
    expect(snapshot(db)).toEqual(tablesBefore);
    const entries = await ctx.store.auditEntries({ afterSeq: head, limit: 10 });
    expect(entries).toHaveLength(1);
    const jiangsuDraft = report.after.layers.find((l) => l.id === "jiangsu");
    expect(entries[0]).toMatchObject({ actor: ACTOR, action: "rulebook.simulated", subject: null, decisionId: report.decisionId });
    expect(entries[0]?.detail).toMatchObject({ draft: [{ id: "jiangsu", version: "2026.2-draft", sha256: jiangsuDraft?.sha256 }], evaluated: report.subjects.evaluated, changed: report.subjects.changed });

    // A copy of the database, rescored under the rulebook in force, then under the draft, at the same instant.
    const other = contextAt(copyOf(db, join(dir, "copy.sqlite")));
    await rescore(other);
    const before = await storedOutcomes(other);
    const sizesBefore = await other.store.listSizes(NOW);
    await activateRulebooks(other, ACTOR, [draft]);
    await rescore(other);
    const after = await storedOutcomes(other);
    const rescored = [...before.keys()].filter((id) => before.get(id) !== after.get(id)).sort();

    expect(changed).toEqual(rescored);
    const unreported = [...before.values()].filter((o) => o === "unreported").length;
    expect(unreported).toBeGreaterThan(0);
    expect(report.subjects.allRetracted).toBe(unreported);
    expect(report.subjects.evaluated).toBe(before.size - unreported);
    expect(report.subjects.changed).toBe(rescored.length);
    expect(report.after.rulesetHash).toBe((await other.requireRuleset()).hash);
    expect(report.before.rulesetHash).toBe((await ctx.requireRuleset()).hash);
    for (const l of report.lists) expect(l.before, l.id).toBe(sizesBefore.get(l.id) ?? 0);

    // The run means something: who changes and who cannot.
    expect(rescored.length).toBeGreaterThan(10);
    expect(changed).toContain(HEAVY6);
    expect(changed).toContain(JIANGSU_FIRM);
    expect(changed).toContain(EXAMPLE_JIANGSU);
    for (const id of [HEAVY11, MINOR, BEIJING_DEFAMER]) expect(changed).not.toContain(id);
    expect(changed?.every((id) => id.startsWith("32") || id.slice(2, 4) === "32")).toBe(true);
    // Only points move: every change is a lower score, and no list or measure moves.
    expect(report.score.down).toBe(report.subjects.changed);
    expect(report.score.up).toBe(0);
    for (const m of [...report.lists, ...report.measures]) expect([m.entered, m.left, m.after - m.before], m.id).toEqual([0, 0, 0]);
  });

  it("adds up: grade matrix, breakdowns and top changes agree with the counts", async () => {
    const { ctx } = await populated();
    const { report, changed } = await simulate(ctx, ACTOR, [doubledDefamation()], { collectChanged: true });
    const s = report.subjects;
    expect(s.changed + s.unchanged).toBe(s.evaluated);
    expect(report.grades.matrix.flat().reduce((a, b) => a + b, 0)).toBe(s.evaluated);
    expect(report.grades.matrix).toHaveLength(report.grades.labels.length);
    expect(sum(report.breakdown.region)).toBe(s.changed);
    expect(sum(report.breakdown.ageBand)).toBe(s.changed);
    expect(sum(report.breakdown.kind)).toBe(s.changed);
    expect(report.breakdown.region.reduce((a, r) => a + r.evaluated, 0)).toBe(s.evaluated);
    expect(report.breakdown.ageBand.map((b) => b.band)).toEqual([...AGE_BANDS]);
    expect(report.breakdown.region.find((r) => r.code === "320102")).toMatchObject({ name: "Nanjing Xuanwu District" });

    // Every changed subject is counted in its own age band.
    const bands = new Map<string, number>();
    for (const id of changed ?? []) {
      const b = ageBandOf((parseSubjectId(id) as { subject: Subject }).subject, NOW);
      bands.set(b, (bands.get(b) ?? 0) + 1);
    }
    for (const row of report.breakdown.ageBand) expect(row.changed, row.band).toBe(bands.get(row.band) ?? 0);

    // The top: at most 20, most score change first, persons masked, enterprises whole.
    expect(report.top.length).toBe(Math.min(20, s.changed));
    const changes = report.top.map((t) => Math.abs(t.score.change));
    expect(changes).toEqual([...changes].sort((a, b) => b - a));
    expect(report.top[0]?.subject).toBe(`${HEAVY6.slice(0, 4)}**********${HEAVY6.slice(-4)}`);
    expect(report.top[0]?.score).toEqual({ before: 400, after: 0, change: -400 });
    expect(unmaskedResidentIds(JSON.stringify(report))).toEqual([]);
    const all = await simulate(ctx, ACTOR, [doubledDefamation()], { top: 1000 });
    expect(all.report.top).toHaveLength(s.changed);
    expect(all.report.top.map((t) => t.subject)).toContain(JIANGSU_FIRM);
    expect(unmaskedResidentIds(JSON.stringify(all.report))).toEqual([]);
  });

  it.each(BACKENDS)("pages through the population: any page size gives the same report ($name)", async (backend) => {
    const { ctx } = await populated(await backend.location());
    const strip = ({ decisionId: _d, elapsedMs: _e, ...rest }: WhatIfReport) => rest;
    const one = await simulate(ctx, ACTOR, [doubledDefamation()], { pageSize: 1, collectChanged: true });
    const big = await simulate(ctx, ACTOR, [doubledDefamation()], { pageSize: 10_000, collectChanged: true });
    expect(strip(one.report)).toEqual(strip(big.report));
    expect(one.changed).toEqual(big.changed);
  });

  it("the draft in force already changes nobody; a draft given as `against` reverses the comparison", async () => {
    const { ctx } = await populated();
    const same = await simulate(ctx, ACTOR, [SHIPPED[2] as RulebookFile]);
    expect(same.report.subjects.changed).toBe(0);
    expect(same.report.top).toEqual([]);
    expect(same.report.before.rulesetHash).toBe(same.report.after.rulesetHash);

    const forward = await simulate(ctx, ACTOR, [doubledDefamation()], { collectChanged: true });
    const back = await simulate(ctx, ACTOR, [SHIPPED[2] as RulebookFile], { against: [doubledDefamation()], collectChanged: true });
    expect(back.changed).toEqual(forward.changed);
    expect(back.report.against).toEqual([expect.objectContaining({ id: "jiangsu", version: "2026.2-draft" })]);
    expect(back.report.score.up).toBe(forward.report.score.down);
    expect(back.report.grades.matrix).toEqual(forward.report.grades.matrix);
  });

  it.each(BACKENDS)("reports grade transitions and the measures they trigger (Rongcheng volunteering worth 60 points) ($name)", async (backend) => {
    const { ctx } = await populated(await backend.location());
    const text = readFileSync("rulebooks/rongcheng.yaml", "utf8");
    const draft = { file: "drafts/rongcheng.yaml", text: text.replace(/(- id: rongcheng-volunteering\n(?:.*\n)*?\s+- points: )5\n/, "$160\n") };
    expect(draft.text).not.toBe(text);
    const { report, changed } = await simulate(ctx, ACTOR, [draft], { collectChanged: true });
    // Eleven generated Rongcheng volunteers with 10 hours or more and the one of examples/records.ndjson go from 1005 (A)
    // to 1060 (AAA); the volunteer with 5 hours stays at 1000, the drunk driver at 950 (B).
    const g = (from: string, to: string) => report.grades.matrix[report.grades.labels.indexOf(from)]?.[report.grades.labels.indexOf(to)];
    expect(report.grades.labels.slice(0, 6)).toEqual(["AAA", "AA", "A", "B", "C", "D"]);
    expect(report.grades.labels).toContain("none");
    expect(g("A", "AAA")).toBe(12);
    expect(g("B", "B")).toBe(1);
    expect(changed).toHaveLength(12);
    expect(changed).toContain("371082198802100018");
    const reward = report.measures.find((m) => m.id === "rongcheng-priority-services");
    expect(reward).toMatchObject({ kind: "reward", before: 0, after: 12, entered: 12, left: 0 });
    expect(report.top[0]).toMatchObject({ score: { change: 55 }, grade: { before: "A", after: "AAA" }, measures: { entered: ["rongcheng-priority-services"], left: [] } });
    expect(report.breakdown.region.find((r) => r.code === "371082")).toMatchObject({ changed: 12, scoreUp: 12, evaluated: 14 });
  });

  it("says when the draft changes the status of subjects with no records, whom it cannot count", async () => {
    const { ctx } = await populated();
    const draft = { file: "drafts/jiangsu.yaml", text: JIANGSU_TEXT.replace("  base: 1000\n", "  base: 1100\n") };
    const { report } = await simulate(ctx, ACTOR, [draft]);
    expect(report.unreported.changes).toBe(2);
    expect(report.unreported.bases.filter((b) => b.changed)).toEqual([
      expect.objectContaining({ regions: "32", regionName: "Jiangsu", kind: "adult", before: { score: 1000, grade: null, measures: [] }, after: { score: 1100, grade: null, measures: [] } }),
      expect.objectContaining({ regions: "32", kind: "enterprise" }),
    ]);
    expect(report.unreported.note).toMatch(/not known/);
    // Every Jiangsu subject with records changes but the one held at the floor of 0, and nobody else.
    expect(report.breakdown.region.filter((r) => r.changed > 0).every((r) => r.code.startsWith("32"))).toBe(true);
    const jiangsu = report.breakdown.region.filter((r) => r.code.startsWith("32"));
    expect(sum(jiangsu)).toBe(jiangsu.reduce((a, r) => a + r.evaluated, 0) - 1);
    expect(report.subjects.changed).toBe(sum(jiangsu));

    const quiet = await simulate(ctx, ACTOR, [doubledDefamation()]);
    expect(quiet.report.unreported.changes).toBe(0);
    expect(quiet.report.unreported.bases.map((b) => b.regions)).toEqual(expect.arrayContaining(["11", "32", "3301", "371082", "elsewhere"]));
  });

  it("refuses a draft with problems, naming file, line and item, and runs nothing", async () => {
    const { ctx } = await populated();
    const head = (await ctx.store.auditHead())?.seq;
    const bad = { file: "drafts/jiangsu.yaml", text: JIANGSU_TEXT.replace(/\n {4}legalBasis: Jiangsu Province Social Credit Regulations \(2021\); Criminal Law[^\n]*/, "") };
    expect(bad.text).not.toBe(JIANGSU_TEXT);
    const e = await simulate(ctx, ACTOR, [SHIPPED[0] as RulebookFile, bad]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UserError);
    const u = e as UserError;
    expect(u.message).toMatch(/draft rulebook not simulated: 1 problem/);
    expect(u.details).toEqual([expect.stringMatching(/^drafts\/jiangsu\.yaml:\d+:\d+: rule jiangsu-online-defamation: legalBasis is missing/)]);
    expect(u.problems).toEqual([{ pointer: "/files/1", detail: u.details[0] }]);
    expect((await ctx.store.auditHead())?.seq).toBe(head);

    const twice = await simulate(ctx, ACTOR, [doubledDefamation(), doubledDefamation()]).catch((x: unknown) => x);
    expect((twice as UserError).details).toEqual([expect.stringMatching(/layer jiangsu is given twice/)]);
  });

  it("needs a rulebook to compare with", async () => {
    const ctx = contextAt(":memory:");
    const e = (await simulate(ctx, ACTOR, [doubledDefamation()]).catch((x: unknown) => x)) as UserError;
    expect(e).toBeInstanceOf(UserError);
    expect(e.kind).toBe("conflict");
    // With `against`, an empty store is simply an empty population.
    const { report } = await simulate(ctx, ACTOR, [doubledDefamation()], { against: SHIPPED });
    expect(report.subjects).toEqual({ evaluated: 0, changed: 0, unchanged: 0, periodsOnly: 0, allRetracted: 0 });
    expect(report.score.meanBefore).toBeNull();
  });

  it("evaluates at the instant asked for: before the judgments, nobody changes", async () => {
    const { ctx } = await populated();
    const { report } = await simulate(ctx, ACTOR, [doubledDefamation()], { at: Date.parse("2021-06-01T00:00:00+08:00") });
    expect(report.at).toBe("2021-05-31T16:00:00.000Z");
    expect(report.subjects.changed).toBe(0);
  });
});
