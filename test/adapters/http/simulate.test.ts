// POST /v1/rulebooks/simulate: an admin's what-if run of a draft rulebook, changing nothing but the audit log.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WhatIfReport } from "../../../src/app/simulate.js";
import { unmaskedResidentIds } from "../../../src/core/mask.js";
import { ENTERPRISE, JIANGSU, expectProblem, startServer, type Caller, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startServer();
});
afterAll(async () => {
  await h.close();
});

const JIANGSU_TEXT = readFileSync("rulebooks/jiangsu.yaml", "utf8");
const draft = {
  file: "drafts/jiangsu.yaml",
  text: JIANGSU_TEXT.replace(/(- id: jiangsu-online-defamation\n(?:.*\n)*?\s+- points: )-100\n/, "$1-200\n").replace('version: "2026.1"', 'version: "2026.2-draft"'),
};
const PATH = "/v1/rulebooks/simulate";

describe("POST /v1/rulebooks/simulate", () => {
  it("gives an admin the report, masks person IDs, changes nothing and records the run in the audit log", async () => {
    expect(draft.text).not.toBe(JIANGSU_TEXT);
    const statusBefore = await h.ctx.store.getStatus(JIANGSU);
    const records = await h.recordCount();
    const r = await h.call("admin", "POST", PATH, { json: { files: [draft] } });
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^application\/json/);
    const report = r.body as WhatIfReport;
    // examples/records.ndjson: seven subjects with records; only the Jiangsu resident's judgment is defamation.
    expect(report.subjects).toMatchObject({ evaluated: 7, changed: 1, unchanged: 6 });
    expect(report.draft).toEqual([expect.objectContaining({ id: "jiangsu", version: "2026.2-draft" })]);
    expect(report.against).toBeNull();
    expect(report.top).toEqual([
      expect.objectContaining({ subject: "3201**********0053", kind: "person", region: "320102", ageBand: "30-44", score: { before: 900, after: 800, change: -100 } }),
    ]);
    expect(report.breakdown.region.find((x) => x.code === "320102")).toMatchObject({ name: "Nanjing Xuanwu District", changed: 1 });
    expect(unmaskedResidentIds(r.text)).toEqual([]);

    expect(await h.ctx.store.getStatus(JIANGSU)).toEqual(statusBefore);
    expect(await h.recordCount()).toBe(records);
    const audit = await h.ctx.store.auditEntries({ action: "rulebook.simulated", limit: 10 });
    expect(audit.at(-1)).toMatchObject({
      actor: `key:${h.keys.admin.id}`,
      subject: null,
      decisionId: report.decisionId,
      detail: { draft: [{ id: "jiangsu", version: "2026.2-draft", sha256: report.draft[0]?.sha256 }], changed: 1, evaluated: 7 },
    });
  });

  it("evaluates at the instant asked for, and against other layers", async () => {
    const before = await h.call("admin", "POST", PATH, { json: { files: [draft], at: "2026-01-01" } });
    expect(before.status, before.text).toBe(200);
    expect(before.body).toMatchObject({ at: "2025-12-31T16:00:00.000Z", subjects: { changed: 0 } });

    const back = await h.call("admin", "POST", PATH, { json: { files: [{ file: "rulebooks/jiangsu.yaml", text: JIANGSU_TEXT }], against: [draft] } });
    expect(back.status, back.text).toBe(200);
    expect(back.body).toMatchObject({ subjects: { changed: 1 }, score: { up: 1, down: 0 }, against: [{ id: "jiangsu", version: "2026.2-draft" }] });
    // Enterprise codes are not personal data: a change to one is shown whole.
    const firm = await h.call("admin", "POST", PATH, {
      json: { files: [{ file: "drafts/beijing.yaml", text: readFileSync("rulebooks/beijing.yaml", "utf8").replace("maxTerm: P3Y", "maxTerm: P2Y").replace("duration: P3Y", "duration: P2Y") }], at: "2028-06-01" },
    });
    expect(firm.status, firm.text).toBe(200);
    expect(firm.body.top.map((t: { subject: string }) => t.subject)).toContain(ENTERPRISE);
  });

  it.each<[Caller, number]>([
    ["public", 401],
    ["agencyCourt", 403],
    ["enforcer", 403],
    ["reviewer", 403],
    ["auditor", 403],
    ["subjectAdult", 403],
  ])("refuses %s with %i, and runs nothing", async (caller, status) => {
    const head = await h.auditHead();
    const r = await h.call(caller, "POST", PATH, { json: { files: [draft] } });
    expectProblem(r, status);
    expect(await h.auditHead()).toBe(head);
  });

  it("refuses a draft with problems with 422, naming file, line and item", async () => {
    const bad = { file: "drafts/jiangsu.yaml", text: draft.text.replace("duration: P3Y", "duration: forever") };
    expect(bad.text).not.toBe(draft.text);
    const r = await h.call("admin", "POST", PATH, { json: { files: [bad] } });
    const p = expectProblem(r, 422);
    expect(p.detail).toMatch(/draft rulebook not simulated: 1 problem/);
    expect(p.errors).toEqual([{ pointer: "/files/0", detail: expect.stringMatching(/^drafts\/jiangsu\.yaml:\d+:\d+: rule jiangsu-online-defamation: duration must be/) }]);

    const badAgainst = await h.call("admin", "POST", PATH, { json: { files: [draft], against: [{ file: "old.yaml", text: "id: [" }] } });
    expect(expectProblem(badAgainst, 422).errors?.[0]).toMatchObject({ pointer: "/against/0", detail: expect.stringMatching(/^old\.yaml:1:/) });
  });

  it("refuses a malformed request with 400", async () => {
    expectProblem(await h.call("admin", "POST", PATH, { json: { files: [] } }), 400);
    expectProblem(await h.call("admin", "POST", PATH, { json: { files: [draft], at: "next tuesday" } }), 400);
    expectProblem(await h.call("admin", "POST", PATH, { json: { files: [draft], dryRun: false } }), 400);
  });

  it("is described in the OpenAPI document", async () => {
    const doc = (await h.call("public", "GET", "/openapi.json")).body;
    const op = doc.paths[PATH].post;
    expect(op).toMatchObject({ operationId: "simulateRulebook", tags: ["rulebooks"], security: [{ bearer: [] }] });
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["200", "400", "401", "403", "422", "429"]));
  });
});
