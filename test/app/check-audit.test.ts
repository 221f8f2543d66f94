// Single checks answered in the same commit share one audit entry, and still every decision is found by its id and shown to its subject alone.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { accessLog, readAudit, verifyAudit } from "../../src/app/audit.js";
import { foldSingleChecks, loggedChecks } from "../../src/app/check-audit.js";
import { fixedClock } from "../../src/app/clock.js";
import { AppContext } from "../../src/app/context.js";
import { activateRulebooks } from "../../src/app/rulebooks.js";
import { check, checkMany } from "../../src/app/statuses.js";
import type { AuditDraft } from "../../src/core/audit.js";
import { canonicalJson } from "../../src/core/canonical-json.js";
import { openSqliteStore } from "../../src/storage/sqlite/sqlite-store.js";

const NOW = Date.parse("2026-11-23T10:00:00+08:00");
const SHIPPED = ["national", "beijing", "jiangsu", "hangzhou", "rongcheng"].map((n) => ({ file: `rulebooks/${n}.yaml`, text: readFileSync(`rulebooks/${n}.yaml`, "utf8") }));
const ADULT = "110105198506120034";
const CHILD = "110108201603150044";
const OTHER = "110101199003070011";

const single = (actor: string, subject: string, i: number, at = 1000): AuditDraft => ({
  actor,
  action: "check",
  subject,
  decisionId: `d${i}`,
  at,
  detail: { measure: "restrict-air-travel", applies: i % 2 === 0, reasons: [] },
});

describe("foldSingleChecks", () => {
  it("folds each key's single checks into one entry in place of its first, keeping each decision's id, subject, instant and outcome", () => {
    const read: AuditDraft = { actor: "cli:op", action: "subject.read", subject: ADULT, decisionId: "r", at: 1000, detail: {} };
    const drafts = [single("key:a", ADULT, 1), read, single("key:b", CHILD, 2), single("key:a", CHILD, 3, 1003), single("key:c", OTHER, 4), single("key:b", ADULT, 5)];
    let n = 0;
    const folded = foldSingleChecks(drafts, () => `g${++n}`);
    expect(folded.map((d) => [d.actor, d.action, d.subject, d.decisionId])).toEqual([
      ["key:a", "check", null, "g1"],
      ["cli:op", "subject.read", ADULT, "r"],
      ["key:b", "check", null, "g2"],
      ["key:c", "check", OTHER, "d4"],
    ]);
    expect(folded[0]?.detail).toEqual({
      subjects: [ADULT, CHILD],
      checks: [
        { decisionId: "d1", subject: ADULT, measure: "restrict-air-travel", applies: false, reasons: [] },
        { decisionId: "d3", subject: CHILD, at: 1003, measure: "restrict-air-travel", applies: false, reasons: [] },
      ],
    });
    // Written in canonical order already, so that hashing the entry takes one JSON.stringify.
    expect(JSON.stringify(folded[0]?.detail.checks)).toBe(canonicalJson(folded[0]?.detail.checks));
    expect(loggedChecks(folded[2] as AuditDraft)?.map((c) => c.decisionId)).toEqual(["d2", "d5"]);
    expect(loggedChecks(folded[3] as AuditDraft)).toBeUndefined();
  });

  it("leaves a group without two checks of one key as it was", () => {
    const drafts = [single("key:a", ADULT, 1), single("key:b", ADULT, 2)];
    expect(foldSingleChecks(drafts, () => "never")).toEqual(drafts);
  });
});

describe("concurrent single checks through the application", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it("share entries, yet each decision id is logged once, each subject sees only their own, and the chain verifies", async () => {
    const store = openSqliteStore(":memory:");
    cleanups.push(() => store.close());
    const ctx = new AppContext(store, fixedClock(NOW));
    await activateRulebooks(ctx, "test:operator", SHIPPED);
    const asked = [ADULT, CHILD, OTHER].flatMap((subject) => ["key:one", "key:two"].flatMap((actor) => [1, 2, 3].map(() => ({ actor, subject }))));
    const before = (await store.auditEntries({ limit: 100_000 })).length;

    const decisions = await Promise.all(asked.map((a) => check(ctx, a.actor, a.subject, "restrict-air-travel")));
    const batch = await checkMany(ctx, "key:one", [
      { subject: ADULT, measure: "restrict-air-travel" },
      { subject: CHILD, measure: "restrict-air-travel" },
    ]);

    const entries = (await store.auditEntries({ limit: 100_000 })).slice(before);
    // 18 single checks by two keys in one commit: one entry per key; the batch request keeps its own entry.
    expect(entries.map((e) => e.action)).toEqual(["check", "check", "check.batch"]);
    const logged = entries.flatMap((e) => loggedChecks(e) ?? []);
    expect(logged.map((c) => c.decisionId).sort()).toEqual([...decisions, ...batch].map((d) => d.decisionId).sort());

    const auditorSees = await readAudit(ctx, "key:auditor", { action: "check", actor: "key:two", limit: 100 });
    expect(auditorSees.flatMap((e) => loggedChecks(e) ?? []).map((c) => c.subject).sort()).toEqual(asked.filter((a) => a.actor === "key:two").map((a) => a.subject).sort());

    for (const subject of [ADULT, CHILD, OTHER]) {
      const log = (await accessLog(ctx, "key:subject", subject, 0, 100)).filter((e) => e.action === "check");
      const mine = [...decisions, ...batch].filter((d) => d.subject === subject).map((d) => d.decisionId);
      expect(log.map((e) => e.decisionId).sort()).toEqual(mine.sort());
      expect(log.every((e) => e.at === NOW && e.detail.measure === "restrict-air-travel" && !("subject" in e.detail))).toBe(true);
    }
    expect((await verifyAudit(ctx)).ok).toBe(true);
  });
});
