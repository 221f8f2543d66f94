// Starts the real HTTP server on a loopback port over an in-memory store, with the shipped rulebooks active, the example records imported and one key per role.
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { buildServer, type ServerOptions } from "../../../src/adapters/http/server.js";
import type { Api } from "../../../src/adapters/http/api.js";
import { fixedClock, type Clock } from "../../../src/app/clock.js";
import { AppContext } from "../../../src/app/context.js";
import { importRecords, type InputLine } from "../../../src/app/ingest.js";
import { createKey, type KeySpec } from "../../../src/app/keys.js";
import { decideSignOff, listSignOffs } from "../../../src/app/sign-offs.js";
import { activateRulebooks } from "../../../src/app/rulebooks.js";
import { openSqliteStore } from "../../../src/storage/sqlite/sqlite-store.js";
import type { Store } from "../../../src/storage/store.js";

/** The instant every server runs at: the example records are in force then. */
export const NOW = Date.parse("2026-11-23T12:00:00+08:00");

/** An adult in Beijing on the list of dishonest judgment debtors (examples/records.ndjson, line 1). */
export const ADULT = "110105198506120034";
/** A ten-year-old with the same judgment: measures never bind a child. */
export const CHILD = "110108201603150044";
/** A Jiangsu resident with a defamation judgment and a tax exit control. */
export const JIANGSU = "320102199001010053";
/** A Beijing enterprise with a serious market violation. */
export const ENTERPRISE = "91110105MA01ABCD26";
/** The mistyped ID of examples/records.ndjson, line 3: its check character is wrong. */
export const BAD_ID = "110105198506120035";

/** The court's record about ADULT, by its stored id (source:externalId). */
export const ADULT_RECORD = "court:(2026)京0105执1234号";

/** The operator that set the data up, as the audit log names it. */
export const OPERATOR = "test:http";

export const SHIPPED = ["national", "beijing", "jiangsu", "hangzhou", "rongcheng"].map((n) => ({ file: `rulebooks/${n}.yaml`, text: readFileSync(`rulebooks/${n}.yaml`, "utf8") }));

/** The keys every server starts with, by who holds them. */
export const KEY_SPECS = {
  agencyCourt: { role: "agency", source: "court", label: "Beijing Dongcheng court" },
  agencyTax: { role: "agency", source: "tax", label: "Jiangsu tax bureau" },
  enforcer: { role: "enforcer", measures: ["restrict-air-travel"], label: "China Eastern check-in" },
  reviewer: { role: "reviewer", label: "credit office reviewer" },
  auditor: { role: "auditor", label: "audit office" },
  admin: { role: "admin", label: "operator" },
  subjectAdult: { role: "subject", subject: ADULT, label: "the adult debtor" },
  subjectOther: { role: "subject", subject: JIANGSU, label: "the Jiangsu resident" },
} as const satisfies Record<string, KeySpec>;

export type Holder = keyof typeof KEY_SPECS;
/** A key holder, or the public (no Authorization header). */
export type Caller = Holder | "public";

export interface Reply {
  status: number;
  headers: Headers;
  /** The body parsed as JSON when the content type is JSON, else its text. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- responses are inspected field by field
  text: string;
}

export interface CallOptions {
  /** Sent as JSON with content-type application/json. */
  json?: unknown;
  /** Sent as is, with the content type given (or none). */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface Harness {
  app: Api;
  ctx: AppContext;
  base: string;
  keys: Record<Holder, { id: string; key: string }>;
  /** One request through the network, as a key holder, the public, or with an explicit bearer key. */
  call(caller: Caller | { key: string }, method: string, path: string, opts?: CallOptions): Promise<Reply>;
  /** How many audit entries exist, read over the API (GET /readyz). */
  auditHead(): Promise<number>;
  /** How many records are stored, read from the store (no endpoint counts them all). */
  recordCount(): Promise<number>;
  close(): Promise<void>;
}

async function* linesOf(path: string): AsyncGenerator<InputLine> {
  const lines = readFileSync(path, "utf8").split("\n");
  for (const [i, raw] of lines.entries()) {
    if (raw.trim() === "") continue;
    try {
      yield { line: i + 1, value: JSON.parse(raw) as unknown, raw };
    } catch (e) {
      yield { line: i + 1, error: (e as Error).message, raw };
    }
  }
}

/** What a test may change about the set-up. */
export interface HarnessOptions extends ServerOptions {
  /** The clock the system reads (default: stopped at NOW). */
  clock?: Clock;
  /**
   * Whether a reviewer signs off the example records' serious list entries before the server starts (default true,
   * so that the adult debtor is listed); false leaves them waiting, as they are after an agency's submission.
   */
  signOff?: boolean;
  /** The store to serve from (default: a fresh in-memory SQLite store); it must be empty. */
  store?: Store;
}

/** A server listening on 127.0.0.1 on a free port, set up as described above. */
export async function startServer(options: HarnessOptions = {}): Promise<Harness> {
  const { clock = fixedClock(NOW), signOff = true, store, ...serverOptions } = options;
  const ctx = new AppContext(store ?? openSqliteStore(":memory:"), clock);
  await activateRulebooks(ctx, OPERATOR, SHIPPED);
  const receipt = await importRecords(ctx, OPERATOR, linesOf("examples/records.ndjson"));
  // The example file holds one mistyped ID on purpose; anything else rejected means the fixture drifted.
  expect(receipt.rejected.map((r) => r.line)).toEqual([3]);
  if (signOff) {
    for (const s of await listSignOffs(ctx, { state: "pending", limit: 1000 })) {
      await decideSignOff(ctx, OPERATOR, s.entry, { approve: true, reasons: "the judgment is final and the ground is met" });
    }
  }

  const keys = {} as Record<Holder, { id: string; key: string }>;
  for (const [holder, spec] of Object.entries(KEY_SPECS)) {
    const { id, key } = await createKey(ctx, OPERATOR, spec);
    keys[holder as Holder] = { id, key };
  }

  // No periodic sweep: the clock is fixed, and a timer would outlive nothing but add noise.
  const app = await buildServer(ctx, { background: { sweepEveryMs: 0 }, ...serverOptions });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error(`unexpected server address ${String(address)}`);
  const base = `http://127.0.0.1:${address.port}`;

  const call: Harness["call"] = async (caller, method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    const key = typeof caller === "object" ? caller.key : caller === "public" ? undefined : keys[caller].key;
    if (key !== undefined) headers.authorization = `Bearer ${key}`;
    let body: string | undefined;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers["content-type"] = opts.contentType ?? "application/json";
    } else if (opts.raw !== undefined) {
      body = opts.raw;
      if (opts.contentType !== undefined) headers["content-type"] = opts.contentType;
    }
    const res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    const type = res.headers.get("content-type") ?? "";
    return { status: res.status, headers: res.headers, text, body: /json/.test(type) && text !== "" ? JSON.parse(text) : text };
  };

  return {
    app,
    ctx,
    base,
    keys,
    call,
    async auditHead() {
      const r = await call("public", "GET", "/readyz");
      expect(r.status).toBe(200);
      return r.body.auditEntries as number;
    },
    async recordCount() {
      return (await ctx.store.counts()).records;
    },
    async close() {
      await app.close();
      await ctx.store.close();
    },
  };
}

/** Asserts that a reply is an RFC 9457 problem with the given status, and returns its body. */
export function expectProblem(reply: Reply, status: number) {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(reply.body).toMatchObject({ type: expect.any(String), title: expect.any(String), status, detail: expect.any(String) });
  expect(reply.body.detail).not.toBe("");
  return reply.body as { type: string; title: string; status: number; detail: string; errors?: { pointer?: string; line?: number; detail: string }[] };
}

/** The path of a record by its stored id. */
export const recordPath = (id: string) => `/v1/records/${encodeURIComponent(id)}`;

/** A court record about ADULT that examples/records.ndjson does not hold. */
export function courtRecord(externalId: string, subject = ADULT) {
  return {
    source: "court",
    externalId,
    subject,
    category: "court.judgment.unfulfilled",
    occurredAt: "2026-10-01",
    attributes: { caseNumber: externalId, ground: 1 },
    legalRef: "SPC Fa Shi [2017] No. 7, Art. 1(1)",
  };
}
