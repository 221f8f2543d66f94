// Rate limits: each key has its own allowance per minute, and so does each address without a key.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RateLimiter } from "../../../src/adapters/http/rate-limit.js";
import { expectProblem, startServer, type Caller, type Harness } from "./harness.js";

const PER_KEY = 5;
const ANONYMOUS = 3;

let h: Harness;
beforeAll(async () => {
  h = await startServer({ rateLimit: { perKey: PER_KEY, anonymous: ANONYMOUS } });
});
afterAll(async () => {
  await h.close();
});

async function spend(caller: Caller, n: number) {
  for (let i = 0; i < n; i++) {
    const r = await h.call(caller, "GET", "/v1/me");
    expect(r.status, `request ${i + 1} of ${n}`).toBe(200);
  }
}

describe("rate limits", () => {
  it("refuse a key's request past its allowance with 429 and retry-after", async () => {
    await spend("reviewer", PER_KEY);
    const r = await h.call("reviewer", "GET", "/v1/me");
    const p = expectProblem(r, 429);
    expect(p.detail).toMatch(/key/);
    const retry = Number(r.headers.get("retry-after"));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
  });

  it("tell every answer what is left of the key's allowance and when it starts again, and the allowance itself when a window starts", async () => {
    const first = await h.call("agencyCourt", "GET", "/v1/me");
    const second = await h.call("agencyCourt", "GET", "/v1/me");
    // draft-ietf-httpapi-ratelimit-headers: RateLimit on every answer, RateLimit-Policy with the first of a window.
    expect(first.headers.get("ratelimit-policy")).toBe(`"key";q=${PER_KEY};w=60`);
    expect(second.headers.get("ratelimit-policy")).toBeNull();
    const standing = [first, second].map((r) => /^"key";r=(\d+);t=(\d+)$/.exec(r.headers.get("ratelimit") ?? ""));
    expect(standing.map((m) => m?.[1])).toEqual([String(PER_KEY - 1), String(PER_KEY - 2)]);
    const reset = Number(standing[1]?.[2]);
    expect(reset).toBeGreaterThan(0);
    expect(reset).toBeLessThanOrEqual(60);
  });

  it("state the policy with every refusal, and the address's own policy to callers without a key", async () => {
    const g = await startServer({ rateLimit: { perKey: PER_KEY, anonymous: 1 } });
    try {
      const first = await g.call("public", "GET", "/v1/me");
      expect(first.headers.get("ratelimit")).toMatch(/^"address";r=0;t=\d+$/);
      const refused = await g.call("public", "GET", "/v1/me");
      expectProblem(refused, 429);
      expect(refused.headers.get("ratelimit-policy")).toBe(`"address";q=1;w=60`);
      expect(refused.headers.get("ratelimit")).toMatch(/^"address";r=0;t=\d+$/);
    } finally {
      await g.close();
    }
  });

  it("count each key apart: another key still passes", async () => {
    await spend("auditor", PER_KEY);
  });

  it("count wrong keys against their address, so guessing keys is limited too", async () => {
    // A separate server: the public allowance of the shared one is spent by the next test.
    const g = await startServer({ rateLimit: { perKey: PER_KEY, anonymous: ANONYMOUS } });
    try {
      const guess = { key: `sck_0123456789abcdef_${"A".repeat(43)}` };
      for (let i = 0; i < ANONYMOUS; i++) expectProblem(await g.call(guess, "GET", "/v1/me"), 401);
      expectProblem(await g.call(guess, "GET", "/v1/me"), 429);
    } finally {
      await g.close();
    }
  });

  it("give the public its own, smaller allowance, apart from the keys", async () => {
    await spend("public", ANONYMOUS);
    expectProblem(await h.call("public", "GET", "/v1/me"), 429);
    await spend("admin", 1);
  });
});

describe("RateLimiter", () => {
  it("allows `limit` requests per window, counted from the caller's first, and starts again when it ends", () => {
    let now = 1_000;
    const limiter = new RateLimiter(60_000, () => now);
    expect([1, 2, 3].map(() => limiter.take("a", 2))).toEqual([
      { allowed: true, limit: 2, remaining: 1, resetInMs: 60_000, windowStarted: true },
      { allowed: true, limit: 2, remaining: 0, resetInMs: 60_000, windowStarted: false },
      { allowed: false, limit: 2, remaining: 0, resetInMs: 60_000, windowStarted: false },
    ]);
    now += 30_000;
    expect(limiter.take("b", 2)).toMatchObject({ allowed: true, resetInMs: 60_000 });
    expect(limiter.take("a", 2)).toMatchObject({ allowed: false, resetInMs: 30_000 });
    now += 30_000;
    expect(limiter.take("a", 2)).toEqual({ allowed: true, limit: 2, remaining: 1, resetInMs: 60_000, windowStarted: true });
    expect(limiter.take("b", 2)).toMatchObject({ allowed: true, remaining: 0, resetInMs: 30_000 });
  });

  it("remembers a bounded number of callers, forgetting ended windows first", () => {
    let now = 0;
    const limiter = new RateLimiter(1_000, () => now);
    limiter.take("spent", 1);
    expect(limiter.take("spent", 1).allowed).toBe(false);
    for (let i = 0; i < 20_000; i++) limiter.take(`caller ${i}`, 1);
    // Still within its window: forgotten only as one of the oldest, once ten thousand callers had come after it.
    now = 500;
    expect(limiter.take("spent", 1).allowed).toBe(true);
    now = 2_000;
    for (let i = 0; i < 20_000; i++) expect(limiter.take(`caller ${i}`, 1).allowed).toBe(true);
  });
});
