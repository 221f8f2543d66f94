// Tests for due process as data: when restoration may be asked, what the evaluator is told of reviews, and overdue objections.
import { describe, expect, it } from "vitest";
import { caseFactsOf, isOverdue, restorationEligibility, type Objection, type Restoration, type SignOff } from "../../src/core/due-process.js";
import { evaluate } from "../../src/core/evaluate.js";
import type { RecordFact } from "../../src/core/record.js";
import type { CompiledList } from "../../src/core/rulebook/ruleset.js";
import type { Instant } from "../../src/core/time.js";
import { DAY_MS, instant, iso, person, record, rulesetOf } from "./fixtures.js";

const RS = rulesetOf(`
id: restore-national
title: Restoration test layer
version: "1"
legalBasis: Test Basic Law, Art. 1
scoring: { base: 100, min: 0, max: 200 }
sources:
  - id: court
    categories:
      - id: court.debt.unpaid
        attributes:
          caseNumber: { type: string, required: true }
  - id: credit-office
    categories:
      - id: civic.credit-training
        attributes:
          hours: { type: number, required: true }
rules:
  - id: debt
    category: court.debt.unpaid
    effects:
      - { list: debtors, duration: P3Y, key: record.attributes.caseNumber }
    legalBasis: Test Debt Law, Art. 2
  - id: late
    category: court.debt.unpaid
    effects:
      - { list: late-payers, duration: P2Y }
    legalBasis: Test Debt Law, Art. 3
lists:
  - id: debtors
    name: Test debtors
    kind: blacklist
    tier: serious
    maxTerm: P3Y
    restoration:
      allowed: true
      commitment: true
      records:
        - { category: civic.credit-training, when: record.attributes.hours >= 8.0, description: a credit repair course of a day }
      legalBasis: Test Restoration Rules, Art. 5
    legalBasis: Test Debt Law, Art. 1
  - id: late-payers
    name: Test late payers
    kind: watchlist
    tier: moderate
    maxTerm: P2Y
    legalBasis: Test Debt Law, Art. 1
`);

const debtors = RS.lists.get("debtors") as CompiledList;
const latePayers = RS.lists.get("late-payers") as CompiledList;
const adult = person("1980-05-01");
const debt = record({ category: "court.debt.unpaid", externalId: "d1", occurredAt: "2026-01-10", attributes: { caseNumber: "c1" } });
const training = (occurredAt: string, hours = 8, externalId = `t-${occurredAt}-${hours}`) =>
  record({ category: "civic.credit-training", source: "credit-office", externalId, occurredAt, attributes: { hours } });

function eligibility(records: RecordFact[], commitment: string | null, at: string | Instant, list = debtors) {
  const t = typeof at === "string" ? instant(at) : at;
  const { status } = evaluate(RS, adult, records, t);
  return restorationEligibility(list, status, adult, records, commitment, t);
}

describe("restorationEligibility", () => {
  it("is refused to a subject not on the list, with no date to wait for", () => {
    expect(eligibility([], "I commit", "2027-06-01")).toEqual({ eligible: false, reasons: ["you are not on list debtors"], possibleFrom: null });
    // Nor once the entry has ended.
    expect(eligibility([debt, training("2027-02-01")], "I commit", "2029-01-10")).toMatchObject({ eligible: false, reasons: ["you are not on list debtors"] });
  });

  it("is refused on a list that allows no restoration, saying when the entry ends by itself", () => {
    expect(eligibility([debt], "I commit", "2027-06-01", latePayers)).toEqual({
      eligible: false,
      reasons: ["list late-payers allows no early restoration; entries end by themselves on 2028-01-10"],
      possibleFrom: null,
    });
  });

  it("is refused before the minimum period is served, possible from the entry plus that period", () => {
    const r = eligibility([debt, training("2026-03-01")], "I commit", instant("2027-01-10") - 1);
    expect(r).toEqual({
      eligible: false,
      reasons: ["the minimum period of P1Y on the list is served on 2027-01-10 (on the list since 2026-01-10)"],
      possibleFrom: iso("2027-01-10"),
    });
    expect(debtors.restoration?.minimumPeriod.text).toBe("P1Y");
  });

  it("requires a signed commitment when the list asks for one", () => {
    for (const commitment of [null, "", "   "]) {
      expect(eligibility([debt, training("2026-03-01")], commitment, "2027-06-01")).toEqual({
        eligible: false,
        reasons: ["a signed credit commitment is required: send it as commitment"],
        possibleFrom: null,
      });
    }
  });

  it("requires the required records dated after entering the list, meeting their condition", () => {
    const missing = {
      eligible: false,
      reasons: ["a record of civic.credit-training (a credit repair course of a day) dated after entering the list is required"],
      possibleFrom: null,
    };
    expect(eligibility([debt], "I commit", "2027-06-01")).toEqual(missing);
    // Taken before the entry: does not count.
    expect(eligibility([debt, training("2025-12-01")], "I commit", "2027-06-01")).toEqual(missing);
    // Too short: the condition refuses it.
    expect(eligibility([debt, training("2026-03-01", 4)], "I commit", "2027-06-01")).toEqual(missing);
  });

  it("gives every missing condition at once, with the date the period is served", () => {
    const r = eligibility([debt], null, "2026-06-01");
    expect(r).toMatchObject({ eligible: false, possibleFrom: iso("2027-01-10") });
    expect(r.eligible ? [] : r.reasons).toHaveLength(3);
  });

  it("is granted once the period is served, the records exist and the commitment is given", () => {
    const records = [debt, training("2026-01-10"), training("2025-01-01", 2)];
    expect(eligibility(records, "I commit to pay", "2027-01-10")).toEqual({ eligible: true });
    expect(eligibility(records, "I commit to pay", "2028-06-01")).toEqual({ eligible: true });
  });
});

describe("caseFactsOf", () => {
  const base = { subject: adult.id, decidedBy: "reviewer-1", reasons: "checked" };
  const signOff = (entry: string, state: SignOff["state"], decidedAt: Instant | null): SignOff => ({
    ...base,
    entry,
    list: "debtors",
    tier: "serious",
    record: "court:d1",
    rule: "debt",
    requestedAt: instant("2026-01-10"),
    state,
    decidedAt,
  });
  const restoration = (id: string, state: Restoration["state"], decidedAt: Instant | null): Restoration => ({
    ...base,
    id,
    list: "debtors",
    commitment: "I commit",
    statement: null,
    requestedAt: instant("2027-01-10"),
    state,
    decidedAt,
    legalBasis: "Test Restoration Rules, Art. 5",
  });
  const objection = (id: string, recordId: string, state: Objection["state"]): Objection => ({
    ...base,
    id,
    record: recordId,
    statement: "not mine",
    evidenceRef: null,
    filedAt: instant("2026-02-01"),
    dueAt: instant("2026-02-16"),
    state,
    decidedAt: state === "open" ? null : instant("2026-02-10"),
    outcome: null,
  });

  it("tells the evaluator decided sign-offs, granted restorations and open objections only", () => {
    const t = instant("2026-01-20");
    const f = caseFactsOf(
      [signOff("e1", "approved", t), signOff("e2", "rejected", t), signOff("e3", "pending", null), signOff("e4", "lapsed", t)],
      [restoration("r1", "granted", instant("2027-02-01")), restoration("r2", "denied", t), restoration("r3", "pending", null)],
      [objection("o1", "court:a", "open"), objection("o2", "court:b", "upheld"), objection("o3", "court:c", "dismissed")],
    );
    expect([...f.signOffs]).toEqual([
      ["e1", { approved: true, at: t }],
      ["e2", { approved: false, at: t }],
    ]);
    expect(f.restorations).toEqual([{ id: "r1", list: "debtors", at: instant("2027-02-01"), legalBasis: "Test Restoration Rules, Art. 5" }]);
    expect([...f.disputed]).toEqual(["court:a"]);
  });
});

describe("isOverdue", () => {
  it("is true for an open objection from its due instant on, never for a decided one", () => {
    const due = instant("2026-02-16");
    expect(isOverdue({ state: "open", dueAt: due }, due - 1)).toBe(false);
    expect(isOverdue({ state: "open", dueAt: due }, due)).toBe(true);
    expect(isOverdue({ state: "open", dueAt: due }, due + 30 * DAY_MS)).toBe(true);
    expect(isOverdue({ state: "upheld", dueAt: due }, due + DAY_MS)).toBe(false);
    expect(isOverdue({ state: "dismissed", dueAt: due }, due + DAY_MS)).toBe(false);
  });
});
