// `social-credit simulate` as an operator runs it: text, --json, a self-contained --html report, --changed-out, refusals.
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import type { WhatIfReport } from "../../../src/app/simulate.js";
import { unmaskedResidentIds } from "../../../src/core/mask.js";
import { parseSubjectId, residentIdCheckChar } from "../../../src/core/subject-id.js";
import { SHIPPED, cliSandbox, read } from "./cli-harness.js";

const JIANGSU = "320102199001010053";
const person = (first17: string) => first17 + residentIdCheckChar(first17);

/** Jiangsu defamation judgments in force on 23 November 2026, for a dozen residents of several districts. */
function judgments(): string {
  const lines: string[] = [];
  for (let i = 0; i < 12; i++) {
    const subject = person(`32${["0102", "0106", "0205"][i % 3]}19${60 + i}0301${String(100 + 2 * i).padStart(3, "0")}`);
    for (let j = 0; j <= i % 3; j++) {
      const caseNumber = `(2026)苏民初${i}-${j}号`;
      lines.push(JSON.stringify({ source: "court", externalId: caseNumber, subject, category: "court.judgment.online-defamation", occurredAt: `2026-0${1 + j}-1${i % 10}`, attributes: { caseNumber, proceeding: "civil" }, legalRef: "Civil Code, Art. 1024" }));
    }
  }
  return lines.join("\n") + "\n";
}

/** A sandbox with the shipped rulebooks, the example records and the judgments, and a draft doubling the defamation penalty. */
async function withDraft(version = "2026.2-draft") {
  const sb = cliSandbox();
  expect((await sb.run(["rulebook", "activate", ...SHIPPED])).code).toBe(0);
  const examples = sb.file("records.ndjson");
  copyFileSync("examples/records.ndjson", examples);
  const more = sb.file("judgments.ndjson");
  writeFileSync(more, judgments());
  for (const f of [examples, more]) expect((await sb.run(["import", f])).code).toBe(0);
  // The serious entries (the debtor list) apply once a reviewer signs them off.
  await sb.approveAll();
  const draft = sb.file("jiangsu-draft.yaml");
  const text = read("rulebooks/jiangsu.yaml")
    .replace(/(- id: jiangsu-online-defamation\n(?:.*\n)*?\s+- points: )-100\n/, "$1-200\n")
    .replace('version: "2026.1"', `version: ${JSON.stringify(version)}`);
  writeFileSync(draft, text);
  return { ...sb, draft };
}

/** Checks that every element of an HTML document is closed in order (void elements aside): enough to catch broken markup. */
function expectWellFormed(html: string): void {
  const VOID = new Set(["meta", "br", "hr", "img", "input", "link"]);
  const stack: string[] = [];
  const body = html.replace(/^<!DOCTYPE html>\s*/i, "");
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(\/?)>/g)) {
    const [, closing, rawName, selfClosing] = m;
    const name = (rawName as string).toLowerCase();
    if (VOID.has(name) || selfClosing) continue;
    if (closing) expect(stack.pop(), `</${name}> at ${m.index}`).toBe(name);
    else stack.push(name);
  }
  expect(stack).toEqual([]);
  // Text never holds a raw angle bracket or a stray ampersand: everything was escaped.
  const text = body.replace(/<[^>]*>/g, "");
  expect(text).not.toMatch(/[<>]/);
  expect(text).not.toMatch(/&(?!(?:amp|lt|gt|quot|#39);)/);
}

describe("simulate", () => {
  it("prints a report for a terminal with masked IDs, and changes nothing", async () => {
    const sb = await withDraft();
    const status = await sb.run(["status", JIANGSU, "--json"]);
    const r = await sb.run(["simulate", "--rulebook", sb.draft]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^What-if at 2026-11-23T02:00:00\.000Z: nothing was changed/);
    expect(r.stdout).toMatch(/draft\s+jiangsu 2026\.2-draft/);
    expect(r.stdout).toMatch(/Subjects\s+19 evaluated, 13 changed/);
    expect(r.stdout).toMatch(/Grades \(rows before, columns after\)/);
    expect(r.stdout).toMatch(/dishonest-judgment-debtors\s+blacklist\s+1\s+1\s+0\s+0\s+0/);
    expect(r.stdout).toMatch(/320102\s+Nanjing Xuanwu District/);
    expect(r.stdout).toMatch(/The 13 who change most \(person IDs masked\)/);
    expect(r.stdout).toContain("3201**********");
    expect(r.stdout).toMatch(/Subjects nobody ever reported on .*does not change/);
    expect(unmaskedResidentIds(r.stdout)).toEqual([]);
    // The stored status is what it was.
    const again = await sb.run(["status", JIANGSU, "--json"]);
    expect(again.json<{ score: number }>().score).toBe(status.json<{ score: number }>().score);
  });

  it("--json gives the report; --at evaluates at another instant; the run is audited as the operator", async () => {
    const sb = await withDraft();
    const now = await sb.run(["simulate", "--rulebook", sb.draft, "--json"]);
    expect(now.code, now.stderr).toBe(0);
    const report = now.json<WhatIfReport>();
    expect(report.subjects).toMatchObject({ evaluated: 19, changed: 13 });
    expect(report.draft).toEqual([expect.objectContaining({ id: "jiangsu", version: "2026.2-draft" })]);
    expect(report.top[0]?.subject).toMatch(/^32\d\d\*{10}\d{3}[\dX]$/);

    const earlier = await sb.run(["simulate", "--rulebook", sb.draft, "--json", "--at", "2025-12-31"]);
    expect(earlier.code, earlier.stderr).toBe(0);
    expect(earlier.json<WhatIfReport>()).toMatchObject({ at: "2025-12-30T16:00:00.000Z", subjects: { changed: 0 } });

    const db = new Database(sb.db, { readonly: true });
    const rows = db.prepare("SELECT actor, action, subject, decision_id AS decisionId FROM audit_log WHERE action = 'rulebook.simulated' ORDER BY seq").all() as { actor: string; decisionId: string; subject: string | null }[];
    db.close();
    expect(rows).toHaveLength(2);
    expect(rows[0]?.actor).toMatch(/^cli:/);
    expect(rows[0]?.subject).toBeNull();
    expect(rows[0]?.decisionId).toBe(report.decisionId);
  });

  it("--html writes one self-contained, well-formed page with charts, everything escaped and no person ID in full", async () => {
    const sb = await withDraft("2026.2 <b>draft</b> & co");
    const file = sb.file("what-if.html");
    const r = await sb.run(["simulate", "--rulebook", sb.draft, "--html", file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`HTML report written to ${file}`);
    const html = readFileSync(file, "utf8");
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expectWellFormed(html);
    // Charts are inline SVG; nothing is fetched from anywhere.
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(4);
    expect(html).toContain('class="matrix"');
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|\bhref=|url\(/i);
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, "")).not.toMatch(/https?:/);
    expect(html).toContain("Content-Security-Policy");
    // The version the draft's author typed is text, not markup.
    expect(html).toContain("2026.2 &lt;b&gt;draft&lt;/b&gt; &amp; co");
    expect(html).not.toContain("<b>draft</b>");
    expect(unmaskedResidentIds(html)).toEqual([]);
    expect(html).toContain("3201**********");
  });

  it("--changed-out writes every changed subject's ID, one a line; several --rulebook files are one draft", async () => {
    const sb = await withDraft();
    const out = sb.file("changed.txt");
    const beijing = sb.file("beijing.yaml");
    copyFileSync("rulebooks/beijing.yaml", beijing);
    const r = await sb.run(["simulate", "--rulebook", sb.draft, "--rulebook", beijing, "--changed-out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`13 changed subject IDs written to ${out}`);
    const ids = readFileSync(out, "utf8").trimEnd().split("\n");
    expect(ids).toHaveLength(13);
    expect(ids).toContain(JIANGSU);
    expect(ids.every((id) => parseSubjectId(id).ok && id.startsWith("32"))).toBe(true);
    expect([...ids].sort()).toEqual(ids);

    const both = await sb.run(["simulate", "--rulebook", sb.draft, beijing, "--json"]);
    expect(both.json<WhatIfReport>().draft.map((l) => l.id)).toEqual(["jiangsu", "beijing"]);
  });

  it("refuses a draft with problems, naming file and line, and a missing draft file", async () => {
    const sb = await withDraft();
    const bad = sb.file("bad.yaml");
    writeFileSync(bad, read(sb.draft).replace("    duration: P3Y\n", "    duration: forever\n"));
    const r = await sb.run(["simulate", "--rulebook", bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: draft rulebook not simulated: 1 problem/);
    expect(r.stderr).toContain(`${bad}:`);
    expect(r.stderr).toMatch(/duration must be/);

    const missing = await sb.run(["simulate", "--rulebook", sb.file("nope.yaml")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*nope\.yaml: ENOENT/);

    const usage = await sb.run(["simulate"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--rulebook/);
  });
});
