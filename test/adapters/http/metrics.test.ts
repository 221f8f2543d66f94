// Prometheus metrics: requests by route and status with their latency, checks by measure and outcome, and the size of each public list.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADULT, CHILD, courtRecord, startServer, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startServer();
});
afterAll(async () => {
  await h.close();
});

/** The value of one sample in Prometheus text, or undefined when it is absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v) && Object.keys(got).length === Object.keys(labels).length) return Number(m[3]);
  }
  return undefined;
}

async function scrape() {
  const r = await h.call("public", "GET", "/metrics");
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toMatch(/^text\/plain/);
  return r.text;
}

describe("/metrics", () => {
  it("counts checks by measure and outcome", async () => {
    expect(sample(await scrape(), "social_credit_checks_total", { measure: "restrict-air-travel", applies: "true" })).toBeUndefined();
    await h.call("enforcer", "GET", `/v1/checks/${ADULT}/restrict-air-travel`);
    await h.call("enforcer", "POST", "/v1/checks", { json: { checks: [{ subject: ADULT, measure: "restrict-air-travel" }, { subject: CHILD, measure: "restrict-air-travel" }] } });
    const text = await scrape();
    expect(sample(text, "social_credit_checks_total", { measure: "restrict-air-travel", applies: "true" })).toBe(2);
    expect(sample(text, "social_credit_checks_total", { measure: "restrict-air-travel", applies: "false" })).toBe(1);
  });

  it("shows the size of the debtor list", async () => {
    // Of the example subjects only the adult is on it: the child's judgment puts no child on a list.
    expect(sample(await scrape(), "social_credit_list_size", { list: "dishonest-judgment-debtors" })).toBe(1);
  });

  it("shows the due-process backlogs: objections by overdue, sign-offs waiting, notices undelivered", async () => {
    const text = await scrape();
    // The harness signed off the examples' entries; no objection was filed, and no webhook delivers the notices made.
    expect(sample(text, "social_credit_objections_open", { overdue: "false" })).toBe(0);
    expect(sample(text, "social_credit_objections_open", { overdue: "true" })).toBe(0);
    expect(sample(text, "social_credit_sign_offs_pending", {})).toBe(0);
    expect(sample(text, "social_credit_notices_undelivered", {})).toBe(await h.ctx.store.outboxBacklog());
    expect(await h.ctx.store.outboxBacklog()).toBeGreaterThan(0);
  });

  it("counts records received by source and outcome", async () => {
    await h.call("agencyCourt", "POST", "/v1/records", { json: [courtRecord("(2026)京0105执9501号")] });
    expect(sample(await scrape(), "social_credit_records_total", { source: "court", outcome: "accepted" })).toBe(1);
  });

  it("counts requests by method, route and status, with their latency, unmatched paths apart", async () => {
    const route = "/v1/checks/:subject/:measure";
    const before = await scrape();
    const count = (text: string, status: string) => sample(text, "social_credit_http_requests_total", { method: "GET", route, status }) ?? 0;
    const timed = (text: string) => sample(text, "social_credit_http_request_duration_seconds_count", { method: "GET", route }) ?? 0;
    await h.call("enforcer", "GET", `/v1/checks/${ADULT}/restrict-air-travel`);
    await h.call("enforcer", "GET", `/v1/checks/${ADULT}/restrict-air-travel`);
    await h.call("public", "GET", `/v1/checks/${ADULT}/restrict-air-travel`);
    await h.call("public", "GET", "/v1/no-such-route");
    const after = await scrape();
    expect(count(after, "200") - count(before, "200")).toBe(2);
    expect(count(after, "401") - count(before, "401")).toBe(1);
    expect(timed(after) - timed(before)).toBe(3);
    expect(sample(after, "social_credit_http_request_duration_seconds_bucket", { method: "GET", route, le: "+Inf" })).toBe(timed(after));
    // Buckets count the requests at or under each bound, so they never fall from one bound to the next.
    const buckets = ["0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "1", "5", "+Inf"].map((le) => sample(after, "social_credit_http_request_duration_seconds_bucket", { method: "GET", route, le }));
    expect(buckets.every((n) => n !== undefined)).toBe(true);
    expect(buckets).toEqual([...(buckets as number[])].sort((a, b) => a - b));
    expect(sample(after, "social_credit_http_request_duration_seconds_sum", { method: "GET", route })).toBeGreaterThan(0);
    expect(sample(after, "social_credit_http_requests_total", { method: "GET", route: "unmatched", status: "404" })).toBeGreaterThanOrEqual(1);
  });
});
