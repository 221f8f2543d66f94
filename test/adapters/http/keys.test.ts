// API keys over the API: an admin creates one, it works at once, and once revoked its next request is refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADULT, expectProblem, startServer, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startServer();
});
afterAll(async () => {
  await h.close();
});

describe("revoking a key", () => {
  it("refuses the key's next request with 401", async () => {
    const created = await h.call("admin", "POST", "/v1/keys", { json: { role: "enforcer", measures: ["restrict-air-travel"], label: "Air China gate 12" } });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ role: "enforcer", measures: ["restrict-air-travel"], label: "Air China gate 12", revokedAt: null, createdBy: `key:${h.keys.admin.id}` });
    const key = { key: created.body.key as string };
    expect((await h.call(key, "GET", `/v1/checks/${ADULT}/restrict-air-travel`)).status).toBe(200);

    const revoked = await h.call("admin", "DELETE", `/v1/keys/${created.body.id}`);
    expect(revoked.status, revoked.text).toBe(204);

    const after = await h.call(key, "GET", `/v1/checks/${ADULT}/restrict-air-travel`);
    expectProblem(after, 401);
    expect(after.headers.get("www-authenticate")).toMatch(/invalid_token/);
    // Not even the public routes: a revoked key is not silently treated as no key.
    expectProblem(await h.call(key, "GET", "/v1/me"), 401);

    const listed = await h.call("admin", "GET", "/v1/keys");
    expect(listed.body.keys.find((k: { id: string }) => k.id === created.body.id)).toMatchObject({ revokedAt: expect.any(String) });
    // Secrets are shown once, at creation, and never listed.
    expect(listed.text).not.toContain(created.body.key);
  });

  it("leaves the other keys working", async () => {
    expect((await h.call("enforcer", "GET", `/v1/checks/${ADULT}/restrict-air-travel`)).status).toBe(200);
  });

  it("twice is a 409 conflict, and an unknown id is 404", async () => {
    const created = await h.call("admin", "POST", "/v1/keys", { json: { role: "reviewer" } });
    expect((await h.call("admin", "DELETE", `/v1/keys/${created.body.id}`)).status).toBe(204);
    expectProblem(await h.call("admin", "DELETE", `/v1/keys/${created.body.id}`), 409);
    expectProblem(await h.call("admin", "DELETE", "/v1/keys/0000000000000000"), 404);
  });

  it("refuses a key whose scope does not fit its role, creating nothing", async () => {
    const before = (await h.call("admin", "GET", "/v1/keys")).body.keys.length;
    expectProblem(await h.call("admin", "POST", "/v1/keys", { json: { role: "enforcer", measures: ["restrict-air-travel"], source: "court" } }), 400);
    expectProblem(await h.call("admin", "POST", "/v1/keys", { json: { role: "enforcer", measures: ["no-such-measure"] } }), 400);
    expect((await h.call("admin", "GET", "/v1/keys")).body.keys.length).toBe(before);
  });
});
