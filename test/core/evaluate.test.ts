// Tests for the pure evaluation of a subject's records into a status: examples on inline and shipped rulebooks, and properties.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { decide } from "../../src/core/check.js";
import { NO_CASE, ageAt, entryId, evaluate, type CaseFacts, type Evaluation, type Status } from "../../src/core/evaluate.js";
import type { RecordFact } from "../../src/core/record.js";
import type { Ruleset } from "../../src/core/rulebook/ruleset.js";
import type { Subject } from "../../src/core/subject-id.js";
import { addDuration, anniversary, parseDuration, type Duration, type Instant } from "../../src/core/time.js";
import { DAY_MS, enterprise, instant, iso, person, record, rulesetOf, shippedLayerTexts, type RecordSpec } from "./fixtures.js";

// ---------------------------------------------------------------------------------------------------------------------
// An inline rulebook exercising every mechanism: points, keyed list entries with extension and exit, an unkeyed list,
// grades, list- and grade-triggered measures for persons, enterprises or both, and a local layer that overrides scoring.

const TEST_NATIONAL = `
id: test-national
title: Test national layer
version: "1"
legalBasis: Test Basic Law, Art. 1
scoring: { base: 1000, min: 0, max: 2000 }
grades:
  - { id: A, min: 1050 }
  - { id: B, min: 950 }
  - { id: C, min: 0 }
sources:
  - id: court
    categories:
      - id: court.debt.unpaid
        attributes:
          caseNumber: { type: string, required: true }
          extensionYears: { type: integer, enum: [0, 1, 2, 3] }
      - id: court.debt.paid
        attributes:
          caseNumber: { type: string, required: true }
          partial: { type: boolean }
  - id: agency
    categories:
      - id: agency.fine
        attributes:
          amountYuan: { type: number }
      - id: agency.volunteering
        attributes:
          hours: { type: number, required: true }
      - id: agency.award
rules:
  - id: debt-entry
    category: court.debt.unpaid
    effects:
      - list: debtors
        duration: P2Y
        key: record.attributes.caseNumber
        extension:
          years: "has(record.attributes.extensionYears) ? record.attributes.extensionYears : 0"
          maxYears: 3
      - points: -40
        duration: P2Y
    legalBasis: Test Debt Law, Art. 2
  - id: fine
    category: agency.fine
    effects:
      - { points: -30, duration: P6M }
    legalBasis: Test Fines Law, Art. 3
  - id: big-fine
    category: agency.fine
    when: record.attributes.amountYuan >= 10000.0
    effects:
      - { points: -100, duration: P1Y }
    legalBasis: Test Fines Law, Art. 4
  - id: volunteering
    category: agency.volunteering
    when: record.attributes.hours >= 10.0
    effects:
      - { points: 20, duration: P1M }
    legalBasis: Test Volunteering Law, Art. 5
  - id: senior-volunteering
    category: agency.volunteering
    when: subject.age >= 60 && record.attributes.hours >= 10.0
    effects:
      - { points: 10, duration: P1M }
    legalBasis: Test Volunteering Law, Art. 6
  - id: award
    category: agency.award
    effects:
      - { points: 60, duration: P1Y }
      - { list: honour-roll, duration: P1Y }
    legalBasis: Test Awards Law, Art. 7
lists:
  - id: debtors
    name: Test debtors
    kind: blacklist
    tier: moderate
    maxTerm: P5Y
    exit:
      - category: court.debt.paid
        when: "!(has(record.attributes.partial) && record.attributes.partial)"
        key: record.attributes.caseNumber
        legalBasis: Test Debt Law, Art. 10
    legalBasis: Test Debt Law, Art. 1
  - id: honour-roll
    name: Test honour roll
    kind: redlist
    maxTerm: P1Y
    legalBasis: Test Awards Law, Art. 1
measures:
  - id: no-flights
    name: No flights
    kind: sanction
    trigger: { list: debtors }
    target: subject
    subjects: [person]
    enforcers: [airline]
    legalBasis: Test Consumption Law, Art. 3(1)
  - id: no-procurement
    name: No public procurement
    kind: sanction
    trigger: { list: debtors }
    target: subject
    subjects: [enterprise]
    enforcers: [procurement-office]
    legalBasis: Test Procurement Law, Art. 22
  - id: no-luxury
    name: No luxury purchases
    kind: sanction
    trigger: { list: debtors }
    target: subject
    enforcers: [real-estate-registry]
    legalBasis: Test Consumption Law, Art. 3(3)
  - id: transport-discount
    name: Transport discount
    kind: reward
    trigger: { list: honour-roll }
    target: subject
    subjects: [person]
    enforcers: [public-transport]
    legalBasis: Test Awards Law, Art. 8
  - id: fast-lane
    name: Fast lane at public counters
    kind: reward
    trigger: { grades: [A] }
    target: subject
    enforcers: [public-service-counter]
    legalBasis: Test Incentives Law, Art. 1
  - id: closer-scrutiny
    name: Closer scrutiny
    kind: sanction
    trigger: { grades: [C] }
    tier: minor
    target: subject
    subjects: [person, enterprise]
    enforcers: [public-service-counter]
    legalBasis: Test Incentives Law, Art. 2
`;

const TEST_LOCAL = `
id: test-local
title: Test local layer
version: "1"
parent: test-national
regions: ["44"]
legalBasis: Test Local Regulation
scoring: { base: 100, min: 0, max: 150 }
grades:
  - { id: GOOD, min: 110 }
  - { id: FAIR, min: 60 }
  - { id: POOR, min: 0 }
rules:
  - id: local-fine
    category: agency.fine
    effects:
      - { points: -10, duration: P3M }
    legalBasis: Test Local Regulation, Art. 2
measures:
  - id: local-priority
    name: Local priority services
    kind: reward
    trigger: { grades: [GOOD, FAIR] }
    target: subject
    subjects: [person]
    enforcers: [public-service-counter]
    legalBasis: Test Local Regulation, Art. 3
`;

const RS = rulesetOf(TEST_NATIONAL, TEST_LOCAL);
const NATIONAL_REGION = "110105";
const LOCAL_REGION = "440106";

/** The durations the inline rules give, to check effects against: [rule, kind] -> ISO 8601 duration. */
const RULE_DURATIONS: Record<string, string> = {
  "debt-entry/points": "P2Y",
  "fine/points": "P6M",
  "big-fine/points": "P1Y",
  "volunteering/points": "P1M",
  "senior-volunteering/points": "P1M",
  "award/points": "P1Y",
  "award/list": "P1Y",
  "local-fine/points": "P3M",
};

function ev(ruleset: Ruleset, subject: Subject, records: readonly RecordFact[], at: Instant | string, facts: CaseFacts = NO_CASE): Evaluation {
  return evaluate(ruleset, subject, records, typeof at === "string" ? instant(at) : at, facts);
}

/** Case facts in which a reviewer approved every entry that waits for sign-off at the very instant of its record. */
function approvedOnRecord(ruleset: Ruleset, subject: Subject, records: readonly RecordFact[]): CaseFacts {
  const signOffs = new Map<string, { approved: boolean; at: Instant }>();
  for (const e of evaluate(ruleset, subject, records, 0).status.effects) {
    if (e.state === "awaiting-sign-off") signOffs.set(entryId(e.record, e.rule, e.list as string), { approved: true, at: instant(e.occurredAt) });
  }
  return { ...NO_CASE, signOffs };
}

/** The part of a status that enforcers and subjects act on. */
function decisive(s: Status) {
  return { minor: s.minor, score: s.score, grade: s.grade, lists: s.lists, measures: s.measures, nextChangeAt: s.nextChangeAt };
}

function measureIds(s: Status): string[] {
  return s.measures.map((m) => m.measure);
}

function listIds(s: Status): string[] {
  return s.lists.map((l) => l.list);
}

const debt = (occurredAt: string, caseNumber: string, extra: Record<string, unknown> = {}, externalId?: string) =>
  record({ category: "court.debt.unpaid", occurredAt, attributes: { caseNumber, ...extra }, ...(externalId ? { externalId } : {}) });
const paid = (occurredAt: string, caseNumber: string, externalId?: string, partial?: boolean) =>
  record({ category: "court.debt.paid", occurredAt, attributes: { caseNumber, ...(partial === undefined ? {} : { partial }) }, ...(externalId ? { externalId } : {}) });

describe("evaluate (inline rulebook): examples", () => {
  const adult = person("1980-05-01", NATIONAL_REGION);

  it("gives the base score and its grade to a subject without records", () => {
    const { status, validFrom, validUntil } = ev(RS, adult, [], "2026-01-01");
    expect(status).toMatchObject({
      subject: adult.id,
      kind: "person",
      region: NATIONAL_REGION,
      jurisdiction: "test-national",
      at: iso("2026-01-01"),
      rulesetHash: RS.hash,
      minor: false,
      score: 1000,
      grade: "B",
      lists: [],
      measures: [],
      nextChangeAt: null,
      effects: [],
      excluded: [],
    });
    // The 18th birthday, long past, is the only boundary.
    expect(validFrom).toBe(anniversary("1980-05-01", 18));
    expect(validUntil).toBeNull();
  });

  it("puts a debtor on the list with points, measures for persons only, and the explanation", () => {
    const r = debt("2026-01-10", "c1", {}, "d1");
    const { status } = ev(RS, adult, [r], "2026-03-01");
    expect(status.score).toBe(960);
    expect(status.grade).toBe("B");
    expect(status.lists).toEqual([
      {
        list: "debtors",
        name: "Test debtors",
        kind: "blacklist",
        tier: "moderate",
        since: iso("2026-01-10"),
        until: iso("2028-01-10"),
        // A moderate entry is published one year at most, though it lasts two.
        publishedUntil: iso("2027-01-10"),
        records: ["court:d1"],
        legalBasis: ["Test Debt Law, Art. 1", "Test Debt Law, Art. 2"],
      },
    ]);
    expect(measureIds(status)).toEqual(["no-flights", "no-luxury"]);
    expect(status.measures[0]).toEqual({
      measure: "no-flights",
      name: "No flights",
      kind: "sanction",
      tier: "moderate",
      trigger: { list: "debtors" },
      since: iso("2026-01-10"),
      until: iso("2028-01-10"),
      records: ["court:d1"],
      legalBasis: ["Test Consumption Law, Art. 3(1)", "Test Debt Law, Art. 1", "Test Debt Law, Art. 2"],
    });
    expect(status.effects).toEqual([
      {
        record: "court:d1",
        category: "court.debt.unpaid",
        occurredAt: iso("2026-01-10"),
        rule: "debt-entry",
        kind: "list",
        list: "debtors",
        from: iso("2026-01-10"),
        until: iso("2028-01-10"),
        state: "in-force",
        legalBasis: ["Test Debt Law, Art. 2", "Test Debt Law, Art. 1"],
      },
      {
        record: "court:d1",
        category: "court.debt.unpaid",
        occurredAt: iso("2026-01-10"),
        rule: "debt-entry",
        kind: "points",
        points: -40,
        from: iso("2026-01-10"),
        until: iso("2028-01-10"),
        state: "in-force",
        legalBasis: ["Test Debt Law, Art. 2"],
      },
    ]);
  });

  it("applies to an enterprise only the measures that name enterprises", () => {
    const firm = enterprise(NATIONAL_REGION);
    const { status } = ev(RS, firm, [debt("2026-01-10", "c1")], "2026-03-01");
    expect(status.kind).toBe("enterprise");
    expect(status.minor).toBe(false);
    expect(listIds(status)).toEqual(["debtors"]);
    expect(measureIds(status)).toEqual(["no-luxury", "no-procurement"]);
    expect(decide(status, "no-flights").applies).toBe(false);
  });

  it("marks effects pending before they start and ended after", () => {
    const r = debt("2026-01-10", "c1");
    expect(ev(RS, adult, [r], "2026-01-09").status.effects.map((e) => e.state)).toEqual(["pending", "pending"]);
    expect(ev(RS, adult, [r], "2026-01-10").status.effects.map((e) => e.state)).toEqual(["in-force", "in-force"]);
    expect(ev(RS, adult, [r], "2028-01-10").status.effects.map((e) => e.state)).toEqual(["ended", "ended"]);
    expect(ev(RS, adult, [r], "2026-01-09").status.lists).toEqual([]);
  });

  it("ends a list entry at the exit with the same key, naming it; points run on", () => {
    const entry = debt("2026-01-10", "c1", {}, "d1");
    const exit = paid("2026-06-01", "c1", "p1");
    const before = ev(RS, adult, [entry, exit], "2026-05-31T23:59:59.999+08:00").status;
    expect(listIds(before)).toEqual(["debtors"]);
    expect(before.lists[0]?.until).toBe(iso("2026-06-01"));
    const after = ev(RS, adult, [entry, exit], "2026-06-01").status;
    expect(after.lists).toEqual([]);
    expect(after.measures).toEqual([]);
    expect(after.score).toBe(960);
    const listEffect = after.effects.find((e) => e.kind === "list");
    expect(listEffect).toMatchObject({ until: iso("2026-06-01"), state: "ended", endedBy: { record: "court:p1", legalBasis: "Test Debt Law, Art. 10" } });
    expect(after.effects.find((e) => e.kind === "points")).not.toHaveProperty("endedBy");
  });

  it("does not end an entry at an exit for another key, nor at an exit before the entry", () => {
    const entry = debt("2026-01-10", "c1");
    const other = paid("2026-06-01", "c2");
    const earlier = paid("2026-01-01", "c1");
    const { status } = ev(RS, adult, [entry, other, earlier], "2026-07-01");
    expect(listIds(status)).toEqual(["debtors"]);
    expect(status.lists[0]?.until).toBe(iso("2028-01-10"));
    expect(status.effects.find((e) => e.kind === "list")).not.toHaveProperty("endedBy");
  });

  it("does not end an entry at an exit record its condition refuses (a partial payment)", () => {
    const entry = debt("2026-01-10", "c1");
    expect(listIds(ev(RS, adult, [entry, paid("2026-06-01", "c1", undefined, true)], "2026-07-01").status)).toEqual(["debtors"]);
    expect(ev(RS, adult, [entry, paid("2026-06-01", "c1", undefined, false)], "2026-07-01").status.lists).toEqual([]);
  });

  it("ends nothing at a keyed exit whose record has no key value", () => {
    const rs = rulesetOf(`
id: keyed
title: Keyed exits
version: "1"
legalBasis: Test Law
scoring: { base: 0, min: 0, max: 10 }
sources:
  - id: court
    categories:
      - id: court.debt.unpaid
        attributes: { caseNumber: { type: string, required: true } }
      - id: court.debt.paid
        attributes: { caseNumber: { type: string } }
lists:
  - id: debtors
    name: Debtors
    kind: blacklist
    tier: moderate
    maxTerm: P2Y
    exit:
      - { category: court.debt.paid, key: record.attributes.caseNumber, legalBasis: "Test Law, Art. 10" }
    legalBasis: Test Law, Art. 1
rules:
  - id: debt
    category: court.debt.unpaid
    effects: [{ list: debtors, duration: P2Y, key: record.attributes.caseNumber }]
    legalBasis: Test Law, Art. 2
`);
    const records = [debt("2026-01-10", "A", {}, "u1"), debt("2026-01-10", "B", {}, "u2"), record({ category: "court.debt.paid", occurredAt: "2026-02-01", attributes: {} })];
    const { status } = ev(rs, adult, records, "2026-03-01");
    expect(status.lists.map((l) => l.records)).toEqual([["court:u1", "court:u2"]]);
    expect(status.effects.every((e) => e.endedBy === undefined)).toBe(true);
  });

  it("ends only the entry of the key paid, keeping the others", () => {
    const a = debt("2026-01-10", "c1", {}, "d1");
    const b = debt("2026-02-10", "c2", {}, "d2");
    const { status } = ev(RS, adult, [a, b, paid("2026-03-01", "c1")], "2026-04-01");
    expect(status.lists).toHaveLength(1);
    expect(status.lists[0]?.records).toEqual(["court:d2"]);
    // The stay on the list is one continuous span from the first entry.
    expect(status.lists[0]?.since).toBe(iso("2026-01-10"));
    expect(status.lists[0]?.until).toBe(iso("2028-02-10"));
  });

  it("extends an entry by the decided years, capped by maxYears and the list's maximum term", () => {
    const untilFor = (extra: Record<string, unknown>) =>
      ev(RS, adult, [debt("2026-01-10", "c1", extra)], "2026-02-01").status.lists[0]?.until;
    expect(untilFor({})).toBe(iso("2028-01-10"));
    expect(untilFor({ extensionYears: 0 })).toBe(iso("2028-01-10"));
    expect(untilFor({ extensionYears: 1 })).toBe(iso("2029-01-10"));
    expect(untilFor({ extensionYears: 2 })).toBe(iso("2030-01-10"));
    expect(untilFor({ extensionYears: 3 })).toBe(iso("2031-01-10"));
    // Values the ingestion would refuse are still clamped, never trusted.
    expect(untilFor({ extensionYears: 9 })).toBe(iso("2031-01-10"));
    expect(untilFor({ extensionYears: -4 })).toBe(iso("2028-01-10"));
    expect(untilFor({ extensionYears: "2" })).toBe(iso("2028-01-10"));
  });

  it("caps the extension at maxYears even when the list's term would allow more", () => {
    const rs = rulesetOf(`
id: long
title: Long list
version: "1"
legalBasis: Test Law
scoring: { base: 0, min: 0, max: 10 }
sources:
  - id: court
    categories:
      - id: court.case
        attributes:
          extensionYears: { type: integer }
lists:
  - id: long-list
    name: Long list
    kind: blacklist
    tier: moderate
    maxTerm: P5Y
    legalBasis: Test Law, Art. 1
rules:
  - id: case
    category: court.case
    effects:
      - list: long-list
        duration: P2Y
        extension: { years: record.attributes.extensionYears, maxYears: 1 }
    legalBasis: Test Law, Art. 2
`);
    const until = (extensionYears: unknown) =>
      ev(rs, adult, [record({ category: "court.case", occurredAt: "2026-01-10", attributes: { extensionYears } })], "2026-02-01").status.lists[0]?.until;
    expect(until(0)).toBe(iso("2028-01-10"));
    expect(until(1)).toBe(iso("2029-01-10"));
    expect(until(3)).toBe(iso("2029-01-10"));
    expect(until(1.9)).toBe(iso("2029-01-10"));
    expect(until(0.9)).toBe(iso("2028-01-10"));
  });

  it("cuts an entry at the list's maximum term where calendar months are shorter than the linter assumed", () => {
    // The linter measures P1M from 31 January 2000 (29 days), so P29D passes; from 1 February 2026 P1M is 28 days.
    const rs = rulesetOf(`
id: short
title: Short list
version: "1"
legalBasis: Test Law
scoring: { base: 0, min: 0, max: 10 }
sources:
  - id: agency
    categories:
      - id: agency.event
lists:
  - id: short-list
    name: Short list
    kind: watchlist
    tier: moderate
    maxTerm: P1M
    legalBasis: Test Law, Art. 1
rules:
  - id: event
    category: agency.event
    effects:
      - { list: short-list, duration: P29D }
    legalBasis: Test Law, Art. 2
`);
    const firm = enterprise(NATIONAL_REGION);
    const r = record({ category: "agency.event", occurredAt: "2026-02-01T00:00:00Z" });
    expect(ev(rs, firm, [r], "2026-02-10").status.lists[0]?.until).toBe("2026-03-01T00:00:00.000Z");
    const march = record({ category: "agency.event", occurredAt: "2026-03-01T00:00:00Z" });
    expect(ev(rs, firm, [march], "2026-03-10").status.lists[0]?.until).toBe("2026-03-30T00:00:00.000Z");
  });

  it("scores conditions on attributes and on the subject's age at the time of the record", () => {
    const senior = person("1966-03-10", NATIONAL_REGION);
    const vol = (occurredAt: string, hours: number) => record({ category: "agency.volunteering", occurredAt, attributes: { hours } });
    expect(ev(RS, senior, [vol("2026-03-10", 10)], "2026-03-15").status.score).toBe(1030);
    expect(ev(RS, senior, [vol("2026-03-09T23:59:59+08:00", 10)], "2026-03-15").status.score).toBe(1020);
    expect(ev(RS, senior, [vol("2026-03-10", 9.5)], "2026-03-15").status.score).toBe(1000);
    expect(ageAt("1966-03-10", instant("2026-03-10"))).toBe(60);
    expect(ageAt("1966-03-10", instant("2026-03-10") - 1)).toBe(59);
    // Born on 29 February: of age on 1 March in common years, on 29 February in leap years.
    expect(ageAt("2008-02-29", instant("2026-02-28"))).toBe(17);
    expect(ageAt("2008-02-29", instant("2026-03-01"))).toBe(18);
    expect(ageAt("2008-02-29", instant("2028-02-29"))).toBe(20);
    const fine = (amountYuan?: number) =>
      record({ category: "agency.fine", occurredAt: "2026-01-10", ...(amountYuan === undefined ? {} : { attributes: { amountYuan } }) });
    expect(ev(RS, adult, [fine(20_000)], "2026-02-01").status.score).toBe(870);
    expect(ev(RS, adult, [fine(50)], "2026-02-01").status.score).toBe(970);
    // A condition on a missing attribute is an error in CEL, which counts as not matching.
    expect(ev(RS, adult, [fine()], "2026-02-01").status.score).toBe(970);
  });

  it("applies grade-triggered measures with the span the grade holds over", () => {
    const award = (occurredAt: string) => record({ category: "agency.award", occurredAt });
    const records = [award("2026-01-10"), award("2026-04-10")];
    const { status } = ev(RS, adult, records, "2026-05-01");
    expect(status.score).toBe(1120);
    expect(status.grade).toBe("A");
    const fastLane = status.measures.find((m) => m.measure === "fast-lane");
    // Grade A from the first award (1060) on, until both awards have expired.
    expect(fastLane).toEqual({
      measure: "fast-lane",
      name: "Fast lane at public counters",
      kind: "reward",
      tier: null,
      trigger: { grade: "A" },
      since: iso("2026-01-10"),
      until: iso("2027-04-10"),
      // The reasons are the records and rules of the points in force.
      records: [...new Set(records.map((r) => r.id))],
      legalBasis: ["Test Incentives Law, Art. 1", ...new Set(status.effects.filter((x) => x.kind === "points" && x.state === "in-force").flatMap((x) => x.legalBasis))],
    });
    expect(measureIds(status)).toEqual(["fast-lane", "transport-discount"]);
    const c = ev(RS, adult, [debt("2026-01-10", "c1"), record({ category: "agency.fine", occurredAt: "2026-01-11", attributes: { amountYuan: 20_000 } })], "2026-02-01").status;
    expect(c.score).toBe(830);
    expect(c.grade).toBe("C");
    expect(c.measures.find((m) => m.measure === "closer-scrutiny")).toMatchObject({ tier: "minor", trigger: { grade: "C" }, since: iso("2026-01-11"), until: iso("2027-01-11") });
  });

  it("uses the local layer's scoring, grades and rules in its region, and the national rules too", () => {
    const local = person("1980-05-01", LOCAL_REGION);
    const fine = record({ category: "agency.fine", occurredAt: "2026-01-10", attributes: { amountYuan: 50 } });
    const { status } = ev(RS, local, [fine], "2026-02-01");
    expect(status.jurisdiction).toBe("test-local");
    expect(status.score).toBe(60);
    expect(status.grade).toBe("FAIR");
    expect(status.effects.map((e) => e.rule)).toEqual(["fine", "local-fine"]);
    expect(measureIds(status)).toEqual(["local-priority"]);
    // FAIR (or better) ever since coming of age: 100, 60, then 70 when the local points end, 100 again in July.
    expect(status.measures[0]).toMatchObject({ trigger: { grade: "FAIR" }, since: iso("1998-05-01"), until: null });
    const later = ev(RS, local, [fine], "2026-05-01").status;
    expect(later.score).toBe(70);
    expect(later.measures[0]).toMatchObject({ since: iso("1998-05-01"), until: null });
  });

  it("clamps the score to the scoring range", () => {
    const local = person("1980-05-01", LOCAL_REGION);
    const awards = Array.from({ length: 3 }, (_, i) => record({ category: "agency.award", occurredAt: "2026-01-10", externalId: `aw${i}` }));
    expect(ev(RS, local, awards, "2026-02-01").status.score).toBe(150);
    const debts = Array.from({ length: 4 }, (_, i) => debt("2026-01-10", `c${i}`));
    expect(ev(RS, local, debts, "2026-02-01").status.score).toBe(0);
    expect(ev(RS, local, debts, "2026-02-01").status.grade).toBe("POOR");
  });

  it("says when the status next changes: the earliest boundary after the instant", () => {
    const records = [
      record({ category: "agency.fine", occurredAt: "2026-01-10" }), // ends 2026-07-10
      record({ category: "agency.volunteering", occurredAt: "2026-02-01", attributes: { hours: 12 } }), // ends 2026-03-01
      debt("2026-04-01", "c1"), // starts in the future, ends 2028-04-01
    ];
    const cases: [string, string | null, string | null][] = [
      ["2026-01-20", "2026-01-10", "2026-02-01"],
      ["2026-02-01", "2026-02-01", "2026-03-01"],
      ["2026-02-15", "2026-02-01", "2026-03-01"],
      ["2026-03-15", "2026-03-01", "2026-04-01"],
      ["2026-05-01", "2026-04-01", "2026-07-10"],
      ["2027-01-01", "2026-07-10", "2028-04-01"],
      ["2029-01-01", "2028-04-01", null],
    ];
    for (const [at, from, until] of cases) {
      const { status, validFrom, validUntil } = ev(RS, adult, records, at);
      expect(status.nextChangeAt, at).toBe(until === null ? null : iso(until));
      expect(validUntil, at).toBe(until === null ? null : instant(until));
      expect(validFrom, at).toBe(from === null ? null : instant(from));
    }
  });

  it("keeps minors off lists and measures, and reports their records as excluded", () => {
    const child = person("2016-02-01", NATIONAL_REGION);
    const r = debt("2026-01-10", "c1", {}, "d1");
    const { status } = ev(RS, child, [r], "2026-03-01");
    expect(status).toMatchObject({ minor: true, grade: null, score: 1000, lists: [], measures: [], effects: [] });
    expect(status.excluded).toEqual([{ record: "court:d1", reason: expect.stringContaining("under 18") }]);
    expect(status.nextChangeAt).toBe(iso("2034-02-01"));
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// Properties over random records, subjects and instants.

const T0 = Date.UTC(2016, 0, 1);
const YEAR_MS = 365 * DAY_MS;
const HOUR_MS = 3_600_000;

/** Instants over ten years; half of them on China midnights, so that records often share an instant. */
const occurredAtArb = fc.oneof(
  fc.integer({ min: 0, max: 3650 }).map((d) => T0 + d * DAY_MS - 8 * HOUR_MS),
  fc.integer({ min: 0, max: 10 * YEAR_MS }).map((ms) => T0 + ms),
);
const atArb = fc.oneof(occurredAtArb, fc.integer({ min: T0 - YEAR_MS, max: T0 + 17 * YEAR_MS }));
const caseArb = fc.constantFrom("c1", "c2", "c3");

const specArb: fc.Arbitrary<RecordSpec> = fc.oneof(
  fc.record({
    category: fc.constant("court.debt.unpaid"),
    occurredAt: occurredAtArb,
    attributes: fc.record({ caseNumber: caseArb, extensionYears: fc.constantFrom(0, 1, 2, 3) }, { requiredKeys: ["caseNumber"] }),
  }),
  fc.record({
    category: fc.constant("court.debt.paid"),
    occurredAt: occurredAtArb,
    attributes: fc.record({ caseNumber: caseArb, partial: fc.boolean() }, { requiredKeys: ["caseNumber"] }),
  }),
  fc.record({
    category: fc.constant("agency.fine"),
    occurredAt: occurredAtArb,
    attributes: fc.record({ amountYuan: fc.double({ min: 0, max: 50_000, noNaN: true }) }, { requiredKeys: [] }),
  }),
  fc.record({
    category: fc.constant("agency.volunteering"),
    occurredAt: occurredAtArb,
    attributes: fc.record({ hours: fc.double({ min: 0, max: 40, noNaN: true }) }),
  }),
  fc.record({ category: fc.constant("agency.award"), occurredAt: occurredAtArb }),
);

/** Records with unique ids, built fresh from their specs. */
function recordsOf(specs: readonly RecordSpec[]): RecordFact[] {
  return specs.map((s, i) => record({ ...s, externalId: `e${i}` }));
}

const specsArb = fc.array(specArb, { maxLength: 12 });

const birthDateArb = (fromYear: number, toYear: number) =>
  fc
    .integer({ min: Date.UTC(fromYear, 0, 1) / DAY_MS, max: Date.UTC(toYear, 11, 31) / DAY_MS })
    .map((d) => new Date(d * DAY_MS).toISOString().slice(0, 10));
const regionArb = fc.constantFrom(NATIONAL_REGION, LOCAL_REGION);

const subjectArb: fc.Arbitrary<Subject> = fc.oneof(
  fc.tuple(birthDateArb(1950, 1995), regionArb).map(([b, r]) => person(b, r)),
  // Born so that they come of age inside the window of records.
  fc.tuple(birthDateArb(1998, 2012), regionArb).map(([b, r]) => person(b, r, "002")),
  regionArb.map((r) => enterprise(r)),
);

function scoringOf(ruleset: Ruleset, subject: Subject) {
  return ruleset.jurisdictionFor(subject.region).scoring;
}

/** The score a status's own explanation implies: base plus in-force points, clamped. */
function impliedScore(ruleset: Ruleset, subject: Subject, status: Status): number {
  const { base, min, max } = scoringOf(ruleset, subject);
  const points = status.effects.filter((e) => e.kind === "points" && e.state === "in-force").reduce((s, e) => s + (e.points ?? 0), 0);
  return Math.min(max, Math.max(min, base + points));
}

describe("evaluate (inline rulebook): properties", () => {
  it("counts a person's age at an instant as whole years to the last birthday before it, a 29 February one falling on 1 March in common years", () => {
    const birthDateArb = fc.date({ min: new Date("1930-01-01T00:00:00Z"), max: new Date("2025-12-31T00:00:00Z"), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
    fc.assert(
      fc.property(fc.oneof(birthDateArb, fc.constantFrom("2000-02-29", "2004-02-29", "1996-02-29")), fc.integer({ min: 0, max: 100 * 366 * 24 }), (birthDate, hours) => {
        const at = anniversary(birthDate, 0) + hours * 3_600_000 + (hours % 7) * 60_000;
        const age = ageAt(birthDate, at);
        expect(anniversary(birthDate, age)).toBeLessThanOrEqual(at);
        expect(anniversary(birthDate, age + 1)).toBeGreaterThan(at);
      }),
      { numRuns: 2000 },
    );
  });

  it("(a) does not depend on the order of the records", () => {
    fc.assert(
      fc.property(
        subjectArb,
        specsArb.chain((specs) => fc.tuple(fc.constant(specs), fc.shuffledSubarray(specs.map((_, i) => i), { minLength: specs.length, maxLength: specs.length }))),
        atArb,
        (subject, [specs, order], at) => {
          const records = recordsOf(specs);
          const shuffled = order.map((i) => records[i] as RecordFact);
          expect(evaluate(RS, subject, shuffled, at)).toEqual(evaluate(RS, subject, records, at));
        },
      ),
      { numRuns: 150 },
    );
  });

  it("(b) is deterministic and leaves its inputs untouched", () => {
    fc.assert(
      fc.property(subjectArb, specsArb, atArb, (subject, specs, at) => {
        const records = recordsOf(specs);
        const copy = structuredClone(records);
        const first = evaluate(RS, subject, records, at);
        const second = evaluate(RS, subject, records, at);
        expect(second).toEqual(first);
        expect(records).toEqual(copy);
        expect(JSON.parse(JSON.stringify(first.status))).toEqual(first.status);
      }),
      { numRuns: 100 },
    );
  });

  it("(c) ends every effect at its duration (or its exit), and the score follows the effects in force", () => {
    fc.assert(
      fc.property(subjectArb, specsArb, atArb, (subject, specs, at) => {
        const records = recordsOf(specs);
        const byId = new Map(records.map((r) => [r.id, r] as const));
        const { status } = evaluate(RS, subject, records, at);
        expect(status.score).toBe(impliedScore(RS, subject, status));
        status.effects.forEach((e, i) => {
          const from = Date.parse(e.from);
          const until = Date.parse(e.until);
          const r = byId.get(e.record) as RecordFact;
          expect(from).toBe(r.occurredAt);
          // The natural end: the rule's duration (plus the extension for debtors), cut by an exit.
          const natural =
            e.rule === "debt-entry" && e.kind === "list"
              ? addDuration(from, { years: 2 + Number(r.attributes.extensionYears ?? 0), months: 0, days: 0, text: "" })
              : addDuration(from, parseDuration(RULE_DURATIONS[`${e.rule}/${e.kind}`] as string) as Duration);
          if (e.endedBy) {
            // No restorations are granted here: only an exit record ends an entry early.
            expect(e.endedBy).toHaveProperty("record");
            const exit = byId.get((e.endedBy as { record: string }).record) as RecordFact;
            expect(exit.category).toBe("court.debt.paid");
            expect(exit.attributes.caseNumber).toBe(r.attributes.caseNumber);
            expect(exit.attributes.partial).not.toBe(true);
            expect(until).toBe(exit.occurredAt);
            expect(until).toBeLessThan(natural);
            expect(until).toBeGreaterThanOrEqual(from);
          } else {
            expect(until).toBe(natural);
          }
          if (from >= until) return;
          const justBefore = evaluate(RS, subject, records, until - 1).status;
          const atEnd = evaluate(RS, subject, records, until).status;
          expect(justBefore.effects[i]).toMatchObject({ record: e.record, rule: e.rule, kind: e.kind, state: "in-force" });
          expect(atEnd.effects[i]).toMatchObject({ record: e.record, rule: e.rule, kind: e.kind, state: "ended" });
          expect(justBefore.score).toBe(impliedScore(RS, subject, justBefore));
          expect(atEnd.score).toBe(impliedScore(RS, subject, atEnd));
          if (!atEnd.minor && e.kind === "list") {
            // Still on the list at its end only if another entry of the same list is in force then.
            const others = atEnd.effects.some((o) => o.kind === "list" && o.list === e.list && o.state === "in-force");
            expect(listIds(atEnd).includes(e.list as string)).toBe(others);
          }
        });
      }),
      { numRuns: 60 },
    );
  });

  it("(d) retracting records leaves exactly the status of never having had them", () => {
    fc.assert(
      fc.property(
        subjectArb,
        specsArb.chain((specs) => fc.tuple(fc.constant(specs), fc.array(fc.boolean(), { minLength: specs.length, maxLength: specs.length }))),
        atArb,
        (subject, [specs, keep], at) => {
          const all = recordsOf(specs);
          const retracted = new Set(all.filter((_, i) => !keep[i]).map((r) => r.id));
          const remaining = all.filter((r) => !retracted.has(r.id));
          // Built afresh from the specs of the records kept, as a store that never received the others would.
          const never = specs.map((s, i) => [s, i] as const).filter(([, i]) => keep[i]).map(([s, i]) => record({ ...s, externalId: `e${i}` }));
          const a = evaluate(RS, subject, remaining, at);
          expect(a).toEqual(evaluate(RS, subject, never, at));
          const mentioned = [
            ...a.status.effects.flatMap((e) => [e.record, ...(e.endedBy && "record" in e.endedBy ? [e.endedBy.record] : [])]),
            ...a.status.lists.flatMap((l) => l.records),
            ...a.status.measures.flatMap((m) => m.records),
            ...a.status.excluded.map((x) => x.record),
          ];
          for (const id of mentioned) expect(retracted.has(id)).toBe(false);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("(e) keeps the score within the scoring range, whatever the points", () => {
    const bigPoints = fc.oneof(fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }), fc.constantFrom(-1e12, 1e12, -1, 1, 0));
    const scoringArb = fc
      .tuple(fc.integer({ min: -5000, max: 5000 }), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 5000 }))
      .map(([min, toBase, toMax]) => ({ min, base: min + toBase, max: min + toBase + toMax }));
    const eventsArb = fc.array(
      fc.record({ kind: fc.integer({ min: 0, max: 2 }), occurredAt: occurredAtArb }),
      { maxLength: 15 },
    );
    fc.assert(
      fc.property(scoringArb, fc.array(bigPoints, { minLength: 3, maxLength: 3 }), eventsArb, atArb, (scoring, points, events, at) => {
        const rs = rulesetOf(`
id: big
title: Big points
version: "1"
legalBasis: Test Law
scoring: { base: ${scoring.base}, min: ${scoring.min}, max: ${scoring.max} }
grades:
  - { id: LOW, min: ${scoring.min} }
sources:
  - id: agency
    categories:
      - id: agency.k0
      - id: agency.k1
      - id: agency.k2
rules:
${points.map((p, k) => `  - { id: r${k}, category: agency.k${k}, effects: [{ points: ${p}, duration: P${k + 1}Y }], legalBasis: "Test Law, Art. ${k}" }`).join("\n")}
`);
        const firm = enterprise(NATIONAL_REGION);
        const records = events.map((e, i) => record({ category: `agency.k${e.kind}`, occurredAt: e.occurredAt, externalId: `b${i}` }));
        const { status } = evaluate(rs, firm, records, at);
        expect(status.score).toBeGreaterThanOrEqual(scoring.min);
        expect(status.score).toBeLessThanOrEqual(scoring.max);
        expect(Number.isFinite(status.score)).toBe(true);
        expect(status.grade).toBe("LOW");
        // Exactly the clamped sum, within the range of safe integers.
        const sum = status.effects.filter((e) => e.state === "in-force").reduce((s, e) => s + (e.points ?? 0), 0);
        expect(status.score).toBe(Math.min(scoring.max, Math.max(scoring.min, scoring.base + sum)));
      }),
      { numRuns: 40 },
    );
  });

  it("(f) holds the same status over [validFrom, validUntil), which contains the instant", () => {
    fc.assert(
      fc.property(subjectArb, specsArb, atArb, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (subject, specs, at, u) => {
        const records = recordsOf(specs);
        const e = evaluate(RS, subject, records, at);
        if (e.validFrom !== null) expect(e.validFrom).toBeLessThanOrEqual(at);
        if (e.validUntil !== null) expect(e.validUntil).toBeGreaterThan(at);
        const lo = e.validFrom ?? at - 20 * YEAR_MS;
        const hi = e.validUntil ?? at + 20 * YEAR_MS;
        const t = Math.min(hi - 1, lo + Math.floor(u * (hi - lo)));
        const other = evaluate(RS, subject, records, t);
        expect(decisive(other.status)).toEqual(decisive(e.status));
        expect(other.validFrom).toBe(e.validFrom);
        expect(other.validUntil).toBe(e.validUntil);
        // The next interval starts where this one ends.
        if (e.validUntil !== null) {
          const next = evaluate(RS, subject, records, e.validUntil);
          expect(next.validFrom).toBe(e.validUntil);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("(g) never puts minors on lists or under measures, nor grades them, nor counts their records", () => {
    const youngArb = fc.tuple(birthDateArb(1998, 2020), regionArb).map(([b, r]) => person(b, r));
    fc.assert(
      fc.property(youngArb, specsArb, atArb, (subject, specs, at) => {
        const records = recordsOf(specs);
        const { status } = evaluate(RS, subject, records, at);
        const adultFrom = anniversary(subject.birthDate as string, 18);
        expect(status.minor).toBe(at < adultFrom);
        if (status.minor) {
          expect(status.lists).toEqual([]);
          expect(status.measures).toEqual([]);
          expect(status.grade).toBeNull();
          expect(status.effects.every((x) => x.state === "pending")).toBe(true);
        }
        const excluded = new Set(status.excluded.map((x) => x.record));
        for (const r of records) expect(excluded.has(r.id)).toBe(r.occurredAt < adultFrom);
        for (const x of status.effects) expect(excluded.has(x.record)).toBe(false);
        if (at < adultFrom) expect(status.nextChangeAt).not.toBeNull();
      }),
      { numRuns: 150 },
    );
  });

  it("(h) applies to each subject only measures for its kind, with a trigger it meets", () => {
    fc.assert(
      fc.property(subjectArb, specsArb, atArb, (subject, specs, at) => {
        const { status } = evaluate(RS, subject, recordsOf(specs), at);
        const j = RS.jurisdictionFor(subject.region);
        for (const m of status.measures) {
          const decl = j.measures.get(m.measure);
          expect(decl?.subjects).toContain(subject.kind);
          if ("list" in m.trigger) expect(listIds(status)).toContain(m.trigger.list);
          else expect(m.trigger.grade).toBe(status.grade);
        }
        // And every measure whose trigger is met does apply.
        for (const decl of j.measures.values()) {
          const met = "list" in decl.trigger ? listIds(status).includes(decl.trigger.list) : status.grade !== null && decl.trigger.grades.includes(status.grade);
          expect(measureIds(status).includes(decl.id)).toBe(met && decl.subjects.includes(subject.kind) && !status.minor);
        }
      }),
      { numRuns: 150 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// The shipped rulebooks (rulebooks/*.yaml), read from disk.

const SHIPPED = shippedLayerTexts();
const shippedText = (name: string) => (SHIPPED.find((l) => l.file === `rulebooks/${name}.yaml`) as { text: string }).text;

/** The ids of the measures of a subject's jurisdiction that the given lists trigger for its kind, sorted. */
function listMeasures(ruleset: Ruleset, subject: Subject, lists: readonly string[]): string[] {
  return [...ruleset.jurisdictionFor(subject.region).measures.values()]
    .filter((m) => "list" in m.trigger && lists.includes(m.trigger.list) && m.subjects.includes(subject.kind))
    .map((m) => m.id)
    .sort((a, b) => a.localeCompare(b));
}

/** The shipped Rongcheng layer with a test source whose records move the score by exactly ±1, ±10 or ±100 points. */
function rongchengWithTestPoints(): string {
  const layer = parseYaml(shippedText("rongcheng")) as { sources: unknown[]; rules: unknown[] };
  const steps = [1, 10, 100];
  const names = steps.flatMap((s) => [`plus-${s}`, `minus-${s}`]);
  layer.sources.push({ id: "test-points", categories: names.map((n) => ({ id: `test.points.${n}` })) });
  for (const s of steps) {
    for (const sign of [1, -1]) {
      const n = `${sign > 0 ? "plus" : "minus"}-${s}`;
      layer.rules.push({ id: `test-${n}`, category: `test.points.${n}`, effects: [{ points: sign * s, duration: "P1Y" }], legalBasis: "Test Law" });
    }
  }
  return stringifyYaml(layer);
}

/** Records that move a score by exactly delta points. */
function recordsForDelta(delta: number, occurredAt: string): RecordFact[] {
  const sign = delta < 0 ? "minus" : "plus";
  let rest = Math.abs(delta);
  const out: RecordFact[] = [];
  for (const step of [100, 10, 1]) {
    for (; rest >= step; rest -= step) {
      out.push(record({ category: `test.points.${sign}-${step}`, source: "test-points", occurredAt, externalId: `pt-${out.length}` }));
    }
  }
  return out;
}

describe("evaluate (shipped rulebooks)", () => {
  const rs = rulesetOf(...SHIPPED);
  const debtor = person("1980-05-01", "110105");
  const CASE = "(2026)京0105执1234号";
  const unfulfilled = (ground: number, occurredAt = "2026-01-10", extra: Record<string, unknown> = {}, externalId = "u1") =>
    record({ category: "court.judgment.unfulfilled", source: "court", externalId, occurredAt, attributes: { caseNumber: CASE, ground, ...extra } });
  const fulfilled = (caseNumber: string, occurredAt = "2026-06-01", externalId = "f1") =>
    record({ category: "court.judgment.fulfilled", source: "court", externalId, occurredAt, attributes: { caseNumber } });
  // Serious entries wait for a reviewer nationally; these examples are about what follows once one approves on the day.
  const reviewed = (subject: Subject, records: readonly RecordFact[], at: Instant | string) => ev(rs, subject, records, at, approvedOnRecord(rs, subject, records));

  it("loads every shipped layer", () => {
    expect(rs.layers.map((l) => l.id)).toEqual(["beijing", "hangzhou", "jiangsu", "national", "rongcheng"]);
  });

  it("lists an adult in Beijing for an unfulfilled judgment (ground 1), and airlines must refuse them, citing the list, the record and the law", () => {
    const { status } = reviewed(debtor, [unfulfilled(1)], "2026-03-01");
    expect(status.jurisdiction).toBe("beijing");
    expect(status.minor).toBe(false);
    expect(status.score).toBe(1000);
    expect(status.grade).toBeNull();
    expect(listIds(status)).toEqual(["dishonest-judgment-debtors"]);
    // Every measure the list triggers for persons, whatever measures the shipped national layer adds later.
    expect(measureIds(status)).toEqual(listMeasures(rs, debtor, ["dishonest-judgment-debtors"]));
    expect(measureIds(status)).toEqual(expect.arrayContaining(["restrict-air-travel", "restrict-high-speed-rail", "restrict-real-estate-purchase", "restrict-star-hotels"]));
    const d = decide(status, "restrict-air-travel");
    expect(d).toEqual({
      subject: debtor.id,
      measure: "restrict-air-travel",
      applies: true,
      at: iso("2026-03-01"),
      reasons: [
        {
          code: "list:dishonest-judgment-debtors",
          list: "dishonest-judgment-debtors",
          since: iso("2026-01-10"),
          until: iso("2031-01-10"),
          records: ["court:u1"],
          disputed: [],
          legalBasis: [
            "SPC Fa Shi [2015] No. 17, Art. 3(1)",
            "SPC Fa Shi [2017] No. 7, Art. 1",
            "SPC Fa Shi [2017] No. 7, Art. 1(1) and Art. 2 para. 1",
          ],
        },
      ],
    });
  });

  it("keeps a ground-1 entry for the list's maximum term of five years", () => {
    const records = [unfulfilled(1)];
    expect(reviewed(debtor, records, "2026-03-01").status.effects[0]?.until).toBe(iso("2031-01-10"));
    expect(decide(reviewed(debtor, records, instant("2031-01-10") - 1).status, "restrict-air-travel").applies).toBe(true);
    const after = reviewed(debtor, records, "2031-01-10").status;
    expect(decide(after, "restrict-air-travel").applies).toBe(false);
    expect(after.lists).toEqual([]);
    expect(after.nextChangeAt).toBeNull();
  });

  it("keeps a ground-2 entry two years, plus the decided extension", () => {
    const until = (extra: Record<string, unknown>, ground = 2) => reviewed(debtor, [unfulfilled(ground, "2026-01-10", extra)], "2026-03-01").status.lists[0]?.until;
    expect(until({ extensionYears: 2 })).toBe(iso("2030-01-10"));
    expect(until({})).toBe(iso("2028-01-10"));
    expect(until({ extensionYears: 0 })).toBe(iso("2028-01-10"));
    expect(until({ extensionYears: 3 }, 6)).toBe(iso("2031-01-10"));
    const records = [unfulfilled(2, "2026-01-10", { extensionYears: 2 })];
    expect(decide(reviewed(debtor, records, instant("2030-01-10") - 1).status, "restrict-high-speed-rail").applies).toBe(true);
    expect(decide(reviewed(debtor, records, "2030-01-10").status, "restrict-high-speed-rail").applies).toBe(false);
  });

  it("ends the entry when the judgment of the same case is fulfilled, at that instant", () => {
    const records = [unfulfilled(1), fulfilled(CASE)];
    expect(decide(reviewed(debtor, records, instant("2026-06-01") - 1).status, "restrict-air-travel").applies).toBe(true);
    const { status } = reviewed(debtor, records, "2026-06-01");
    expect(decide(status, "restrict-air-travel").applies).toBe(false);
    expect(status.lists).toEqual([]);
    expect(status.effects).toHaveLength(1);
    expect(status.effects[0]).toMatchObject({
      record: "court:u1",
      until: iso("2026-06-01"),
      state: "ended",
      endedBy: { record: "court:f1", legalBasis: "SPC Fa Shi [2017] No. 7, Art. 10(1)" },
    });
    expect(decide(reviewed(debtor, records, "2027-01-01").status, "restrict-air-travel").applies).toBe(false);
  });

  it("does not end the entry when another case is fulfilled", () => {
    const { status } = reviewed(debtor, [unfulfilled(1), fulfilled("(2026)京0105执9999号")], "2026-07-01");
    expect(decide(status, "restrict-air-travel").applies).toBe(true);
    expect(status.effects[0]?.until).toBe(iso("2031-01-10"));
    expect(status.effects[0]).not.toHaveProperty("endedBy");
  });

  it("gives nothing against a 10-year-old: no list, no measure, no grade, the record excluded", () => {
    const child = person("2016-01-01", "110105");
    const { status } = reviewed(child, [unfulfilled(1), fulfilled("(2026)京0105执9999号", "2026-02-01")], "2026-03-01");
    expect(status).toMatchObject({ minor: true, grade: null, lists: [], measures: [], effects: [] });
    expect(status.excluded.map((x) => x.record)).toEqual(["court:u1", "court:f1"]);
    expect(decide(status, "restrict-air-travel").applies).toBe(false);
    // In Rongcheng, which grades adults, a child has no grade either.
    const rongchengChild = person("2016-01-01", "371082");
    const r = reviewed(rongchengChild, [unfulfilled(1)], "2026-03-01").status;
    expect(r.grade).toBeNull();
    expect(r.score).toBe(1000);
    expect(reviewed(person("1980-01-01", "371082"), [], "2026-03-01").status.grade).toBe("A");
  });

  it("never counts a record from when the person was 17, even after they turn 18", () => {
    const teen = person("2008-09-01", "110105");
    const records = [unfulfilled(1)];
    const { status } = reviewed(teen, records, "2027-01-01");
    expect(status.minor).toBe(false);
    expect(status.lists).toEqual([]);
    expect(status.measures).toEqual([]);
    expect(status.excluded).toEqual([{ record: "court:u1", reason: expect.stringContaining("under 18") }]);
    expect(status.nextChangeAt).toBeNull();
  });

  it("counts a record from the very instant of the 18th birthday, not a millisecond before", () => {
    const teen = person("2008-06-15", "110105");
    const birthday = anniversary("2008-06-15", 18);
    const justBefore = reviewed(teen, [{ ...unfulfilled(1), occurredAt: birthday - 1 }], "2026-07-01").status;
    expect(justBefore.lists).toEqual([]);
    expect(justBefore.excluded.map((x) => x.record)).toEqual(["court:u1"]);
    const onTheDay = reviewed(teen, [unfulfilled(1, "2026-06-15")], "2026-07-01").status;
    expect(listIds(onTheDay)).toEqual(["dishonest-judgment-debtors"]);
    expect(onTheDay.excluded).toEqual([]);
  });

  it("changes by itself on the 18th birthday", () => {
    const teen = person("2008-06-15", "110105");
    const before = reviewed(teen, [], "2026-03-01");
    expect(before.status.minor).toBe(true);
    expect(before.status.nextChangeAt).toBe(iso("2026-06-15"));
    expect(before.validUntil).toBe(anniversary("2008-06-15", 18));
    expect(before.validFrom).toBeNull();
    expect(reviewed(teen, [], "2026-06-15").status.minor).toBe(false);
    expect(reviewed(teen, [], instant("2026-06-15") - 1).status.minor).toBe(true);
    // Born on 29 February: of age on 1 March in a common year.
    const leap = person("2008-02-29", "371082");
    expect(reviewed(leap, [], "2026-01-01").status.nextChangeAt).toBe(iso("2026-03-01"));
    expect(reviewed(leap, [], "2026-02-28").status.grade).toBeNull();
    expect(reviewed(leap, [], "2026-03-01").status.grade).toBe("A");
  });

  it("lists an enterprise but applies only the measures for enterprises", () => {
    const firm = enterprise("110105");
    const violation = record({ category: "market.serious-violation", source: "market-regulator", occurredAt: "2026-01-20", attributes: { decisionNumber: "京市监 2026-1" } });
    const { status } = reviewed(firm, [unfulfilled(1), violation], "2026-03-01");
    expect(listIds(status)).toEqual(["beijing-serious-dishonest-enterprises", "dishonest-judgment-debtors"]);
    expect(measureIds(status)).toEqual(listMeasures(rs, firm, listIds(status)));
    expect(measureIds(status)).toEqual(expect.arrayContaining(["beijing-restrict-public-procurement", "restrict-real-estate-purchase"]));
    for (const m of ["restrict-air-travel", "restrict-high-speed-rail", "restrict-star-hotels"]) expect(decide(status, m).applies).toBe(false);
    // A person on the enterprise list gets no enterprise measure.
    const p = reviewed(debtor, [violation], "2026-03-01").status;
    expect(listIds(p)).toEqual(["beijing-serious-dishonest-enterprises"]);
    expect(p.measures).toEqual([]);
    expect(listMeasures(rs, debtor, listIds(p))).toEqual([]);
  });

  it("costs 100 points for a defamation judgment in Jiangsu, for three years", () => {
    const jiangsu = person("1985-07-07", "320102");
    const r = record({ category: "court.judgment.online-defamation", source: "court", occurredAt: "2026-01-10", attributes: { caseNumber: "(2026)苏0102民初1号", proceeding: "civil" } });
    const { status } = reviewed(jiangsu, [r], "2026-02-01");
    expect(status.jurisdiction).toBe("jiangsu");
    expect(status.score).toBe(900);
    expect(status.effects[0]).toMatchObject({ rule: "jiangsu-online-defamation", points: -100, until: iso("2029-01-10") });
    expect(status.nextChangeAt).toBe(iso("2029-01-10"));
    expect(reviewed(jiangsu, [r], "2029-01-10").status.score).toBe(1000);
    // The same record means nothing in Beijing.
    expect(reviewed(debtor, [r], "2026-02-01").status.score).toBe(1000);
  });

  it("rewards a Hangzhou volunteer with points, the honour roll and a transport discount", () => {
    const volunteer = person("1990-01-01", "330106");
    const r = record({ category: "civic.volunteering", source: "volunteer-registry", occurredAt: "2026-01-10", attributes: { hours: 120 } });
    const { status } = reviewed(volunteer, [r], "2026-02-01");
    expect(status.score).toBe(1010);
    expect(listIds(status)).toEqual(["hangzhou-trustworthy-volunteers"]);
    expect(measureIds(status)).toEqual(["hangzhou-public-transport-discount"]);
  });

  describe("Rongcheng grades", () => {
    const rc = rulesetOf(shippedText("national"), { file: "rulebooks/rongcheng.yaml", text: rongchengWithTestPoints() });
    const resident = person("1985-03-03", "371082");

    it.each([
      [1050, "AAA"],
      [1049, "AA"],
      [1030, "AA"],
      [1029, "A"],
      [1000, "A"],
      [960, "A"],
      [959, "B"],
      [850, "B"],
      [849, "C"],
      [600, "C"],
      [599, "D"],
      [0, "D"],
    ])("grades %i as %s", (score, grade) => {
      const { status } = ev(rc, resident, recordsForDelta(score - 1000, "2026-01-05"), "2026-02-01");
      expect(status.jurisdiction).toBe("rongcheng");
      expect(status.score).toBe(score);
      expect(status.grade).toBe(grade);
      expect(decide(status, "rongcheng-priority-services").applies).toBe(grade === "AAA");
    });

    it("deducts 100 points from a listed debtor, who is also on the national list", () => {
      const { status } = reviewed(resident, [unfulfilled(1)], "2026-03-01");
      expect(status.score).toBe(900);
      expect(status.grade).toBe("B");
      expect(measureIds(status)).toContain("restrict-air-travel");
    });

    it("gives AAA residents priority services, since the grade was reached until it is lost", () => {
      const vol = (occurredAt: string, i: number) =>
        record({ category: "civic.volunteering", source: "volunteer-registry", externalId: `v${i}`, occurredAt, attributes: { hours: 10 } });
      // Nine records (1045, AA), a tenth two months later (1050, AAA), an eleventh later still (1055).
      const records = [...Array.from({ length: 9 }, (_, i) => vol("2026-03-01", i)), vol("2026-05-01", 9), vol("2026-06-01", 10)];
      expect(reviewed(resident, records, "2026-04-01").status.grade).toBe("AA");
      expect(decide(reviewed(resident, records, "2026-04-01").status, "rongcheng-priority-services").applies).toBe(false);
      const { status } = reviewed(resident, records, "2026-07-01");
      expect(status.score).toBe(1055);
      expect(status.grade).toBe("AAA");
      const d = decide(status, "rongcheng-priority-services");
      expect(d.applies).toBe(true);
      expect(d.reasons).toEqual([
        {
          code: "grade:AAA",
          grade: "AAA",
          since: iso("2026-05-01"),
          // The nine first records expire a year on: 1010 is A.
          until: iso("2027-03-01"),
          records: records.map((r) => r.id),
          disputed: [],
          legalBasis: [
            "Rongcheng Personal Credit Reward and Punishment Measures; Guo Fa [2016] No. 33, Part I",
            "Regulations on Volunteer Service (State Council Order No. 685), Art. 19 and Chapter IV",
          ],
        },
      ]);
      expect(decide(reviewed(resident, records, "2027-03-01").status, "rongcheng-priority-services").applies).toBe(false);
      expect(reviewed(resident, records, "2027-03-01").status.score).toBe(1010);
      // Too few hours in a record: no points.
      expect(reviewed(resident, [record({ category: "civic.volunteering", occurredAt: "2026-03-01", attributes: { hours: 9 } })], "2026-04-01").status.score).toBe(1000);
    });
  });

  it("does not depend on the order of records (shipped categories)", () => {
    const subjects = [debtor, person("1985-03-03", "371082"), enterprise("110105"), person("2008-06-15", "371082")];
    const shippedSpec: fc.Arbitrary<RecordSpec> = fc.oneof(
      fc.record({
        category: fc.constant("court.judgment.unfulfilled"),
        occurredAt: occurredAtArb,
        attributes: fc.record({ caseNumber: caseArb, ground: fc.integer({ min: 1, max: 6 }), extensionYears: fc.constantFrom(0, 1, 2, 3) }, { requiredKeys: ["caseNumber", "ground"] }),
      }),
      fc.record({ category: fc.constant("court.judgment.fulfilled"), occurredAt: occurredAtArb, attributes: fc.record({ caseNumber: caseArb }) }),
      fc.record({ category: fc.constant("traffic.drunk-driving"), occurredAt: occurredAtArb, attributes: fc.record({ decisionNumber: caseArb }) }),
      fc.record({ category: fc.constant("civic.volunteering"), occurredAt: occurredAtArb, attributes: fc.record({ hours: fc.integer({ min: 0, max: 30 }) }) }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...subjects),
        fc.array(shippedSpec, { maxLength: 12 }).chain((specs) => fc.tuple(fc.constant(specs), fc.shuffledSubarray(specs.map((_, i) => i), { minLength: specs.length, maxLength: specs.length }))),
        atArb,
        (subject, [specs, order], at) => {
          const records = recordsOf(specs);
          const e = evaluate(rs, subject, records, at);
          expect(evaluate(rs, subject, order.map((i) => records[i] as RecordFact), at)).toEqual(e);
          expect(e.status.score).toBe(impliedScore(rs, subject, e.status));
        },
      ),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// Due process: entries that wait for a reviewer, restorations, and records under objection. A serious list whose
// entries need sign-off, a minor list whose entries do not, and the measures they trigger.

const REVIEW_NATIONAL = `
id: review-national
title: Review test layer
version: "1"
legalBasis: Test Basic Law, Art. 1
signOff: [serious]
scoring: { base: 1000, min: 0, max: 2000 }
sources:
  - id: court
    categories:
      - id: court.debt.unpaid
        attributes:
          caseNumber: { type: string, required: true }
      - id: court.debt.paid
        attributes:
          caseNumber: { type: string, required: true }
      - id: court.contempt
        attributes:
          caseNumber: { type: string, required: true }
  - id: tax
    categories:
      - id: tax.return.late
        attributes:
          noticeNumber: { type: string, required: true }
rules:
  - id: contempt
    category: court.contempt
    effects:
      - { list: serious-debtors, duration: P1Y, key: record.attributes.caseNumber }
    legalBasis: Test Debt Law, Art. 3
  - id: debt-entry
    category: court.debt.unpaid
    effects:
      - { list: serious-debtors, duration: P2Y, key: record.attributes.caseNumber }
      - { points: -40, duration: P2Y }
    legalBasis: Test Debt Law, Art. 2
  - id: late-return
    category: tax.return.late
    effects:
      - { list: late-filers, duration: P3M }
    legalBasis: Test Tax Law, Art. 62
lists:
  - id: serious-debtors
    name: Serious debtors
    kind: blacklist
    tier: serious
    maxTerm: P3Y
    exit:
      - { category: court.debt.paid, key: record.attributes.caseNumber, legalBasis: "Test Debt Law, Art. 10" }
    restoration:
      allowed: true
      legalBasis: Test Restoration Rules, Art. 5
    legalBasis: Test Debt Law, Art. 1
  - id: late-filers
    name: Late filers
    kind: watchlist
    tier: minor
    maxTerm: P3M
    legalBasis: Test Tax Law, Art. 1
measures:
  - id: no-flights
    name: No flights
    kind: sanction
    trigger: { list: serious-debtors }
    target: subject
    subjects: [person]
    enforcers: [airline]
    legalBasis: Test Consumption Law, Art. 3(1)
  - id: no-fast-track
    name: No fast-track tax services
    kind: sanction
    trigger: { list: late-filers }
    target: subject
    enforcers: [tax-service-hall]
    legalBasis: Test Tax Law, Art. 30
`;

const REVIEW = rulesetOf(REVIEW_NATIONAL);
const SERIOUS = "serious-debtors";

type Decisions = Map<string, { approved: boolean; at: Instant }>;

function facts(signOffs: Decisions = new Map(), more: Partial<CaseFacts> = {}): CaseFacts {
  return { ...NO_CASE, signOffs, ...more };
}

const debtEntry = (r: RecordFact) => entryId(r.id, "debt-entry", SERIOUS);
const approveAt = (r: RecordFact, at: string | Instant): Decisions => new Map([[debtEntry(r), { approved: true, at: typeof at === "string" ? instant(at) : at }]]);
const lateReturn = (occurredAt: string | Instant, externalId?: string) =>
  record({ category: "tax.return.late", source: "tax", occurredAt, attributes: { noticeNumber: `n-${externalId ?? occurredAt}` }, ...(externalId ? { externalId } : {}) });

describe("evaluate: sign-off", () => {
  const adult = person("1980-05-01", NATIONAL_REGION);

  it("compiles the layer's sign-off onto its serious list only", () => {
    expect(REVIEW.lists.get(SERIOUS)).toMatchObject({ tier: "serious", signOff: true });
    expect(REVIEW.lists.get("late-filers")).toMatchObject({ tier: "minor", signOff: false, public: false });
  });

  it("holds an entry that needs sign-off: no list, no measure, but listed as awaiting with its reason and law", () => {
    const d = debt("2026-01-10", "c1", {}, "s1");
    const { status } = ev(REVIEW, adult, [d], "2026-03-01");
    expect(status.lists).toEqual([]);
    expect(status.measures).toEqual([]);
    expect(decide(status, "no-flights").applies).toBe(false);
    expect(status.awaitingSignOff).toEqual([
      {
        entry: debtEntry(d),
        list: SERIOUS,
        tier: "serious",
        record: d.id,
        rule: "debt-entry",
        from: iso("2026-01-10"),
        until: iso("2028-01-10"),
        legalBasis: ["Test Debt Law, Art. 2", "Test Debt Law, Art. 1"],
      },
    ]);
    expect(status.effects.map((e) => [e.kind, e.state])).toEqual([
      ["list", "awaiting-sign-off"],
      ["points", "in-force"],
    ]);
    // Only list entries wait: the points of the same rule count at once.
    expect(status.score).toBe(960);
  });

  it("does not hold entries of tiers the layer does not name: a minor entry applies at once", () => {
    const late = lateReturn("2026-01-10");
    const { status } = ev(REVIEW, adult, [late], "2026-02-01");
    expect(status.awaitingSignOff).toEqual([]);
    expect(listIds(status)).toEqual(["late-filers"]);
    expect(status.lists[0]).toMatchObject({ tier: "minor", since: iso("2026-01-10"), until: iso("2026-04-10"), publishedUntil: null });
    expect(status.measures).toEqual([expect.objectContaining({ measure: "no-fast-track", tier: "minor" })]);
  });

  it("keys the entry to its record, rule and list", () => {
    expect(entryId("court:s1", "debt-entry", SERIOUS)).toMatch(/^[0-9a-f]{24}$/);
    expect(entryId("court:s1", "debt-entry", SERIOUS)).toBe(entryId("court:s1", "debt-entry", SERIOUS));
    expect(new Set([entryId("court:s1", "debt-entry", SERIOUS), entryId("court:s2", "debt-entry", SERIOUS), entryId("court:s1", "other", SERIOUS), entryId("court:s1", "debt-entry", "other")]).size).toBe(4);
  });

  it("starts an approved entry at the approval instant and keeps the end its record gave it", () => {
    const d = debt("2026-01-10", "c1", {}, "s2");
    const approved = facts(approveAt(d, "2026-02-01"));
    const before = ev(REVIEW, adult, [d], instant("2026-02-01") - 1, approved).status;
    expect(before.lists).toEqual([]);
    expect(before.awaitingSignOff).toEqual([]);
    const { status, validFrom, validUntil } = ev(REVIEW, adult, [d], "2026-02-01", approved);
    expect(status.awaitingSignOff).toEqual([]);
    expect(status.lists).toEqual([expect.objectContaining({ list: SERIOUS, since: iso("2026-02-01"), until: iso("2028-01-10"), records: [d.id] })]);
    expect(decide(status, "no-flights").reasons).toEqual([expect.objectContaining({ since: iso("2026-02-01"), until: iso("2028-01-10") })]);
    expect(status.effects[0]).toMatchObject({ kind: "list", from: iso("2026-02-01"), until: iso("2028-01-10"), state: "in-force" });
    expect(validFrom).toBe(instant("2026-02-01"));
    expect(validUntil).toBe(instant("2028-01-10"));
    expect(ev(REVIEW, adult, [d], "2028-01-10", approved).status.lists).toEqual([]);
  });

  it("never lengthens a stay: an approval before the record changes nothing, one after the term gives nothing", () => {
    const d = debt("2026-01-10", "c1", {}, "s3");
    const early = ev(REVIEW, adult, [d], "2026-03-01", facts(approveAt(d, "2025-12-01"))).status;
    expect(early.lists).toEqual([expect.objectContaining({ since: iso("2026-01-10"), until: iso("2028-01-10") })]);
    const late = facts(approveAt(d, "2028-06-01"));
    for (const at of ["2026-03-01", "2028-01-09", "2028-06-01", "2029-01-01"]) {
      const s = ev(REVIEW, adult, [d], at, late).status;
      expect(s.lists, at).toEqual([]);
      expect(s.measures, at).toEqual([]);
    }
  });

  it("gives nothing for a rejected entry, ever, and no longer asks for sign-off", () => {
    const d = debt("2026-01-10", "c1", {}, "s4");
    const rejected = facts(new Map([[debtEntry(d), { approved: false, at: instant("2026-01-20") }]]));
    for (const at of ["2026-01-10", "2026-03-01", "2027-12-31"]) {
      const s = ev(REVIEW, adult, [d], at, rejected).status;
      expect(s.lists, at).toEqual([]);
      expect(s.measures, at).toEqual([]);
      expect(s.awaitingSignOff, at).toEqual([]);
      expect(s.effects[0]?.state, at).toBe("rejected");
    }
  });

  it("ends a pending approval's entry at an exit that came before the approval, as it would have ended anyway", () => {
    const d = debt("2026-01-10", "c1", {}, "s5");
    const p = paid("2026-02-01", "c1", "p5");
    const approvedAfterPayment = facts(approveAt(d, "2026-03-01"));
    for (const at of ["2026-03-01", "2026-06-01"]) expect(ev(REVIEW, adult, [d, p], at, approvedAfterPayment).status.lists, at).toEqual([]);
    // Nor does a paid debt still wait for a reviewer.
    expect(ev(REVIEW, adult, [d, p], "2026-03-01").status.awaitingSignOff).toEqual([]);
  });

  it("asks for sign-off only while the entry would be in force: not before its record, not after its end", () => {
    const d = debt("2026-01-10", "c1", {}, "s6");
    expect(ev(REVIEW, adult, [d], "2026-01-09").status.awaitingSignOff).toEqual([]);
    expect(ev(REVIEW, adult, [d], "2026-01-10").status.awaitingSignOff).toHaveLength(1);
    expect(ev(REVIEW, adult, [d], instant("2028-01-10") - 1).status.awaitingSignOff).toHaveLength(1);
    expect(ev(REVIEW, adult, [d], "2028-01-10").status.awaitingSignOff).toEqual([]);
  });

  it("says when an entry that waits for sign-off starts and lapses, so a stored status does not outlive either", () => {
    // A rule that gives a list entry and no points: the awaiting entry is the only thing that changes.
    const c = record({ category: "court.contempt", occurredAt: "2026-01-10", externalId: "s7", attributes: { caseNumber: "c7" } });
    const before = ev(REVIEW, adult, [c], "2025-06-01");
    expect(before.status.awaitingSignOff).toEqual([]);
    expect(before.validUntil).toBe(instant("2026-01-10"));
    const during = ev(REVIEW, adult, [c], "2026-06-01");
    expect(during.status.awaitingSignOff).toHaveLength(1);
    expect(during.validFrom).toBe(instant("2026-01-10"));
    expect(during.validUntil).toBe(instant("2027-01-10"));
    expect(during.status.nextChangeAt).toBe(iso("2027-01-10"));
    const after = ev(REVIEW, adult, [c], "2027-01-10");
    expect(after.status.awaitingSignOff).toEqual([]);
    expect(after.status.nextChangeAt).toBeNull();
  });
});

describe("evaluate: restoration", () => {
  const adult = person("1980-05-01", NATIONAL_REGION);
  const granted = (at: string, list = SERIOUS, id = "rest-1") => ({ id, list, at: instant(at), legalBasis: "Test Restoration Rules, Art. 5" });

  it("ends at its instant every entry of its list then in force, whatever the key, naming the restoration", () => {
    const a = debt("2026-01-10", "c1", {}, "r1");
    const b = debt("2026-02-10", "c2", {}, "r2");
    const approved = new Map([...approveAt(a, "2026-01-10"), ...approveAt(b, "2026-02-10")]);
    const f = facts(approved, { restorations: [granted("2027-03-01")] });
    expect(listIds(ev(REVIEW, adult, [a, b], instant("2027-03-01") - 1, f).status)).toEqual([SERIOUS]);
    const { status } = ev(REVIEW, adult, [a, b], "2027-03-01", f);
    expect(status.lists).toEqual([]);
    expect(status.measures).toEqual([]);
    const entries = status.effects.filter((e) => e.kind === "list");
    expect(entries.map((e) => [e.record, e.until, e.state, e.endedBy])).toEqual([
      [a.id, iso("2027-03-01"), "ended", { restoration: "rest-1", legalBasis: "Test Restoration Rules, Art. 5" }],
      [b.id, iso("2027-03-01"), "ended", { restoration: "rest-1", legalBasis: "Test Restoration Rules, Art. 5" }],
    ]);
    // Points are not list entries: a restoration leaves them running.
    expect(status.score).toBe(920);
  });

  it("leaves entries that begin after it, and entries of other lists, in force", () => {
    const a = debt("2026-01-10", "c1", {}, "r3");
    const later = debt("2027-05-01", "c1", {}, "r4");
    const late = lateReturn("2027-02-20", "r5");
    const approved = new Map([...approveAt(a, "2026-01-10"), ...approveAt(later, "2027-05-01")]);
    const f = facts(approved, { restorations: [granted("2027-03-01")] });
    const march = ev(REVIEW, adult, [a, later, late], "2027-03-02", f).status;
    expect(listIds(march)).toEqual(["late-filers"]);
    const may = ev(REVIEW, adult, [a, later, late], "2027-05-01", f).status;
    expect(may.lists.filter((l) => l.list === SERIOUS)).toEqual([expect.objectContaining({ since: iso("2027-05-01"), until: iso("2029-05-01"), records: [later.id] })]);
    expect(may.effects.find((e) => e.record === later.id && e.kind === "list")).not.toHaveProperty("endedBy");
  });

  it("changes nothing when granted before the entry or after it ended", () => {
    const a = debt("2026-01-10", "c1", {}, "r6");
    const approved = approveAt(a, "2026-01-10");
    const without = ev(REVIEW, adult, [a], "2026-06-01", facts(approved));
    for (const at of ["2025-06-01", "2028-01-10", "2029-01-01"]) {
      expect(ev(REVIEW, adult, [a], "2026-06-01", facts(approved, { restorations: [granted(at)] })), at).toEqual(without);
    }
  });
});

describe("evaluate: records under objection", () => {
  const adult = person("1980-05-01", NATIONAL_REGION);

  it("flags a disputed record in its effects, the lists and the measures it supports, and nowhere else", () => {
    const contested = debt("2026-01-10", "c1", {}, "o1");
    const undisputed = debt("2026-01-12", "c2", {}, "o2");
    const f = facts(new Map([...approveAt(contested, "2026-01-10"), ...approveAt(undisputed, "2026-01-12")]), { disputed: new Set([contested.id, "court:not-here"]) });
    const { status } = ev(REVIEW, adult, [contested, undisputed], "2026-03-01", f);
    expect(status.effects.map((e) => [e.record, e.kind, e.disputed])).toEqual([
      [contested.id, "list", true],
      [contested.id, "points", true],
      [undisputed.id, "list", undefined],
      [undisputed.id, "points", undefined],
    ]);
    expect(status.lists.map((l) => [l.records, l.disputed])).toEqual([[[contested.id, undisputed.id], [contested.id]]]);
    expect(status.measures.map((m) => [m.measure, m.disputed])).toEqual([["no-flights", [contested.id]]]);
    // A dispute informs; it does not suspend: the measure still applies until a reviewer decides.
    expect(decide(status, "no-flights")).toMatchObject({ applies: true, reasons: [{ disputed: [contested.id] }] });
  });

  it("adds no disputed field at all when nothing in the status is disputed", () => {
    const d = debt("2026-01-10", "c1", {}, "o3");
    const { status } = ev(REVIEW, adult, [d], "2026-03-01", facts(approveAt(d, "2026-01-10"), { disputed: new Set(["court:elsewhere"]) }));
    expect(status.effects.some((e) => "disputed" in e)).toBe(false);
    expect(status.lists.some((l) => "disputed" in l)).toBe(false);
    expect(status.measures.some((m) => "disputed" in m)).toBe(false);
  });

  it("flags the points records behind a grade-triggered measure", () => {
    const fine = record({ category: "agency.fine", occurredAt: "2026-01-11", externalId: "o4", attributes: { amountYuan: 20_000 } });
    const d = debt("2026-01-10", "c1", {}, "o5");
    const { status } = ev(RS, adult, [d, fine], "2026-02-01", facts(new Map(), { disputed: new Set([fine.id]) }));
    expect(status.grade).toBe("C");
    expect(status.measures.find((m) => m.measure === "closer-scrutiny")?.disputed).toEqual([fine.id]);
    expect(status.measures.find((m) => m.measure === "no-flights")).not.toHaveProperty("disputed");
  });
});

// Random records and decisions on the review rulebook.
const reviewSpecArb: fc.Arbitrary<RecordSpec> = fc.oneof(
  fc.record({ category: fc.constant("court.debt.unpaid"), occurredAt: occurredAtArb, attributes: fc.record({ caseNumber: caseArb }) }),
  fc.record({ category: fc.constant("court.contempt"), occurredAt: occurredAtArb, attributes: fc.record({ caseNumber: caseArb }) }),
  fc.record({ category: fc.constant("court.debt.paid"), occurredAt: occurredAtArb, attributes: fc.record({ caseNumber: caseArb }) }),
  fc.record({ category: fc.constant("tax.return.late"), source: fc.constant("tax"), occurredAt: occurredAtArb, attributes: fc.record({ noticeNumber: caseArb }) }),
);
const reviewSpecsArb = fc.array(reviewSpecArb, { maxLength: 10 });
const adultArb = fc.tuple(birthDateArb(1950, 1995), regionArb).map(([b, r]) => person(b, r));

/** The entries of a set of records that wait for sign-off, with their records, whatever the instant. */
function heldEntries(subject: Subject, records: readonly RecordFact[]): { entry: string; occurredAt: Instant }[] {
  return evaluate(REVIEW, subject, records, 0)
    .status.effects.filter((e) => e.state === "awaiting-sign-off")
    .map((e) => ({ entry: entryId(e.record, e.rule, e.list as string), occurredAt: instant(e.occurredAt) }));
}

/** Per entry: a delay after its record (possibly negative: decided before), and whether it is approved. */
const decisionArb = fc.record({ delayDays: fc.integer({ min: -30, max: 1500 }), approved: fc.boolean(), decided: fc.boolean() });
const restorationsArb = fc.array(fc.record({ at: occurredAtArb, list: fc.constantFrom(SERIOUS, "late-filers") }), { maxLength: 2 });

describe("evaluate: due-process properties", () => {
  it("(a) approving later never puts a subject on a list, or under a measure, where approving earlier would not", () => {
    fc.assert(
      fc.property(
        adultArb,
        reviewSpecsArb,
        fc.array(fc.record({ early: fc.integer({ min: -30, max: 1500 }), wait: fc.integer({ min: 0, max: 1500 }) }), { minLength: 10, maxLength: 10 }),
        restorationsArb,
        atArb,
        (subject, specs, delays, restorations, at) => {
          const records = recordsOf(specs);
          const held = heldEntries(subject, records);
          const approvals = (later: boolean): Decisions =>
            new Map(
              held.map((h, i) => {
                const d = delays[i % delays.length] as { early: number; wait: number };
                return [h.entry, { approved: true, at: h.occurredAt + (d.early + (later ? d.wait : 0)) * DAY_MS }];
              }),
            );
          const rest = restorations.map((r, i) => ({ id: `rest-${i}`, list: r.list, at: r.at, legalBasis: "Test Restoration Rules, Art. 5" }));
          const early = evaluate(REVIEW, subject, records, at, facts(approvals(false), { restorations: rest })).status;
          const late = evaluate(REVIEW, subject, records, at, facts(approvals(true), { restorations: rest })).status;
          for (const l of listIds(late)) expect(listIds(early)).toContain(l);
          for (const m of measureIds(late)) expect(measureIds(early)).toContain(m);
          // And every entry, once approved, lasts no longer than it would have from its record.
          for (const e of late.effects) {
            const same = early.effects.find((x) => x.record === e.record && x.rule === e.rule && x.kind === e.kind);
            expect(instant(e.until)).toBeLessThanOrEqual(instant(same?.until as string));
            expect(instant(e.from)).toBeGreaterThanOrEqual(instant(same?.from as string));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("(b) once every effect has run out, with no new records, leaves no list, measure or pending sign-off, whatever the decisions", () => {
    fc.assert(
      fc.property(adultArb, reviewSpecsArb, fc.array(decisionArb, { minLength: 10, maxLength: 10 }), restorationsArb, fc.integer({ min: 0, max: 20 * 365 }), (subject, specs, decisions, restorations, afterDays) => {
        const records = recordsOf(specs);
        const signOffs: Decisions = new Map();
        heldEntries(subject, records).forEach((h, i) => {
          const d = decisions[i % decisions.length] as { delayDays: number; approved: boolean; decided: boolean };
          if (d.decided) signOffs.set(h.entry, { approved: d.approved, at: h.occurredAt + d.delayDays * DAY_MS });
        });
        const rest = restorations.map((r, i) => ({ id: `rest-${i}`, list: r.list, at: r.at, legalBasis: "Test Restoration Rules, Art. 5" }));
        const disputed = new Set(records.filter((_, i) => i % 2 === 0).map((r) => r.id));
        // The longest anything lasts here is the serious list's maximum term of three years.
        const last = Math.max(T0, ...records.map((r) => r.occurredAt));
        const at = addDuration(last, parseDuration("P3Y") as Duration) + afterDays * DAY_MS;
        const e = evaluate(REVIEW, subject, records, at, facts(signOffs, { restorations: rest, disputed }));
        expect(e.status.lists).toEqual([]);
        expect(e.status.measures).toEqual([]);
        expect(e.status.awaitingSignOff).toEqual([]);
        expect(e.status.score).toBe(1000);
        expect(e.status.nextChangeAt).toBeNull();
        expect(e.status.effects.every((x) => x.state !== "in-force" && x.state !== "pending")).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it("(c) never keeps a minor-tier entry in force more than three months after its record", () => {
    const threeMonths = parseDuration("P3M") as Duration;
    fc.assert(
      fc.property(adultArb, reviewSpecsArb, atArb, (subject, specs, at) => {
        const records = recordsOf(specs);
        const byId = new Map(records.map((r) => [r.id, r] as const));
        const { status } = evaluate(REVIEW, subject, records, at);
        for (const l of status.lists.filter((x) => x.tier === "minor")) {
          // Some record behind the membership is less than three months old.
          expect(l.records.some((id) => at < addDuration((byId.get(id) as RecordFact).occurredAt, threeMonths))).toBe(true);
          expect(l.publishedUntil).toBeNull();
        }
        for (const e of status.effects.filter((x) => x.list === "late-filers")) {
          expect(instant(e.until)).toBeLessThanOrEqual(addDuration(instant(e.occurredAt), threeMonths));
        }
      }),
      { numRuns: 150 },
    );
  });

  it("(d) holds the same status, sign-offs awaited included, over [validFrom, validUntil)", () => {
    fc.assert(
      fc.property(adultArb, reviewSpecsArb, atArb, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (subject, specs, at, u) => {
        const records = recordsOf(specs);
        const e = evaluate(REVIEW, subject, records, at);
        const lo = e.validFrom ?? at - 20 * YEAR_MS;
        const hi = e.validUntil ?? at + 20 * YEAR_MS;
        const t = Math.min(hi - 1, lo + Math.floor(u * (hi - lo)));
        const other = evaluate(REVIEW, subject, records, t).status;
        expect({ ...decisive(other), awaitingSignOff: other.awaitingSignOff }).toEqual({ ...decisive(e.status), awaitingSignOff: e.status.awaitingSignOff });
      }),
      { numRuns: 150 },
    );
  });
});

describe("evaluate (shipped rulebooks): due process", () => {
  const rs = rulesetOf(...SHIPPED);
  const debtor = person("1980-05-01", "110105");
  const judgment = record({ category: "court.judgment.unfulfilled", source: "court", externalId: "u9", occurredAt: "2026-01-10", attributes: { caseNumber: "(2026)京0105执9号", ground: 1 } });

  it("holds a dishonest-judgment-debtor entry for a reviewer nationally: no flight ban before approval", () => {
    const { status } = ev(rs, debtor, [judgment], "2026-03-01");
    expect(status.lists).toEqual([]);
    expect(decide(status, "restrict-air-travel").applies).toBe(false);
    expect(status.awaitingSignOff).toEqual([expect.objectContaining({ list: "dishonest-judgment-debtors", tier: "serious", record: judgment.id, until: iso("2031-01-10") })]);
    const approved = ev(rs, debtor, [judgment], "2026-03-01", approvedOnRecord(rs, debtor, [judgment])).status;
    expect(approved.lists).toEqual([expect.objectContaining({ list: "dishonest-judgment-debtors", tier: "serious", publishedUntil: iso("2029-01-10") })]);
  });

  it("puts a late Jiangsu tax filer, person or enterprise, on the minor watchlist at once, unpublished, for three months", () => {
    for (const subject of [person("1985-07-07", "320102"), enterprise("320102")]) {
      const late = record({ category: "tax.return.late", source: "tax", occurredAt: "2026-01-10", attributes: { noticeNumber: "苏税限改〔2026〕1号" } });
      const { status } = ev(rs, subject, [late], "2026-02-01");
      expect(status.awaitingSignOff).toEqual([]);
      expect(status.lists).toEqual([expect.objectContaining({ list: "jiangsu-late-tax-filers", tier: "minor", until: iso("2026-04-10"), publishedUntil: null })]);
      expect(decide(status, "jiangsu-no-tax-fast-track").applies).toBe(true);
      expect(ev(rs, subject, [late], "2026-04-10").status.lists).toEqual([]);
      // The same record means nothing in Beijing.
      expect(ev(rs, person("1985-07-07", "110105"), [late], "2026-02-01").status.lists).toEqual([]);
    }
  });
});
