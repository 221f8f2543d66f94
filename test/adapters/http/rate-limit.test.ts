// Rate limits: each key has its own allowance per minute, and so does each address without a key.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
