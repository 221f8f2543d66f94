// Tests for severity tiers: what each tier allows a list, as the linter and the evaluator rely on it.
import { describe, expect, it } from "vitest";
import { TIERS, TIER_RULES, tierRank } from "../../src/core/tiers.js";
import { durationLonger, type Duration } from "../../src/core/time.js";

describe("TIER_RULES", () => {
  it("ends minor items by themselves within three months and never publishes them, nor restores them", () => {
    expect(TIER_RULES.minor.maxTerm?.text).toBe("P3M");
    expect(TIER_RULES.minor.publication).toBeNull();
    expect(TIER_RULES.minor.restorationAfter).toBeNull();
  });

  it("publishes moderate items three months to a year, restorable after three months", () => {
    expect(TIER_RULES.moderate.maxTerm).toBeNull();
    expect([TIER_RULES.moderate.publication?.min.text, TIER_RULES.moderate.publication?.max.text]).toEqual(["P3M", "P1Y"]);
    expect(TIER_RULES.moderate.restorationAfter?.text).toBe("P3M");
  });

  it("publishes serious items one to three years, restorable after a year", () => {
    expect(TIER_RULES.serious.maxTerm).toBeNull();
    expect([TIER_RULES.serious.publication?.min.text, TIER_RULES.serious.publication?.max.text]).toEqual(["P1Y", "P3Y"]);
    expect(TIER_RULES.serious.restorationAfter?.text).toBe("P1Y");
  });

  it("binds a more severe tier at least as long: publication bounds and restoration floors grow with the rank", () => {
    const { moderate, serious } = TIER_RULES;
    const longer = (a: Duration | null | undefined, b: Duration | null | undefined) => durationLonger(a as Duration, b as Duration);
    expect(longer(serious.publication?.min, moderate.publication?.min)).toBe(true);
    expect(longer(serious.publication?.max, moderate.publication?.max)).toBe(true);
    expect(longer(serious.restorationAfter, moderate.restorationAfter)).toBe(true);
    for (const t of TIERS) {
      const p = TIER_RULES[t].publication;
      if (p) expect(durationLonger(p.min, p.max)).toBe(false);
    }
  });
});

describe("tierRank", () => {
  it("orders minor < moderate < serious", () => {
    expect(TIERS.map(tierRank)).toEqual([0, 1, 2]);
    expect(tierRank("minor")).toBeLessThan(tierRank("serious"));
  });
});
