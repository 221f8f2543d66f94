// Record streams: rates files as users write them, and what the generator does with categories it has no model for.
import { describe, expect, it } from "vitest";
import { parseRecordInput } from "../../../src/core/record-input.js";
import { synthesize } from "../../../src/core/synth/city.js";
import { parsePlaces, type Place } from "../../../src/core/synth/places.js";
import { defaultRates, MODELS, Numbering, parseRates, planCity } from "../../../src/core/synth/streams.js";
import { instant, rulesetOf, shippedRuleset } from "../fixtures.js";

const ruleset = shippedRuleset();
const AT = instant("2026-11-23T12:00:00+08:00");
const beijing = parsePlaces("beijing") as Place[];

describe("parseRates", () => {
  it("accepts a number (the person rate) or any of the rate fields, per category", () => {
    const r = parseRates({ "court.judgment.unfulfilled": 0.01, "civic.volunteering": { person: 0.2, minor: 0.5, everywhere: true } }, ruleset);
    expect(r).toEqual({ "court.judgment.unfulfilled": 0.01, "civic.volunteering": { person: 0.2, minor: 0.5, everywhere: true } });
    const plan = planCity(ruleset, beijing, r as Exclude<typeof r, string>);
    expect(plan.rates["court.judgment.unfulfilled"]).toEqual({ ...defaultRates()["court.judgment.unfulfilled"], person: 0.01 });
    expect(plan.personStreams[0]?.map((s) => s.category)).toContain("civic.volunteering");
  });

  it("names the category and field at fault", () => {
    expect(parseRates({ "court.judgment.unfulfilled": -1 }, ruleset)).toMatch(/^court\.judgment\.unfulfilled: /);
    expect(parseRates({ "court.judgment.unfulfilled": { persons: 1 } }, ruleset)).toMatch(/unknown field persons/);
    expect(parseRates({ "court.judgment.unfulfilled": { resolved: 2 } }, ruleset)).toMatch(/^court\.judgment\.unfulfilled\.resolved: /);
    expect(parseRates({ "court.judgement.unfulfilled": 1 }, ruleset)).toMatch(/court\.judgement\.unfulfilled: not a category of the active rulebook/);
    expect(parseRates({ "court.judgment.fulfilled": 1 }, ruleset)).toMatch(/follow-up of court\.judgment\.unfulfilled; set "resolved"/);
    expect(parseRates([1], ruleset)).toMatch(/rates: /);
  });
});

describe("planCity", () => {
  it("plans Beijing's people with court and tax records, its enterprises also with market regulation", () => {
    const plan = planCity(ruleset, beijing);
    expect(plan.personStreams.every((ss) => ss.map((s) => s.category).join() === "court.judgment.unfulfilled,tax.arrears.exit-control")).toBe(true);
    expect(plan.enterpriseStreams[0]?.map((s) => s.category)).toEqual(["court.judgment.unfulfilled", "market.serious-violation"]);
    expect(plan.personStreams[0]?.[0]?.followUp).toMatchObject({ category: "court.judgment.fulfilled", source: "court" });
    expect(plan.generic).toEqual([]);
  });

  it("has a model for every category of the shipped rulebooks", () => {
    const modelled = new Set(MODELS.flatMap((m) => [m.category, ...(m.followUp ? [m.followUp.category] : [])]));
    expect([...ruleset.categories.keys()].filter((c) => !modelled.has(c))).toEqual([]);
  });

  it("generates categories it does not know from their declaration, when a rate is given", () => {
    const custom = rulesetOf(`
id: test-national
title: Test
version: "1"
legalBasis: Test Basic Law, Art. 1
scoring: { base: 1000, min: 0, max: 2000 }
sources:
  - id: library
    categories:
      - id: library.overdue
        attributes:
          ticket: { type: string, required: true }
          days: { type: integer, required: true }
          fine: { type: number }
          kind: { type: string, enum: [book, disc] }
          repeat: { type: boolean }
  - id: court
    categories:
      - id: court.judgment.unfulfilled
        attributes:
          caseNumber: { type: string, required: true }
rules:
  - id: overdue
    category: library.overdue
    effects: [{ points: -1, duration: P1Y }]
    legalBasis: Test Library Act, Art. 2
`);
    const plan = planCity(custom, beijing, { "library.overdue": { person: 0.5, enterprise: 0.5 } });
    // court.judgment.unfulfilled no longer declares what the model makes: generic too.
    expect(plan.generic).toEqual(["court.judgment.unfulfilled", "library.overdue"]);
    let n = 0;
    for (const s of synthesize(plan, { people: 300, enterprises: 30, years: 5, seed: 3, at: AT })) {
      for (const r of s.records) {
        const op = parseRecordInput(r, { ruleset: custom, now: AT });
        expect("error" in op ? op.error : "").toBe("");
        expect(r.legalRef).toBe("Test Library Act, Art. 2");
        n++;
      }
    }
    expect(n).toBeGreaterThan(300);
  });
});

describe("Numbering", () => {
  it("counts each series on from its own start", () => {
    const n = new Numbering();
    const a = n.take("2026京0105执");
    expect(n.take("2026京0105执")).toBe(a + 1);
    expect(a).toBeGreaterThanOrEqual(1);
    expect(a).toBeLessThanOrEqual(400);
    const b = n.take("2026京0108执");
    expect(n.take("2026京0108执")).toBe(b + 1);
  });
});
