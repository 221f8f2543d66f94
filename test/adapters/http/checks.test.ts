// Enforcers' checks: what an airline learns (the decision and its legal reasons, never the file), and that every answer is audited.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADULT, ADULT_RECORD, BAD_ID, CHILD, ENTERPRISE, expectProblem, JIANGSU, startServer, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startServer();
});
afterAll(async () => {
  await h.close();
});

/** Every property name anywhere in a JSON value. */
function keysIn(value: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        out.add(k);
        walk(x);
      }
    }
  };
  walk(value);
  return out;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("a single check", () => {
  it("tells the enforcer that the measure applies and why, without the score, the grade or the records", async () => {
    const r = await h.call("enforcer", "GET", `/v1/checks/${ADULT}/restrict-air-travel`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ subject: ADULT, measure: "restrict-air-travel", applies: true, decisionId: expect.stringMatching(UUID) });
    expect(Object.keys(r.body).sort()).toEqual(["applies", "at", "decisionId", "measure", "reasons", "subject"]);
    expect(r.body.reasons).toEqual([{ code: "list:dishonest-judgment-debtors", since: expect.any(String), until: expect.any(String), disputed: false, legalBasis: expect.arrayContaining([expect.any(String)]) }]);
    for (const reason of r.body.reasons) expect(Object.keys(reason).sort()).toEqual(["code", "disputed", "legalBasis", "since", "until"]);
    const keys = keysIn(r.body);
    for (const hidden of ["score", "grade", "records", "record", "effects", "lists"]) expect(keys).not.toContain(hidden);
    // The record's id is what would let an enforcer look up the case; it must not leak through any field.
    expect(r.text).not.toContain(ADULT_RECORD.split(":")[1]);
  });

  it("says a measure does not apply to a child with the same judgment", async () => {
    const r = await h.call("enforcer", "GET", `/v1/checks/${CHILD}/restrict-air-travel`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ subject: CHILD, applies: false, reasons: [] });
  });

  it("records the decision in the audit log under the id the enforcer was given", async () => {
    const r = await h.call("enforcer", "GET", `/v1/checks/${ADULT}/restrict-air-travel`);
    const audit = await h.call("auditor", "GET", `/v1/audit?subject=${ADULT}&action=check&limit=1000`);
    expect(audit.status).toBe(200);
    const entry = audit.body.entries.find((e: { decisionId: string }) => e.decisionId === r.body.decisionId);
    expect(entry).toMatchObject({ action: "check", subject: ADULT, actor: `key:${h.keys.enforcer.id}`, detail: { measure: "restrict-air-travel", applies: true } });
  });

  it("refuses an invalid subject ID with 422 and answers nothing", async () => {
    const before = await h.auditHead();
    const r = await h.call("enforcer", "GET", `/v1/checks/${BAD_ID}/restrict-air-travel`);
    expectProblem(r, 422);
    expect(await h.auditHead()).toBe(before);
  });
});

describe("a batch check", () => {
  const SUBJECTS = [ADULT, CHILD, JIANGSU, ENTERPRISE];
  const pairs = (n: number) => Array.from({ length: n }, (_, i) => ({ subject: SUBJECTS[i % SUBJECTS.length] as string, measure: "restrict-air-travel" }));

  it("answers 1,000 pairs in one request, in order, each with its own audited decision id", async () => {
    const before = await h.auditHead();
    const checks = pairs(1000);
    const r = await h.call("enforcer", "POST", "/v1/checks", { json: { checks } });
    expect(r.status, r.text).toBe(200);
    expect(r.body.decisions).toHaveLength(1000);
    expect(r.body.decisions.map((d: { subject: string }) => d.subject)).toEqual(checks.map((c) => c.subject));
    expect(r.body.decisions.map((d: { applies: boolean }) => d.applies).slice(0, 4)).toEqual([true, false, false, false]);
    const ids = new Set(r.body.decisions.map((d: { decisionId: string }) => d.decisionId));
    expect(ids.size).toBe(1000);
    // One audit entry for the request, holding every decision under its own id, and nothing else.
    expect(await h.auditHead()).toBe(before + 1);
    const logged = await h.call("auditor", "GET", "/v1/audit?action=check.batch&limit=1000");
    const entry = logged.body.entries.at(-1) as { detail: { checks: { decisionId: string; subject: string }[]; subjects: string[] } };
    expect(entry.detail.checks.map((c) => c.decisionId)).toEqual(r.body.decisions.map((d: { decisionId: string }) => d.decisionId));
    expect(new Set(entry.detail.subjects)).toEqual(new Set(checks.map((c) => c.subject)));
  });

  it("shows a checked person their own decision from a batch in their access log, and nobody else's", async () => {
    const checks = [{ subject: ADULT, measure: "restrict-air-travel" }, ...pairs(3).slice(1)];
    const r = await h.call("enforcer", "POST", "/v1/checks", { json: { checks } });
    expect(r.status, r.text).toBe(200);
    const log = await h.call("subjectAdult", "GET", `/v1/subjects/${ADULT}/access-log?limit=1000`);
    expect(log.status, log.text).toBe(200);
    const mine = log.body.entries.filter((e: { decisionId: string }) => e.decisionId === r.body.decisions[0].decisionId);
    expect(mine).toEqual([expect.objectContaining({ action: "check", detail: { measure: "restrict-air-travel", applies: true, reasons: ["list:dishonest-judgment-debtors"] } })]);
    for (const other of checks.slice(1)) expect(log.text).not.toContain(other.subject);
  });

  it("refuses 1,001 pairs with 400 and answers none", async () => {
    const before = await h.auditHead();
    const p = expectProblem(await h.call("enforcer", "POST", "/v1/checks", { json: { checks: pairs(1001) } }), 400);
    expect(p.errors?.map((e) => e.pointer)).toContain("/checks");
    expect(await h.auditHead()).toBe(before);
  });

  it("refuses a batch with a measure outside the key's scope with 403, naming the pair", async () => {
    const before = await h.auditHead();
    const checks = pairs(5);
    checks[3] = { subject: ADULT, measure: "restrict-exit" };
    const p = expectProblem(await h.call("enforcer", "POST", "/v1/checks", { json: { checks } }), 403);
    expect(p.errors).toEqual([{ pointer: "/checks/3/measure", detail: expect.stringContaining("restrict-exit") }]);
    expect(await h.auditHead()).toBe(before);
  });

  it("refuses a batch with an invalid subject ID with 422, naming the pair, and writes no audit entry", async () => {
    const before = await h.auditHead();
    const checks = pairs(5);
    checks[2] = { subject: BAD_ID, measure: "restrict-air-travel" };
    const p = expectProblem(await h.call("enforcer", "POST", "/v1/checks", { json: { checks } }), 422);
    expect(p.errors).toEqual([{ pointer: "/checks/2/subject", detail: expect.stringMatching(/check character/) }]);
    expect(await h.auditHead()).toBe(before);
  });
});
