// Who may call what: every role against every endpoint, each cell the status a holder of that key must get.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importRecords } from "../../../src/app/ingest.js";
import { createKey } from "../../../src/app/keys.js";
import { fileObjection } from "../../../src/app/objections.js";
import { ADULT, ADULT_RECORD, courtRecord, expectProblem, JIANGSU, OPERATOR, recordPath, SHIPPED, startServer, type Caller, type CallOptions, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startServer();
});
afterAll(async () => {
  await h.close();
});

const national = SHIPPED.filter((f) => f.file.endsWith("national.yaml"));

/** A tax record about the Jiangsu resident: valid for the tax agency, refused for any other. */
const taxRecord = {
  source: "tax",
  externalId: "苏税阻〔2026〕9号",
  subject: JIANGSU,
  category: "tax.arrears.exit-control",
  occurredAt: "2026-10-01",
  attributes: { noticeNumber: "苏税阻〔2026〕9号", amountYuan: 12000 },
  legalRef: "Tax Collection and Administration Law, Art. 44",
};

interface Endpoint {
  /** The operation as the OpenAPI document names it. */
  route: string;
  method: string;
  /** The path, or a way to make one (a fresh key to revoke, so that each cell revokes its own). */
  path: string | ((h: Harness) => Promise<string>);
  opts?: CallOptions | ((h: Harness) => Promise<CallOptions>);
}

let fresh = 0;
/** A new court record about the adult, imported as the court would, so that each cell objects to or signs off its own. */
async function freshRecord(h: Harness): Promise<string> {
  const externalId = `(2026)京0105执${7000 + ++fresh}号`;
  async function* one() {
    yield { line: 1, value: courtRecord(externalId), raw: "" };
  }
  await importRecords(h.ctx, OPERATOR, one());
  return `court:${externalId}`;
}

/** A fresh record's entry waiting for sign-off. */
async function freshSignOff(h: Harness): Promise<string> {
  const record = await freshRecord(h);
  const [s] = (await h.ctx.store.signOffs({ subject: ADULT, state: "pending", limit: 1000 })).filter((x) => x.record === record);
  if (!s) throw new Error(`no sign-off for ${record}`);
  return s.entry;
}

/** An open objection of the adult's to a fresh record. */
async function freshObjection(h: Harness): Promise<string> {
  const record = await freshRecord(h);
  return (await fileObjection(h.ctx, OPERATOR, ADULT, { record, statement: "the debt was paid before the judgment" })).objection.id;
}

/** A restoration request of the adult's waiting for a reviewer, stored as the service stores an eligible one. */
async function freshRestoration(h: Harness): Promise<string> {
  const id = crypto.randomUUID();
  const at = h.ctx.clock.now();
  await h.ctx.store.putRestoration({ id, subject: ADULT, list: "dishonest-judgment-debtors", commitment: "I will pay", statement: null, requestedAt: at, state: "pending", decidedAt: null, decidedBy: null, reasons: null, legalBasis: "SPC Fa Shi [2017] No. 7, Art. 10" });
  return id;
}

const ENDPOINTS: Record<string, Endpoint> = {
  me: { route: "GET /v1/me", method: "GET", path: "/v1/me" },
  "submit court record": { route: "POST /v1/records", method: "POST", path: "/v1/records", opts: { json: [courtRecord("(2026)京0105执9001号")] } },
  "submit tax record": { route: "POST /v1/records", method: "POST", path: "/v1/records", opts: { json: [taxRecord] } },
  "read court record": { route: "GET /v1/records/{id}", method: "GET", path: recordPath(ADULT_RECORD) },
  "read adult's file": { route: "GET /v1/subjects/{id}", method: "GET", path: `/v1/subjects/${ADULT}` },
  "read adult's records": { route: "GET /v1/subjects/{id}/records", method: "GET", path: `/v1/subjects/${ADULT}/records` },
  "read adult's access log": { route: "GET /v1/subjects/{id}/access-log", method: "GET", path: `/v1/subjects/${ADULT}/access-log` },
  "check in scope": { route: "GET /v1/checks/{subject}/{measure}", method: "GET", path: `/v1/checks/${ADULT}/restrict-air-travel` },
  "check out of scope": { route: "GET /v1/checks/{subject}/{measure}", method: "GET", path: `/v1/checks/${ADULT}/restrict-exit` },
  "batch check": { route: "POST /v1/checks", method: "POST", path: "/v1/checks", opts: { json: { checks: [{ subject: ADULT, measure: "restrict-air-travel" }] } } },
  rulebook: { route: "GET /v1/rulebooks", method: "GET", path: "/v1/rulebooks" },
  "rulebook layer": { route: "GET /v1/rulebooks/layers/{layer}", method: "GET", path: "/v1/rulebooks/layers/national" },
  lint: { route: "POST /v1/rulebooks/lint", method: "POST", path: "/v1/rulebooks/lint", opts: { json: { files: national } } },
  activate: { route: "POST /v1/rulebooks/activate", method: "POST", path: "/v1/rulebooks/activate", opts: { json: { files: national } } },
  simulate: { route: "POST /v1/rulebooks/simulate", method: "POST", path: "/v1/rulebooks/simulate", opts: { json: { files: national } } },
  "list keys": { route: "GET /v1/keys", method: "GET", path: "/v1/keys" },
  "create key": { route: "POST /v1/keys", method: "POST", path: "/v1/keys", opts: { json: { role: "reviewer", label: "made in the matrix" } } },
  "revoke key": { route: "DELETE /v1/keys/{id}", method: "DELETE", path: async (h) => `/v1/keys/${(await createKey(h.ctx, OPERATOR, { role: "reviewer" })).id}` },
  audit: { route: "GET /v1/audit", method: "GET", path: "/v1/audit" },
  checkpoints: { route: "GET /v1/audit/checkpoints", method: "GET", path: "/v1/audit/checkpoints" },
  healthz: { route: "GET /healthz", method: "GET", path: "/healthz" },
  readyz: { route: "GET /readyz", method: "GET", path: "/readyz" },
  metrics: { route: "GET /metrics", method: "GET", path: "/metrics" },
  openapi: { route: "GET /openapi.json", method: "GET", path: "/openapi.json" },
  "list sign-offs": { route: "GET /v1/sign-offs", method: "GET", path: "/v1/sign-offs" },
  "read sign-off": { route: "GET /v1/sign-offs/{id}", method: "GET", path: async (h) => `/v1/sign-offs/${await freshSignOff(h)}` },
  "decide sign-off": { route: "POST /v1/sign-offs/{id}/decision", method: "POST", path: async (h) => `/v1/sign-offs/${await freshSignOff(h)}/decision`, opts: { json: { approve: true } } },
  "file objection": {
    route: "POST /v1/subjects/{id}/objections",
    method: "POST",
    path: `/v1/subjects/${ADULT}/objections`,
    opts: async (h) => ({ json: { record: await freshRecord(h), statement: "not my debt" } }),
  },
  "list objections": { route: "GET /v1/objections", method: "GET", path: "/v1/objections?overdue=true" },
  "read objection": { route: "GET /v1/objections/{id}", method: "GET", path: async (h) => `/v1/objections/${await freshObjection(h)}` },
  "decide objection": {
    route: "POST /v1/objections/{id}/decision",
    method: "POST",
    path: async (h) => `/v1/objections/${await freshObjection(h)}/decision`,
    opts: { json: { decision: "dismiss", reasons: "the payment came after the judgment" } },
  },
  // Allowed callers get 409: the adult was listed today, and restoration needs a year on the list.
  "request restoration": {
    route: "POST /v1/subjects/{id}/restorations",
    method: "POST",
    path: `/v1/subjects/${ADULT}/restorations`,
    opts: { json: { list: "dishonest-judgment-debtors", commitment: "I will pay" } },
  },
  "list restorations": { route: "GET /v1/restorations", method: "GET", path: "/v1/restorations" },
  "read restoration": { route: "GET /v1/restorations/{id}", method: "GET", path: async (h) => `/v1/restorations/${await freshRestoration(h)}` },
  "decide restoration": {
    route: "POST /v1/restorations/{id}/decision",
    method: "POST",
    path: async (h) => `/v1/restorations/${await freshRestoration(h)}/decision`,
    opts: { json: { grant: false, reasons: "the obligation is not fulfilled" } },
  },
  "read adult's notices": { route: "GET /v1/subjects/{id}/notices", method: "GET", path: `/v1/subjects/${ADULT}/notices` },
  "download adult's file": { route: "GET /v1/subjects/{id}/file", method: "GET", path: `/v1/subjects/${ADULT}/file` },
  "public lists": { route: "GET /v1/public/lists", method: "GET", path: "/v1/public/lists" },
  "public list": { route: "GET /v1/public/lists/{list}", method: "GET", path: "/v1/public/lists/dishonest-judgment-debtors?q=1101" },
  "public statistics": { route: "GET /v1/public/statistics", method: "GET", path: "/v1/public/statistics" },
};

const CALLERS = ["public", "agencyCourt", "agencyTax", "enforcer", "reviewer", "auditor", "admin", "subjectAdult", "subjectOther"] as const satisfies readonly Caller[];

// prettier-ignore
// Columns: public, court agency, tax agency, enforcer (restrict-air-travel), reviewer, auditor, admin, the adult as subject, another subject.
// A record a key may not see is 404 rather than 403, so that a key cannot learn what other sources hold.
const MATRIX: Record<keyof typeof ENDPOINTS, [number, number, number, number, number, number, number, number, number]> = {
  //                           pub  court tax  enf  rev  aud  adm  subj other
  me:                        [200, 200, 200, 200, 200, 200, 200, 200, 200],
  "submit court record":     [401, 200, 403, 403, 403, 403, 403, 403, 403],
  "submit tax record":       [401, 403, 200, 403, 403, 403, 403, 403, 403],
  "read court record":       [401, 200, 404, 403, 200, 403, 403, 200, 404],
  "read adult's file":       [401, 403, 403, 403, 200, 403, 403, 200, 403],
  "read adult's records":    [401, 200, 200, 403, 200, 403, 403, 200, 403],
  "read adult's access log": [401, 403, 403, 403, 200, 403, 403, 200, 403],
  "check in scope":          [401, 403, 403, 200, 403, 403, 403, 403, 403],
  "check out of scope":      [401, 403, 403, 403, 403, 403, 403, 403, 403],
  "batch check":             [401, 403, 403, 200, 403, 403, 403, 403, 403],
  rulebook:                  [200, 200, 200, 200, 200, 200, 200, 200, 200],
  "rulebook layer":          [200, 200, 200, 200, 200, 200, 200, 200, 200],
  lint:                      [401, 403, 403, 403, 403, 403, 200, 403, 403],
  activate:                  [401, 403, 403, 403, 403, 403, 200, 403, 403],
  simulate:                  [401, 403, 403, 403, 403, 403, 200, 403, 403],
  "list keys":               [401, 403, 403, 403, 403, 403, 200, 403, 403],
  "create key":              [401, 403, 403, 403, 403, 403, 201, 403, 403],
  "revoke key":              [401, 403, 403, 403, 403, 403, 204, 403, 403],
  audit:                     [401, 403, 403, 403, 403, 200, 403, 403, 403],
  checkpoints:               [401, 403, 403, 403, 403, 200, 403, 403, 403],
  healthz:                   [200, 200, 200, 200, 200, 200, 200, 200, 200],
  readyz:                    [200, 200, 200, 200, 200, 200, 200, 200, 200],
  metrics:                   [200, 200, 200, 200, 200, 200, 200, 200, 200],
  openapi:                   [200, 200, 200, 200, 200, 200, 200, 200, 200],
  "list sign-offs":          [401, 403, 403, 403, 200, 403, 403, 403, 403],
  "read sign-off":           [401, 403, 403, 403, 200, 403, 403, 403, 403],
  "decide sign-off":         [401, 403, 403, 403, 200, 403, 403, 403, 403],
  "file objection":          [401, 403, 403, 403, 201, 403, 403, 201, 403],
  "list objections":         [401, 403, 403, 403, 200, 403, 403, 403, 403],
  "read objection":          [401, 403, 403, 403, 200, 403, 403, 200, 403],
  "decide objection":        [401, 403, 403, 403, 200, 403, 403, 403, 403],
  "request restoration":     [401, 403, 403, 403, 409, 403, 403, 409, 403],
  "list restorations":       [401, 403, 403, 403, 200, 403, 403, 403, 403],
  "read restoration":        [401, 403, 403, 403, 200, 403, 403, 200, 403],
  "decide restoration":      [401, 403, 403, 403, 200, 403, 403, 403, 403],
  "read adult's notices":    [401, 403, 403, 403, 200, 403, 403, 200, 403],
  "download adult's file":   [401, 403, 403, 403, 200, 403, 403, 200, 403],
  "public lists":            [200, 200, 200, 200, 200, 200, 200, 200, 200],
  "public list":             [200, 200, 200, 200, 200, 200, 200, 200, 200],
  "public statistics":       [200, 200, 200, 200, 200, 200, 200, 200, 200],
};

const CELLS = Object.entries(MATRIX).flatMap(([endpoint, row]) => CALLERS.map((caller, i) => ({ endpoint, caller, expected: row[i] as number })));

describe("authorization matrix", () => {
  it("has a row for every operation the OpenAPI document declares", async () => {
    // A new route without a row here would go untested for access.
    const doc = (await h.call("public", "GET", "/openapi.json")).body as { paths: Record<string, Record<string, unknown>> };
    const declared = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    const rows = new Set(Object.values(ENDPOINTS).map((e) => e.route));
    expect(declared.length).toBeGreaterThan(15);
    for (const d of declared) expect(rows, d).toContain(d);
  });

  it.each(CELLS)("$caller: $endpoint → $expected", async ({ endpoint, caller, expected }) => {
    const e = ENDPOINTS[endpoint] as Endpoint;
    const path = typeof e.path === "string" ? e.path : await e.path(h);
    const r = await h.call(caller, e.method, path, typeof e.opts === "function" ? await e.opts(h) : e.opts);
    if (expected >= 400) expectProblem(r, expected);
    else expect(r.status, r.text).toBe(expected);
    if (expected === 401) expect(r.headers.get("www-authenticate")).toMatch(/^Bearer /);
  });
});

describe("refusals that name what is wrong", () => {
  it("an agency may not submit a record naming another source, and nothing is written", async () => {
    const before = await h.recordCount();
    const r = await h.call("agencyCourt", "POST", "/v1/records", { json: [courtRecord("(2026)京0105执9002号"), { ...taxRecord, externalId: "苏税阻〔2026〕10号" }] });
    const p = expectProblem(r, 403);
    expect(p.errors).toEqual([{ pointer: "/1/source", detail: expect.stringMatching(/court, not tax/) }]);
    expect(await h.recordCount()).toBe(before);
  });

  it("a subject key reading another subject's file is refused, and the other subject's access log does not show a read", async () => {
    const r = await h.call("subjectOther", "GET", `/v1/subjects/${ADULT}`);
    expectProblem(r, 403);
    expect(r.text).not.toContain("score");
    const log = await h.call("reviewer", "GET", `/v1/subjects/${ADULT}/access-log?limit=1000`);
    const readers = log.body.entries.filter((e: { action: string }) => e.action === "subject.read").map((e: { actor: { id: string } }) => e.actor.id);
    expect(readers).not.toContain(`key:${h.keys.subjectOther.id}`);
  });

  it("an agency sees only its own source's records about a subject", async () => {
    const court = await h.call("agencyCourt", "GET", `/v1/subjects/${JIANGSU}/records`);
    expect(court.status).toBe(200);
    // The Jiangsu resident has a court judgment and a tax notice; the court sees the first only.
    expect(court.body.records.map((r: { source: string }) => r.source)).toEqual(["court"]);
    const tax = await h.call("agencyTax", "GET", `/v1/subjects/${JIANGSU}/records`);
    expect(new Set(tax.body.records.map((r: { source: string }) => r.source))).toEqual(new Set(["tax"]));
  });

  it.each([
    ["a malformed header", { authorization: "Basic dXNlcjpwYXNz" }],
    ["an unknown key", { authorization: "Bearer sck_0123456789abcdef_" + "A".repeat(43) }],
    ["garbage", { authorization: "Bearer not-a-key" }],
  ])("%s is 401 even on a public route", async (_what, headers) => {
    const r = await h.call("public", "GET", "/v1/rulebooks", { headers });
    expectProblem(r, 401);
  });

  it("an unknown route is a 404 problem", async () => {
    expectProblem(await h.call("admin", "GET", "/v1/nothing-here"), 404);
  });
});
