// Tests for the notices a change of status calls for: one per list, measure, sign-off and grade that changed, and none otherwise.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { NO_CASE, evaluate, type Status } from "../../src/core/evaluate.js";
import { OBJECTION_WINDOW, howToObject, noticesForChange, type NoticeDraft } from "../../src/core/notices.js";
import { addDuration, formatInstant } from "../../src/core/time.js";
import { DAY_MS, instant, iso, person, record, rulesetOf, type RecordSpec } from "./fixtures.js";

const RS = rulesetOf(`
id: notice-national
title: Notice test layer
version: "1"
legalBasis: Test Basic Law, Art. 1
signOff: [serious]
scoring: { base: 100, min: 0, max: 200 }
grades:
  - { id: HIGH, min: 120 }
  - { id: MID, min: 80 }
  - { id: LOW, min: 0 }
sources:
  - id: court
    categories:
      - id: court.debt.unpaid
        attributes:
          caseNumber: { type: string, required: true }
      - id: court.fraud
        attributes:
          caseNumber: { type: string, required: true }
  - id: agency
    categories:
      - id: agency.fine
      - id: agency.award
rules:
  - id: debt
    category: court.debt.unpaid
    effects:
      - { list: debtors, duration: P1Y, key: record.attributes.caseNumber }
    legalBasis: Test Debt Law, Art. 2
  - id: fraud
    category: court.fraud
    effects:
      - { list: fraudsters, duration: P2Y, key: record.attributes.caseNumber }
    legalBasis: Test Fraud Law, Art. 2
  - id: fine
    category: agency.fine
    effects:
      - { points: -30, duration: P6M }
    legalBasis: Test Fines Law, Art. 3
  - id: award
    category: agency.award
    effects:
      - { points: 30, duration: P6M }
    legalBasis: Test Awards Law, Art. 3
lists:
  - id: debtors
    name: Test debtors
    kind: blacklist
    tier: moderate
    maxTerm: P1Y
    legalBasis: Test Debt Law, Art. 1
  - id: fraudsters
    name: Test fraudsters
    kind: blacklist
    tier: serious
    maxTerm: P2Y
    legalBasis: Test Fraud Law, Art. 1
measures:
  - id: no-flights
    name: No flights
    kind: sanction
    trigger: { list: debtors }
    target: subject
    enforcers: [airline]
    legalBasis: Test Consumption Law, Art. 3
  - id: fast-lane
    name: Fast lane
    kind: reward
    trigger: { grades: [HIGH] }
    target: subject
    enforcers: [public-service-counter]
    legalBasis: Test Incentives Law, Art. 1
`);

const adult = person("1980-05-01");
const AT = instant("2026-03-01");
const deadline = formatInstant(addDuration(AT, OBJECTION_WINDOW));

const status = (records: RecordSpec[], at: string | number): Status =>
  evaluate(RS, adult, records.map((r, i) => record({ externalId: `n${i}`, ...r })), typeof at === "string" ? instant(at) : at, NO_CASE).status;

const debt = (occurredAt: string, caseNumber = "c1"): RecordSpec => ({ category: "court.debt.unpaid", occurredAt, attributes: { caseNumber } });
const fraud = (occurredAt: string): RecordSpec => ({ category: "court.fraud", occurredAt, attributes: { caseNumber: "f1" } });
const kinds = (ns: NoticeDraft[]) => ns.map((n) => n.kind);

describe("noticesForChange", () => {
  it("gives none when nothing changed, whatever the instants", () => {
    const s = status([debt("2026-01-10"), fraud("2026-01-10"), { category: "agency.award", occurredAt: "2026-01-10" }], "2026-02-01");
    expect(noticesForChange(s, s, AT)).toEqual([]);
    expect(noticesForChange(s, status([debt("2026-01-10"), fraud("2026-01-10"), { category: "agency.award", occurredAt: "2026-01-10" }], "2026-02-15"), AT)).toEqual([]);
    expect(noticesForChange(status([], "2026-01-01"), status([], "2026-06-01"), AT)).toEqual([]);
  });

  it("tells the subject of a list entry and the sanction it brings, with the reason, law, deadline and how to object", () => {
    const next = status([debt("2026-01-10")], "2026-02-01");
    const notices = noticesForChange(status([], "2026-01-01"), next, AT);
    expect(kinds(notices)).toEqual(["list-entry", "measure-start"]);
    const [entry, start] = notices as [NoticeDraft, NoticeDraft];
    expect(entry).toMatchObject({
      subject: adult.id,
      recipient: { subject: adult.id },
      at: AT,
      records: next.lists[0]?.records,
      legalBasis: next.lists[0]?.legalBasis,
      deadline,
      howToObject: howToObject(adult.id),
      detail: { list: "debtors", tier: "moderate", since: iso("2026-01-10"), until: iso("2027-01-10") },
    });
    // Dated on China's calendar, as the record was: not the UTC day before.
    expect(entry.summary).toBe("You were entered on the Test debtors from 2026-01-10 until 2027-01-10 at the latest.");
    expect(entry.reason).toContain("moderate tier");
    expect(entry.howToObject).toContain(`/v1/subjects/${adult.id}/objections`);
    expect(start).toMatchObject({ deadline, howToObject: howToObject(adult.id), detail: { measure: "no-flights", kind: "sanction", tier: "moderate", trigger: { list: "debtors" } } });
  });

  it("sets the objection deadline sixty days after the change was seen", () => {
    expect(OBJECTION_WINDOW.text).toBe("P60D");
    const [entry] = noticesForChange(undefined, status([debt("2026-01-10")], "2026-02-01"), AT);
    expect(entry?.deadline).toBe(iso("2026-04-30"));
    expect(instant(entry?.deadline as string) - AT).toBe(60 * DAY_MS);
  });

  it("tells of the exit and the end of the measure, with nothing to object to", () => {
    const records = [debt("2026-01-10")];
    const notices = noticesForChange(status(records, "2026-06-01"), status(records, "2027-01-10"), AT);
    expect(kinds(notices)).toEqual(["list-exit", "measure-end"]);
    for (const n of notices) expect(n).toMatchObject({ deadline: null, howToObject: null, records: [expect.stringMatching(/^court:/)] });
  });

  it("asks for sign-off once for an entry that waits, and lists nothing before approval", () => {
    const prev = status([], "2026-01-01");
    const next = status([fraud("2026-01-10")], "2026-02-01");
    const notices = noticesForChange(prev, next, AT);
    expect(kinds(notices)).toEqual(["sign-off-requested"]);
    expect(notices[0]).toMatchObject({ records: [next.awaitingSignOff[0]?.record], deadline, detail: { entry: next.awaitingSignOff[0]?.entry, list: "fraudsters", tier: "serious" } });
    // Still waiting later: no second request.
    expect(noticesForChange(next, status([fraud("2026-01-10")], "2026-05-01"), AT)).toEqual([]);
  });

  it("tells of a change of grade, and of a reward that starts, which has nothing to object to", () => {
    const award = { category: "agency.award", occurredAt: "2026-01-10" };
    const notices = noticesForChange(status([award], "2026-01-01"), status([award], "2026-02-01"), AT);
    expect(kinds(notices)).toEqual(["measure-start", "grade-change"]);
    expect(notices[0]).toMatchObject({ detail: { measure: "fast-lane", kind: "reward" }, deadline: null, howToObject: null });
    expect(notices[1]).toMatchObject({ detail: { from: "MID", to: "HIGH", score: 130 }, deadline, howToObject: howToObject(adult.id) });
    // A first status has no grade to change from.
    expect(kinds(noticesForChange(undefined, status([award], "2026-02-01"), AT))).toEqual(["measure-start"]);
  });

  it("gives exactly one notice per list, measure and awaited entry that appeared or went, and per change of grade", () => {
    const specArb: fc.Arbitrary<RecordSpec> = fc.oneof(
      fc.record({ category: fc.constant("court.debt.unpaid"), occurredAt: fc.constantFrom("2025-06-01", "2025-11-01", "2026-01-10"), attributes: fc.record({ caseNumber: fc.constantFrom("c1", "c2") }) }),
      fc.record({ category: fc.constant("court.fraud"), occurredAt: fc.constantFrom("2025-01-01", "2026-01-10"), attributes: fc.record({ caseNumber: fc.constantFrom("f1", "f2") }) }),
      fc.record({ category: fc.constantFrom("agency.fine", "agency.award"), occurredAt: fc.constantFrom("2025-10-01", "2026-01-10", "2026-02-01") }),
    );
    const atArb = fc.integer({ min: instant("2025-01-01"), max: instant("2027-06-01") });
    fc.assert(
      fc.property(fc.array(specArb, { maxLength: 6 }), fc.array(specArb, { maxLength: 6 }), atArb, atArb, (a, b, t1, t2) => {
        const prev = status(a, t1);
        const next = status([...a, ...b], t2);
        const notices = noticesForChange(prev, next, AT);
        const added = <T>(xs: T[], ys: T[]) => ys.filter((y) => !xs.includes(y)).sort();
        const of = (kind: string, key: string) => notices.filter((n) => n.kind === kind).map((n) => n.detail[key] as string).sort();
        const lists = (s: Status) => s.lists.map((l) => l.list);
        const measures = (s: Status) => s.measures.map((m) => m.measure);
        const awaiting = (s: Status) => s.awaitingSignOff.map((w) => w.entry);
        expect(of("list-entry", "list")).toEqual(added(lists(prev), lists(next)));
        expect(of("list-exit", "list")).toEqual(added(lists(next), lists(prev)));
        expect(of("measure-start", "measure")).toEqual(added(measures(prev), measures(next)));
        expect(of("measure-end", "measure")).toEqual(added(measures(next), measures(prev)));
        expect(of("sign-off-requested", "entry")).toEqual(added(awaiting(prev), awaiting(next)));
        expect(notices.filter((n) => n.kind === "grade-change")).toHaveLength(prev.grade !== next.grade ? 1 : 0);
        for (const n of notices) {
          expect(n.subject).toBe(adult.id);
          expect(n.at).toBe(AT);
          const objectable = ["list-entry", "sign-off-requested", "grade-change"].includes(n.kind) || (n.kind === "measure-start" && n.detail.kind === "sanction");
          expect(n.deadline).toBe(objectable ? deadline : null);
          expect(n.howToObject !== null).toBe(objectable);
        }
      }),
      { numRuns: 150 },
    );
  });
});
