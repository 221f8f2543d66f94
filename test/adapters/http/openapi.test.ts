// The OpenAPI document: valid by an independent validator, version 3.1, every operation named, summarised and with its errors.
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startServer();
});
afterAll(async () => {
  await h.close();
});

interface Operation {
  operationId?: string;
  summary?: string;
  responses?: Record<string, { content?: Record<string, unknown> }>;
}

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];

async function document() {
  const r = await h.call("public", "GET", "/openapi.json");
  expect(r.status, r.text).toBe(200);
  return r.body as { openapi: string; paths: Record<string, Record<string, Operation>> };
}

const operations = (doc: Awaited<ReturnType<typeof document>>) =>
  Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).filter(([m]) => METHODS.includes(m)).map(([m, op]) => ({ name: `${m.toUpperCase()} ${path}`, op })));

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1", async () => {
    const doc = await document();
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("names and summarises every operation, each with a distinct operationId", async () => {
    const ops = operations(await document());
    expect(ops.length).toBeGreaterThan(15);
    const unnamed = ops.filter(({ op }) => !op.operationId || !op.summary).map((o) => o.name);
    expect(unnamed).toEqual([]);
    const ids = ops.map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("documents at least one 4xx response for every operation, as problem+json", async () => {
    // Every route is rate limited, so even the health probes can answer 429.
    const ops = operations(await document());
    const without = ops.filter(({ op }) => !Object.keys(op.responses ?? {}).some((c) => /^4\d\d$/.test(c))).map((o) => o.name);
    expect(without).toEqual([]);
    for (const { name, op } of ops) {
      for (const [code, response] of Object.entries(op.responses ?? {})) {
        if (/^4\d\d$/.test(code)) expect(Object.keys(response.content ?? {}), `${name} ${code}`).toEqual(["application/problem+json"]);
      }
    }
  });

  it("is browsable at /docs as HTML", async () => {
    const r = await fetch(`${h.base}/docs`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await r.text()).toMatch(/swagger/i);
  });
});
