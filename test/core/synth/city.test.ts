// The synthetic city: valid subjects and records, the shares and rates it promises, reproducible from its seed, generated lazily.
import { describe, expect, it } from "vitest";
import { NO_CASE, evaluate } from "../../../src/core/evaluate.js";
import { recordId } from "../../../src/core/record.js";
import { parseRecordInput } from "../../../src/core/record-input.js";
import { parseSubjectId } from "../../../src/core/subject-id.js";
import { synthesize, type CityOptions, type SynthSubject } from "../../../src/core/synth/city.js";
import { parsePlaces, type Place } from "../../../src/core/synth/places.js";
import { shareYoungerThan } from "../../../src/core/synth/population.js";
import { syntheticApprovals } from "../../../src/core/synth/review.js";
import { planCity, type RateOverrides, type RecordInput } from "../../../src/core/synth/streams.js";
import { anniversary, parseInstant, type Instant } from "../../../src/core/time.js";
import { instant, shippedRuleset } from "../fixtures.js";

const ruleset = shippedRuleset();
const AT = instant("2026-11-23T12:00:00+08:00");
const places = (spec: string): Place[] => parsePlaces(spec) as Place[];
const city = (spec: string, opts: Partial<CityOptions> = {}, rates?: RateOverrides) =>
  synthesize(planCity(ruleset, places(spec), rates), { people: 2000, enterprises: 200, years: 10, seed: 1, at: AT, ...opts });

/** Rates high enough that a small city has records of every kind. */
const BUSY: RateOverrides = {
  "court.judgment.unfulfilled": { person: 0.05, enterprise: 0.05, minor: 0.2 },
  "tax.arrears.exit-control": { person: 0.02 },
  "market.serious-violation": { enterprise: 0.05 },
  "market.counterfeit-goods": { person: 0.01, enterprise: 0.05 },
  "court.judgment.online-defamation": { person: 0.01, minor: 1 },
  "traffic.drunk-driving": 0.01,
};
const ALL = "beijing=1,hangzhou=1,jiangsu=1,rongcheng=1";

const at = (text: string): Instant => parseInstant(text) as Instant;

describe("synthesize", () => {
  it("makes subjects whose IDs parse and records an import accepts, from every source of the shipped rulebooks", () => {
    const sources = new Set<string>();
    const categories = new Set<string>();
    const ids = new Set<string>();
    const externalIds = new Set<string>();
    for (const s of city(ALL, { people: 4000, enterprises: 800 }, BUSY)) {
      const parsed = parseSubjectId(s.id);
      expect(parsed.ok, parsed.ok ? "" : parsed.reason).toBe(true);
      if (!parsed.ok) continue;
      expect(parsed.subject.kind).toBe(s.kind);
      expect(parsed.subject.region).toBe(s.region);
      if (s.kind === "person") expect(parsed.subject.birthDate).toBe(s.birthDate);
      expect(ids.has(s.id)).toBe(false);
      ids.add(s.id);
      expect(s.name.length).toBeGreaterThanOrEqual(2);
      for (const r of s.records) {
        const op = parseRecordInput(r, { ruleset, now: AT });
        expect("error" in op ? op.error : "", JSON.stringify(r)).toBe("");
        expect(r.subject).toBe(s.id);
        const key = `${r.source}:${r.externalId}`;
        expect(externalIds.has(key), key).toBe(false);
        externalIds.add(key);
        sources.add(r.source);
        categories.add(r.category);
      }
    }
    expect([...sources].sort()).toEqual([...ruleset.grants.keys()].sort());
    expect([...categories].sort()).toEqual([...ruleset.categories.keys()].sort());
  });

  it("dates records within the last Y years, never before birth nor after the generation instant", () => {
    const first = at("2021-11-23");
    let n = 0;
    for (const s of city(ALL, { years: 5 }, BUSY)) {
      for (const r of s.records) {
        const t = at(r.occurredAt);
        expect(t).toBeGreaterThanOrEqual(first);
        expect(t).toBeLessThanOrEqual(AT);
        if (s.birthDate) expect(t).toBeGreaterThanOrEqual(anniversary(s.birthDate, 0));
        n++;
      }
    }
    expect(n).toBeGreaterThan(100);
  });

  it("gives each category to the places whose rulebook uses it", () => {
    const where = new Map<string, Set<string>>();
    for (const s of city(ALL, { people: 6000, enterprises: 1000 }, BUSY)) {
      for (const r of s.records) {
        const j = ruleset.jurisdictionFor(s.region).id;
        where.set(r.category, (where.get(r.category) ?? new Set()).add(`${s.kind}@${j}`));
      }
    }
    const of = (c: string) => [...(where.get(c) ?? [])].sort();
    expect(of("civic.volunteering")).toEqual(["person@hangzhou", "person@rongcheng"]);
    expect(of("civic.blood-donation")).toEqual(["person@hangzhou"]);
    expect(of("traffic.drunk-driving")).toEqual(["person@rongcheng"]);
    expect(of("court.judgment.online-defamation")).toEqual(["person@jiangsu"]);
    expect(of("market.counterfeit-goods")).toEqual(["enterprise@jiangsu", "person@jiangsu"]);
    expect(of("market.serious-violation")).toEqual(["enterprise@beijing"]);
    expect(of("tax.arrears.exit-control").every((w) => w.startsWith("person@"))).toBe(true);
    expect(of("tax.return.late")).toEqual(["enterprise@jiangsu", "person@jiangsu"]);
    expect(of("court.judgment.unfulfilled")).toHaveLength(8);
  });

  it("generates a category everywhere when the rates say so", () => {
    let volunteering = 0;
    for (const s of city("beijing", { people: 1000 }, { "civic.volunteering": { person: 0.5, everywhere: true } })) {
      volunteering += s.records.filter((r) => r.category === "civic.volunteering").length;
    }
    expect(volunteering).toBeGreaterThan(1000);
  });

  it("resolves a share of records by a later record with the same key", () => {
    let debts = 0;
    let fulfilled = 0;
    for (const s of city("beijing", { people: 5000, enterprises: 1000 }, BUSY)) {
      const byCase = new Map(s.records.filter((r) => r.category === "court.judgment.unfulfilled").map((r) => [r.attributes.caseNumber, r] as const));
      debts += byCase.size;
      for (const f of s.records.filter((r) => r.category === "court.judgment.fulfilled")) {
        const debt = byCase.get(f.attributes.caseNumber) as RecordInput;
        expect(debt, JSON.stringify(f)).toBeDefined();
        expect(f.occurredAt > debt.occurredAt).toBe(true);
        expect(f.externalId).toBe(`${String(debt.externalId)}-fulfilled`);
        fulfilled++;
      }
    }
    // 30% are resolved, some of them after the generation instant (not yet reported).
    expect(fulfilled / debts).toBeGreaterThan(0.2);
    expect(fulfilled / debts).toBeLessThan(0.3);
  });

  it("exercises the rules' conditions: every ground, extensions, volunteering below and above the thresholds", () => {
    const grounds = new Set<unknown>();
    let extended = 0;
    const hours = { under10: 0, tenTo100: 0, hundredPlus: 0 };
    for (const s of city("hangzhou", { people: 5000, enterprises: 500 }, BUSY)) {
      for (const r of s.records) {
        if (r.category === "court.judgment.unfulfilled") {
          grounds.add(r.attributes.ground);
          if (r.attributes.extensionYears !== undefined) extended++;
        }
        if (r.category === "civic.volunteering") {
          const h = r.attributes.hours as number;
          if (h < 10) hours.under10++;
          else if (h < 100) hours.tenTo100++;
          else hours.hundredPlus++;
        }
      }
    }
    expect([...grounds].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(extended).toBeGreaterThan(0);
    expect(hours.under10).toBeGreaterThan(hours.tenTo100);
    expect(hours.hundredPlus).toBeGreaterThan(0);
  });

  it("includes minors, and a few records dated before their subjects turned 18", () => {
    let people = 0;
    let minors = 0;
    let recordsOfMinors = 0;
    let records = 0;
    for (const s of city("beijing", { people: 100_000, enterprises: 0 })) {
      people++;
      if (s.minor) minors++;
      records += s.records.length;
      for (const r of s.records) if (at(r.occurredAt) < anniversary(s.birthDate as string, 18)) recordsOfMinors++;
    }
    expect(minors / people).toBeCloseTo(shareYoungerThan(18), 1);
    // Courts rarely report minors (an inherited debt): a few per hundred thousand people in ten years.
    expect(recordsOfMinors).toBeGreaterThan(0);
    expect(recordsOfMinors / records).toBeLessThan(0.01);
  });

  it("registers people in Beijing's districts in their census shares", () => {
    const ps = places("beijing");
    const counts = new Map<string, number>();
    const n = 200_000;
    for (const s of city("beijing", { people: n, enterprises: 0 })) counts.set(s.region, (counts.get(s.region) ?? 0) + 1);
    for (const p of ps) {
      const share = (counts.get(p.code) ?? 0) / n;
      // Within 5% of the share, or a tenth of a point for the small districts.
      expect(Math.abs(share - p.weight), p.name).toBeLessThan(Math.max(0.05 * p.weight, 0.001));
    }
  });

  it("lists about 0.8% of people as dishonest judgment debtors, once the review office has approved the entries: the order of the 11 million of 1.4 billion the press reported", () => {
    let people = 0;
    let listed = 0;
    let flightBans = 0;
    let awaiting = 0;
    for (const s of city("beijing", { people: 50_000, enterprises: 0 })) {
      people++;
      if (s.records.length === 0) continue;
      const subject = parseSubjectId(s.id);
      if (!subject.ok) throw new Error(subject.reason);
      const facts = s.records.map((r) => ({ ...r, id: recordId(r.source, r.externalId), occurredAt: at(r.occurredAt) }));
      const unreviewed = evaluate(ruleset, subject.subject, facts, AT).status;
      // Nationally, nobody enters a serious list before a reviewer approves: without the review office, nobody is listed.
      expect(unreviewed.lists.filter((l) => l.tier === "serious")).toEqual([]);
      const status = evaluate(ruleset, subject.subject, facts, AT, { ...NO_CASE, signOffs: syntheticApprovals(unreviewed) }).status;
      // Only entries from the last week before the generation instant still wait for the office.
      for (const a of status.awaitingSignOff) expect(AT - at(a.from)).toBeLessThan(7 * 86_400_000);
      awaiting += status.awaitingSignOff.length;
      if (status.lists.some((l) => l.list === "dishonest-judgment-debtors")) listed++;
      if (status.measures.some((m) => m.measure === "restrict-air-travel")) flightBans++;
    }
    expect(listed / people).toBeGreaterThan(0.0055);
    expect(listed / people).toBeLessThan(0.0105);
    expect(flightBans).toBe(listed);
    expect(awaiting).toBeLessThan(listed / 20);
  });

  it("gives the same city for the same seed, another for another seed, and the same people whatever the rates", () => {
    const take = (it: Iterable<SynthSubject>) => JSON.stringify([...it]);
    const a = take(city(ALL, {}, BUSY));
    expect(take(city(ALL, {}, BUSY))).toBe(a);
    expect(take(city(ALL, { seed: 2 }, BUSY))).not.toBe(a);
    const who = (it: Iterable<SynthSubject>) => [...it].map((s) => `${s.id} ${s.name}`);
    expect(who(city(ALL, {}))).toEqual(who(city(ALL, {}, BUSY)));
  });

  it("is lazy: a city of a billion people yields its first subjects at once, keeping none", () => {
    const started = performance.now();
    const it = city("beijing", { people: 1_000_000_000, enterprises: 1_000_000_000 });
    const first = [it.next(), it.next(), it.next()];
    expect(first.every((r) => !r.done)).toBe(true);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(typeof it[Symbol.iterator]).toBe("function");
  });
});
