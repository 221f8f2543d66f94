// Submitting records: bad input is refused whole with a problem naming what to fix and changes nothing; good input is written once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADULT, BAD_ID, courtRecord, expectProblem, recordPath, startServer, type CallOptions, type Caller, type Harness } from "./harness.js";

/** Small enough that a few kilobytes are refused. */
const BODY_LIMIT = 2048;

let h: Harness;
let small: Harness;
beforeAll(async () => {
  [h, small] = await Promise.all([startServer(), startServer({ bodyLimit: BODY_LIMIT })]);
});
afterAll(async () => {
  await Promise.all([h.close(), small.close()]);
});

const pair = { subject: ADULT, measure: "restrict-air-travel" };
const ndjson = (...values: unknown[]) => values.map((v) => JSON.stringify(v)).join("\n") + "\n";

interface BadInput {
  what: string;
  caller: Caller;
  path: string;
  opts: CallOptions;
  status: number;
  /** Where the problem says the fault is, when it names one. */
  at?: { pointer?: string; line?: number; detail?: RegExp };
  /** Sent to the server with the small body limit. */
  small?: boolean;
}

const BAD: BadInput[] = [
  // POST /v1/records
  { what: "records: malformed JSON", caller: "agencyCourt", path: "/v1/records", opts: { raw: '[{"externalId": ', contentType: "application/json" }, status: 400 },
  { what: "records: an empty body", caller: "agencyCourt", path: "/v1/records", opts: { raw: "", contentType: "application/json" }, status: 400 },
  { what: "records: an object, not an array", caller: "agencyCourt", path: "/v1/records", opts: { json: courtRecord("(2026)京0105执9101号") }, status: 400 },
  { what: "records: an empty array", caller: "agencyCourt", path: "/v1/records", opts: { json: [] }, status: 400 },
  { what: "records: a number where a string goes", caller: "agencyCourt", path: "/v1/records", opts: { json: [{ ...courtRecord("x"), externalId: 42 }] }, status: 422, at: { pointer: "/0", detail: /externalId/ } },
  { what: "records: an attribute of the wrong type", caller: "agencyCourt", path: "/v1/records", opts: { json: [{ ...courtRecord("(2026)京0105执9102号"), attributes: { caseNumber: "c", ground: "one" } }] }, status: 422, at: { pointer: "/0", detail: /attributes\.ground/ } },
  { what: "records: an unknown field", caller: "agencyCourt", path: "/v1/records", opts: { json: [{ ...courtRecord("(2026)京0105执9103号"), colour: "red" }] }, status: 422, at: { pointer: "/0", detail: /colour/ } },
  // A text/plain body holding one valid NDJSON line: only the declared media types may carry records.
  { what: "records: text/plain", caller: "agencyCourt", path: "/v1/records", opts: { raw: JSON.stringify(courtRecord("(2026)京0105执9104号")), contentType: "text/plain" }, status: 415 },
  { what: "records: application/xml", caller: "agencyCourt", path: "/v1/records", opts: { raw: JSON.stringify([courtRecord("(2026)京0105执9106号")]), contentType: "application/xml" }, status: 415 },
  { what: "records: NDJSON with a line that is not JSON", caller: "agencyCourt", path: "/v1/records", opts: { raw: ndjson(courtRecord("(2026)京0105执9105号")) + "{oops\n", contentType: "application/x-ndjson" }, status: 422, at: { line: 2 } },
  { what: "records: larger than the body limit", caller: "agencyCourt", path: "/v1/records", opts: { json: Array.from({ length: 20 }, (_, i) => courtRecord(`(2026)京0105执92${i}号`)) }, status: 413, small: true },
  // POST /v1/checks
  { what: "checks: malformed JSON", caller: "enforcer", path: "/v1/checks", opts: { raw: '{"checks": [', contentType: "application/json" }, status: 400 },
  { what: "checks: a string where the list goes", caller: "enforcer", path: "/v1/checks", opts: { json: { checks: "all passengers" } }, status: 400, at: { pointer: "/checks" } },
  { what: "checks: a number as subject", caller: "enforcer", path: "/v1/checks", opts: { json: { checks: [{ subject: 11010519850612, measure: "restrict-air-travel" }] } }, status: 400, at: { pointer: "/checks/0/subject" } },
  { what: "checks: an unknown top-level field", caller: "enforcer", path: "/v1/checks", opts: { json: { checks: [pair], priority: "high" } }, status: 400, at: { detail: /priority/ } },
  { what: "checks: an unknown field in a pair", caller: "enforcer", path: "/v1/checks", opts: { json: { checks: [{ ...pair, flight: "MU5101" }] } }, status: 400, at: { pointer: "/checks/0", detail: /flight/ } },
  { what: "checks: an empty list", caller: "enforcer", path: "/v1/checks", opts: { json: { checks: [] } }, status: 400, at: { pointer: "/checks" } },
  { what: "checks: text/plain", caller: "enforcer", path: "/v1/checks", opts: { raw: JSON.stringify({ checks: [pair] }), contentType: "text/plain" }, status: 415 },
  { what: "checks: application/xml", caller: "enforcer", path: "/v1/checks", opts: { raw: JSON.stringify({ checks: [pair] }), contentType: "application/xml" }, status: 415 },
  { what: "checks: larger than the body limit", caller: "enforcer", path: "/v1/checks", opts: { json: { checks: Array.from({ length: 100 }, () => pair) } }, status: 413, small: true },
];

describe("bad input changes nothing", () => {
  it.each(BAD)("$what → $status", async ({ caller, path, opts, status, at, small: onSmall }) => {
    const server = onSmall ? small : h;
    if (onSmall) expect(JSON.stringify(opts.json).length).toBeGreaterThan(BODY_LIMIT);
    const [records, audit] = [await server.recordCount(), await server.auditHead()];
    const p = expectProblem(await server.call(caller, "POST", path, opts), status);
    if (at) {
      expect(p.errors, JSON.stringify(p)).toEqual([expect.objectContaining({ ...(at.pointer !== undefined ? { pointer: at.pointer } : {}), ...(at.line !== undefined ? { line: at.line } : {}) })]);
      if (at.detail) expect(p.errors?.[0]?.detail).toMatch(at.detail);
    }
    expect(await server.recordCount()).toBe(records);
    expect(await server.auditHead()).toBe(audit);
  });

  it("a body within the small limit is still accepted there", async () => {
    // Without this, the 413s above could come from a server that refuses everything.
    const r = await small.call("agencyCourt", "POST", "/v1/records", { json: [courtRecord("(2026)京0105执9201号")] });
    expect(r.status, r.text).toBe(200);
    expect(r.body.accepted).toBe(1);
  });
});

describe("one invalid record refuses the whole submission", () => {
  const valid = [courtRecord("(2026)京0105执9301号"), courtRecord("(2026)京0105执9302号")];
  const invalid = courtRecord("(2026)京0105执9303号", BAD_ID);

  it("in a JSON array, naming the record by pointer", async () => {
    const before = await h.recordCount();
    const p = expectProblem(await h.call("agencyCourt", "POST", "/v1/records", { json: [valid[0], invalid, valid[1]] }), 422);
    expect(p.errors).toEqual([{ pointer: "/1", detail: expect.stringMatching(/^subject: .*check character/) }]);
    expect(await h.recordCount()).toBe(before);
    // Neither valid record can be read back.
    for (const v of valid) expect((await h.call("agencyCourt", "GET", recordPath(`court:${v.externalId}`))).status).toBe(404);
  });

  it("in NDJSON, naming the record by its line in the body (blank lines counted)", async () => {
    const before = await h.recordCount();
    const body = ndjson(valid[0]) + "\n" + ndjson(invalid, valid[1]);
    const p = expectProblem(await h.call("agencyCourt", "POST", "/v1/records", { raw: body, contentType: "application/x-ndjson" }), 422);
    expect(p.errors).toEqual([{ line: 3, detail: expect.stringMatching(/subject/) }]);
    expect(await h.recordCount()).toBe(before);
  });
});

describe("NDJSON submission", () => {
  const records = [courtRecord("(2026)京0105执9401号"), courtRecord("(2026)京0105执9402号")];
  const body = ndjson(...records);

  it("writes the records and returns a receipt whose decision id is in the audit log", async () => {
    const before = await h.recordCount();
    const r = await h.call("agencyCourt", "POST", "/v1/records", { raw: body, contentType: "application/x-ndjson" });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ decisionId: expect.any(String), accepted: 2, duplicates: 0, corrected: 0, retracted: 0, rejected: [] });
    expect(await h.recordCount()).toBe(before + 2);
    const back = await h.call("agencyCourt", "GET", recordPath(`court:${records[0]?.externalId}`));
    expect(back.status).toBe(200);
    expect(back.body.record).toMatchObject({ source: "court", subject: ADULT, category: "court.judgment.unfulfilled", revision: 1, state: "active" });
    const audit = await h.call("auditor", "GET", `/v1/audit?action=record.accepted&actor=key:${h.keys.agencyCourt.id}`);
    // One entry for the request, listing both records with their subjects.
    const entries = audit.body.entries.filter((e: { decisionId: string }) => e.decisionId === r.body.decisionId);
    expect(entries).toHaveLength(1);
    expect(entries[0].detail.records).toEqual(records.map((x) => ({ record: `court:${x.externalId as string}`, subject: x.subject })));
  });

  it("resubmitted, is all duplicates and writes nothing", async () => {
    const [records0, audit0] = [await h.recordCount(), await h.auditHead()];
    const r = await h.call("agencyCourt", "POST", "/v1/records", { raw: body, contentType: "application/x-ndjson" });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ accepted: 0, duplicates: 2, corrected: 0, retracted: 0, rejected: [] });
    expect(await h.recordCount()).toBe(records0);
    expect(await h.auditHead()).toBe(audit0);
  });
});
