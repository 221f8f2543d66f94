// Tests for checks: an enforcer's yes/no on one measure, with reason codes and nothing else of the subject's file.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decide } from "../../src/core/check.js";
import { evaluate, type MeasureApplication, type Status } from "../../src/core/evaluate.js";
import { enterprise, instant, iso, person, record, rulesetOf } from "./fixtures.js";

function statusWith(measures: MeasureApplication[]): Status {
  return {
    subject: "11010519800501001X",
    kind: "person",
    region: "110105",
    jurisdiction: "national",
    at: "2026-03-01T00:00:00.000Z",
    rulesetHash: "abc",
    minor: false,
    score: 900,
    grade: "B",
    lists: [
      {
        list: "dishonest-judgment-debtors",
        name: "List of dishonest judgment debtors",
        kind: "blacklist",
        tier: "serious",
        since: "2026-01-09T16:00:00.000Z",
        until: "2031-01-09T16:00:00.000Z",
        publishedUntil: "2029-01-09T16:00:00.000Z",
        records: ["court:u1"],
        legalBasis: ["Art. 1"],
      },
    ],
    measures,
    awaitingSignOff: [],
    nextChangeAt: "2031-01-09T16:00:00.000Z",
    effects: [],
    excluded: [],
  };
}

const flightBan: MeasureApplication = {
  measure: "restrict-air-travel",
  name: "No flights",
  kind: "sanction",
  tier: "serious",
  trigger: { list: "dishonest-judgment-debtors" },
  since: "2026-01-09T16:00:00.000Z",
  until: "2031-01-09T16:00:00.000Z",
  records: ["court:u1"],
  legalBasis: ["SPC Fa Shi [2015] No. 17, Art. 3(1)", "SPC Fa Shi [2017] No. 7, Art. 1"],
};

const priority: MeasureApplication = {
  measure: "priority-services",
  name: "Priority services",
  kind: "reward",
  tier: null,
  trigger: { grade: "AAA" },
  since: "2026-04-30T16:00:00.000Z",
  until: null,
  records: [],
  legalBasis: ["Rongcheng measures"],
};

describe("decide", () => {
  it("applies a list-triggered measure with the reason code list:<id>, the records and the law", () => {
    const d = decide(statusWith([flightBan, priority]), "restrict-air-travel");
    expect(d).toEqual({
      subject: "11010519800501001X",
      measure: "restrict-air-travel",
      applies: true,
      at: "2026-03-01T00:00:00.000Z",
      reasons: [
        {
          code: "list:dishonest-judgment-debtors",
          list: "dishonest-judgment-debtors",
          since: "2026-01-09T16:00:00.000Z",
          until: "2031-01-09T16:00:00.000Z",
          records: ["court:u1"],
          disputed: [],
          legalBasis: ["SPC Fa Shi [2015] No. 17, Art. 3(1)", "SPC Fa Shi [2017] No. 7, Art. 1"],
        },
      ],
    });
  });

  it("tells the enforcer which of the reason's records are disputed, and still applies the measure", () => {
    const contested: MeasureApplication = { ...flightBan, records: ["court:u1", "court:u2"], disputed: ["court:u2"] };
    const d = decide(statusWith([contested]), "restrict-air-travel");
    expect(d.applies).toBe(true);
    expect(d.reasons.map((r) => [r.records, r.disputed])).toEqual([[["court:u1", "court:u2"], ["court:u2"]]]);
  });

  it("applies a grade-triggered measure with the reason code grade:<id>", () => {
    const d = decide(statusWith([flightBan, priority]), "priority-services");
    expect(d.applies).toBe(true);
    expect(d.reasons).toEqual([
      { code: "grade:AAA", grade: "AAA", since: "2026-04-30T16:00:00.000Z", until: null, records: [], disputed: [], legalBasis: ["Rongcheng measures"] },
    ]);
    expect(d.reasons[0]).not.toHaveProperty("list");
  });

  it("does not apply a measure the status does not carry, even when the subject is on lists", () => {
    for (const measure of ["restrict-high-speed-rail", "priority-services", "", "restrict-air-travel "]) {
      const d = decide(statusWith([flightBan]), measure);
      expect(d).toEqual({ subject: "11010519800501001X", measure, applies: false, at: "2026-03-01T00:00:00.000Z", reasons: [] });
    }
    expect(decide(statusWith([]), "restrict-air-travel").applies).toBe(false);
  });

  it("gives one reason per application of the measure", () => {
    const other: MeasureApplication = { ...flightBan, trigger: { list: "tax-exit-control" }, records: ["tax:n1"] };
    const d = decide(statusWith([flightBan, other]), "restrict-air-travel");
    expect(d.reasons.map((r) => r.code)).toEqual(["list:dishonest-judgment-debtors", "list:tax-exit-control"]);
  });

  it("reveals only the decision and its reasons, never the rest of the file", () => {
    fc.assert(
      fc.property(fc.constantFrom("restrict-air-travel", "priority-services", "other"), (measure) => {
        const d = decide(statusWith([flightBan, priority]), measure);
        expect(Object.keys(d).sort()).toEqual(["applies", "at", "measure", "reasons", "subject"]);
        for (const r of d.reasons) {
          for (const k of Object.keys(r)) expect(["code", "list", "grade", "since", "until", "records", "disputed", "legalBasis"]).toContain(k);
        }
        const text = JSON.stringify(d);
        expect(text).not.toContain("900"); // the score
        expect(text).not.toContain("abc"); // the ruleset hash
        expect(d.applies).toBe(d.reasons.length > 0);
        expect(d.applies).toBe(measure !== "other");
      }),
    );
  });
});

describe("decide on evaluated statuses", () => {
  const rs = rulesetOf(`
id: check-national
title: Check test layer
version: "1"
legalBasis: Test Law
scoring: { base: 100, min: 0, max: 200 }
grades:
  - { id: HIGH, min: 120 }
  - { id: LOW, min: 0 }
sources:
  - id: court
    categories:
      - id: court.debt.unpaid
        attributes:
          caseNumber: { type: string, required: true }
  - id: agency
    categories:
      - id: agency.award
rules:
  - id: debt
    category: court.debt.unpaid
    effects:
      - { list: debtors, duration: P2Y, key: record.attributes.caseNumber }
    legalBasis: Test Law, Art. 2
  - id: award
    category: agency.award
    effects:
      - { points: 30, duration: P1Y }
    legalBasis: Test Law, Art. 3
lists:
  - id: debtors
    name: Debtors
    kind: blacklist
    tier: moderate
    maxTerm: P2Y
    legalBasis: Test Law, Art. 1
measures:
  - id: no-flights
    name: No flights
    kind: sanction
    trigger: { list: debtors }
    target: subject
    subjects: [person]
    enforcers: [airline]
    legalBasis: Test Law, Art. 4
  - id: priority
    name: Priority
    kind: reward
    trigger: { grades: [HIGH] }
    target: subject
    enforcers: [public-service-counter]
    legalBasis: Test Law, Art. 5
`);
  const adult = person("1980-05-01");
  const debt = record({ category: "court.debt.unpaid", externalId: "d1", occurredAt: "2026-01-10", attributes: { caseNumber: "c1" } });
  const award = record({ category: "agency.award", externalId: "a1", occurredAt: "2026-01-10" });

  it("answers yes while the list entry is in force, no before and after", () => {
    const at = (t: string | number) => decide(evaluate(rs, adult, [debt], typeof t === "number" ? t : instant(t)).status, "no-flights");
    expect(at("2026-01-09").applies).toBe(false);
    const yes = at("2026-01-10");
    expect(yes.applies).toBe(true);
    expect(yes.at).toBe(iso("2026-01-10"));
    expect(yes.subject).toBe(adult.id);
    expect(yes.reasons).toEqual([
      { code: "list:debtors", list: "debtors", since: iso("2026-01-10"), until: iso("2028-01-10"), records: ["court:d1"], disputed: [], legalBasis: ["Test Law, Art. 4", "Test Law, Art. 1", "Test Law, Art. 2"] },
    ]);
    expect(at(instant("2028-01-10") - 1).applies).toBe(true);
    expect(at("2028-01-10").applies).toBe(false);
  });

  it("marks the reason's record disputed while an objection to it is open", () => {
    const facts = { signOffs: new Map(), restorations: [], disputed: new Set([debt.id]) };
    const d = decide(evaluate(rs, adult, [debt], instant("2026-02-01"), facts).status, "no-flights");
    expect(d.applies).toBe(true);
    expect(d.reasons.map((r) => r.disputed)).toEqual([[debt.id]]);
  });

  it("answers with grade:<id> for a grade-triggered measure, for persons and enterprises", () => {
    for (const subject of [adult, enterprise()]) {
      const d = decide(evaluate(rs, subject, [award], instant("2026-02-01")).status, "priority");
      expect(d.applies).toBe(true);
      expect(d.reasons.map((r) => r.code)).toEqual(["grade:HIGH"]);
      expect(d.reasons[0]).toMatchObject({ grade: "HIGH", since: iso("2026-01-10"), until: iso("2027-01-10"), records: [award.id] });
    }
    expect(decide(evaluate(rs, adult, [], instant("2026-02-01")).status, "priority").applies).toBe(false);
  });

  it("answers no for a measure not meant for the subject's kind, or for a minor", () => {
    expect(decide(evaluate(rs, enterprise(), [debt], instant("2026-02-01")).status, "no-flights").applies).toBe(false);
    const child = person("2015-01-01");
    expect(decide(evaluate(rs, child, [debt, award], instant("2026-02-01")).status, "no-flights").applies).toBe(false);
    expect(decide(evaluate(rs, child, [debt, award], instant("2026-02-01")).status, "priority").applies).toBe(false);
  });
});
