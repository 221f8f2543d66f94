// A subject's own file: they read their status, and their access log shows who checked them, under what label and role.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADULT, KEY_SPECS, startServer, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startServer();
});
afterAll(async () => {
  await h.close();
});

interface Access {
  seq: number;
  action: string;
  decisionId: string;
  actor: { id: string; role: string; label: string | null; source: string | null };
}

describe("a subject's own file", () => {
  it("shows the subject their lists and measures with the records and law behind them", async () => {
    const r = await h.call("subjectAdult", "GET", `/v1/subjects/${ADULT}`);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ subject: ADULT, kind: "person", minor: false, score: expect.any(Number), decisionId: expect.any(String) });
    expect(r.body.lists).toEqual([expect.objectContaining({ list: "dishonest-judgment-debtors", records: ["court:(2026)京0105执1234号"] })]);
    expect(r.body.measures.map((m: { measure: string }) => m.measure)).toContain("restrict-air-travel");
    expect(r.body.effects.length).toBeGreaterThan(0);
  });

  it("lists the enforcer's check in the access log with the key's label and role", async () => {
    const check = await h.call("enforcer", "GET", `/v1/checks/${ADULT}/restrict-air-travel`);
    expect(check.status).toBe(200);
    const r = await h.call("subjectAdult", "GET", `/v1/subjects/${ADULT}/access-log?limit=1000`);
    expect(r.status, r.text).toBe(200);
    const entries = r.body.entries as Access[];
    const seen = entries.find((e) => e.decisionId === check.body.decisionId);
    expect(seen).toMatchObject({ action: "check", actor: { id: `key:${h.keys.enforcer.id}`, role: "enforcer", label: KEY_SPECS.enforcer.label, source: null } });
    // The subject's own read of the file is there too, oldest first.
    const ownRead = entries.findIndex((e) => e.action === "subject.read" && e.actor.id === `key:${h.keys.subjectAdult.id}`);
    expect(ownRead).toBeGreaterThanOrEqual(0);
    expect(ownRead).toBeLessThan(entries.indexOf(seen as Access));
    expect(entries.map((e) => e.seq)).toEqual([...entries.map((e) => e.seq)].sort((a, b) => a - b));
  });

  it("pages the access log with after and next", async () => {
    const first = await h.call("subjectAdult", "GET", `/v1/subjects/${ADULT}/access-log?limit=1`);
    expect(first.body.entries).toHaveLength(1);
    expect(first.body.next).toBe(first.body.entries[0].seq);
    const second = await h.call("subjectAdult", "GET", `/v1/subjects/${ADULT}/access-log?limit=1&after=${first.body.next}`);
    expect(second.body.entries[0].seq).toBeGreaterThan(first.body.next);
  });
});
