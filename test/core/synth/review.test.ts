// The synthetic review office: approvals a week after each record whose list entry waits for sign-off, none in the future.
import { describe, expect, it } from "vitest";
import { NO_CASE, entryId, evaluate } from "../../../src/core/evaluate.js";
import { SYNTHETIC_SIGN_OFF_DELAY, syntheticApprovals } from "../../../src/core/synth/review.js";
import { parseDuration, type Duration } from "../../../src/core/time.js";
import { instant, iso, person, record, shippedRuleset } from "../fixtures.js";

const ruleset = shippedRuleset();
const debtor = person("1980-05-01", "110105");
const judgment = (occurredAt: string, n: number) =>
  record({ category: "court.judgment.unfulfilled", source: "court", externalId: `u${n}`, occurredAt, attributes: { caseNumber: `(2026)京0105执${n}号`, ground: 1 } });
const volunteering = record({ category: "civic.volunteering", source: "volunteer-registry", occurredAt: "2026-01-01", attributes: { hours: 120 } });

describe("syntheticApprovals", () => {
  it("approves each entry awaiting sign-off seven days after its record", () => {
    const records = [judgment("2026-01-10", 1), judgment("2026-02-10", 2), volunteering];
    const unreviewed = evaluate(ruleset, debtor, records, instant("2026-06-01")).status;
    const approvals = syntheticApprovals(unreviewed);
    expect(SYNTHETIC_SIGN_OFF_DELAY.text).toBe("P7D");
    expect([...approvals]).toEqual([
      [entryId("court:u1", "debtor-refuses-despite-ability", "dishonest-judgment-debtors"), { approved: true, at: instant("2026-01-17") }],
      [entryId("court:u2", "debtor-refuses-despite-ability", "dishonest-judgment-debtors"), { approved: true, at: instant("2026-02-17") }],
    ]);
    const reviewed = evaluate(ruleset, debtor, records, instant("2026-06-01"), { ...NO_CASE, signOffs: approvals }).status;
    expect(reviewed.awaitingSignOff).toEqual([]);
    expect(reviewed.lists).toEqual([expect.objectContaining({ list: "dishonest-judgment-debtors", since: iso("2026-01-17"), until: iso("2031-02-10") })]);
  });

  it("decides nothing after the status's instant: the last week's entries still wait", () => {
    const records = [judgment("2026-05-28", 3)];
    const at = instant("2026-06-01");
    const unreviewed = evaluate(ruleset, debtor, records, at).status;
    expect(syntheticApprovals(unreviewed).size).toBe(0);
    expect(syntheticApprovals(evaluate(ruleset, debtor, records, instant("2026-06-04")).status).size).toBe(1);
    // A shorter delay decides sooner.
    expect(syntheticApprovals(unreviewed, parseDuration("P1D") as Duration).get(unreviewed.awaitingSignOff[0]?.entry as string)).toEqual({ approved: true, at: instant("2026-05-29") });
  });

  it("approves nothing for a subject without entries awaiting sign-off", () => {
    expect(syntheticApprovals(evaluate(ruleset, debtor, [volunteering], instant("2026-06-01")).status).size).toBe(0);
    expect(syntheticApprovals(evaluate(ruleset, debtor, [], instant("2026-06-01")).status).size).toBe(0);
  });
});
