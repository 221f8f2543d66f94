// Synthetic identifiers: every one parses, none repeats, and the organisation code inside a credit code carries a valid check.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BEIJING_DISTRICTS } from "../../../src/core/regions.js";
import { parseSubjectId } from "../../../src/core/subject-id.js";
import { Calendar, dayOfDate } from "../../../src/core/synth/calendar.js";
import { creditCode, organisationCheckChar, ResidentIds } from "../../../src/core/synth/ids.js";

const calendar = new Calendar();
const compact = (d: number) => calendar.compactDate(d);
const TODAY = dayOfDate(2026, 11, 23);
const FIRST = TODAY - 40_000;
const REGIONS = ["110105", "330106", "320102", "371082"];

describe("ResidentIds", () => {
  it("makes IDs that parse, with the region, birth date and sex asked for", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: REGIONS.length - 1 }), fc.integer({ min: FIRST, max: TODAY }), fc.boolean(), (r, day, male) => {
        const ids = new ResidentIds(REGIONS, FIRST, TODAY);
        const { id, birthDay } = ids.allocate(r, day, male, compact);
        const parsed = parseSubjectId(id);
        expect(parsed.ok, parsed.ok ? "" : parsed.reason).toBe(true);
        if (!parsed.ok) return;
        expect(birthDay).toBe(day);
        expect(parsed.subject.region).toBe(REGIONS[r]);
        expect(parsed.subject.birthDate).toBe(calendar.isoDate(day));
        expect(Number(id.slice(14, 17)) % 2).toBe(male ? 1 : 0);
      }),
      { numRuns: 300 },
    );
  });

  it("never repeats an ID, and moves a full day's births to the day before", () => {
    const ids = new ResidentIds(["110105"], TODAY - 10, TODAY);
    const seen = new Set<string>();
    const days = new Map<number, number>();
    // 600 boys on one day: 500 odd sequence numbers fit, the other 100 move to the day before.
    for (let i = 0; i < 600; i++) {
      const { id, birthDay } = ids.allocate(0, TODAY, true, compact);
      expect(seen.has(id)).toBe(false);
      seen.add(id);
      days.set(birthDay, (days.get(birthDay) ?? 0) + 1);
      expect(parseSubjectId(id).ok).toBe(true);
    }
    expect(days.get(TODAY)).toBe(500);
    expect(days.get(TODAY - 1)).toBe(100);
    // Girls have their own 499 even numbers on the same day.
    for (let i = 0; i < 499; i++) expect(ids.allocate(0, TODAY, false, compact).birthDay).toBe(TODAY);
    expect(ids.allocate(0, TODAY, false, compact).birthDay).toBe(TODAY - 1);
  });

  it("refuses when no day is left", () => {
    const ids = new ResidentIds(["110105"], TODAY, TODAY);
    for (let i = 0; i < 500; i++) ids.allocate(0, TODAY, true, compact);
    expect(() => ids.allocate(0, TODAY, true, compact)).toThrow(RangeError);
  });

  it("takes two bytes per region, day and sex, whatever the population", () => {
    const ids = new ResidentIds(BEIJING_DISTRICTS.map((d) => d.code), TODAY - 36_890, TODAY);
    // A century of birth days in Beijing's 16 districts.
    expect((ids as unknown as { used: Uint16Array }).used.byteLength).toBeLessThan(2.5e6);
  });
});

describe("creditCode", () => {
  it("makes unified social credit codes that parse as enterprises of their region", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 49_999_999 }), fc.constantFrom(...REGIONS), fc.boolean(), fc.integer({ min: 0, max: 0xffffffff }), (i, region, recent, salt) => {
        const code = creditCode(i, region, recent, salt);
        const parsed = parseSubjectId(code);
        expect(parsed.ok, parsed.ok ? "" : parsed.reason).toBe(true);
        if (!parsed.ok) return;
        expect(parsed.subject.kind).toBe("enterprise");
        expect(parsed.subject.region).toBe(region);
        expect(code.slice(0, 2)).toBe("91");
        expect(code.slice(8, 10) === "MA").toBe(recent);
        expect(organisationCheckChar(code.slice(8, 16))).toBe(code[16]);
      }),
      { numRuns: 500 },
    );
  });

  it("gives distinct codes to distinct enterprises", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50_000; i++) {
      seen.add(creditCode(i, "110105", i % 3 !== 0, 12345).slice(2, 17));
    }
    expect(seen.size).toBe(50_000);
  });

  it("checks organisation codes as GB 11714 does", () => {
    // Worked by hand: D=13, so 13*3 + 2*7 + 1*9 + 4*10 + 3*5 + 5*8 + 6*4 + 9*2 = 199; 199 mod 11 = 1; 11 - 1 = 10, written X.
    expect(organisationCheckChar("D2143569")).toBe("X");
    // 0 for a remainder of 0 (11 - 0 = 11).
    expect(organisationCheckChar("00000000")).toBe("0");
    expect(() => organisationCheckChar("d2143569")).toThrow(RangeError);
  });
});
