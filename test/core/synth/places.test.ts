// Where synthetic people live: --regions as a user writes it, and the age pyramid they are drawn from.
import { describe, expect, it } from "vitest";
import { BEIJING_DISTRICTS } from "../../../src/core/regions.js";
import { Calendar, dayOfDate } from "../../../src/core/synth/calendar.js";
import { DEFAULT_WEIGHT, JURISDICTIONS, parsePlaces, provinceAbbreviation, type Place } from "../../../src/core/synth/places.js";
import { AGE_BANDS, MAX_AGE_DAYS, sampleAgeDays, shareYoungerThan } from "../../../src/core/synth/population.js";
import { Random } from "../../../src/core/synth/random.js";

const places = (spec: string): Place[] => {
  const p = parsePlaces(spec);
  if (typeof p === "string") throw new Error(p);
  return p;
};
const sum = (ps: Place[]) => ps.reduce((s, p) => s + p.weight, 0);

describe("parsePlaces", () => {
  it("gives Beijing's 16 districts their 2020 census shares", () => {
    const ps = places("beijing");
    expect(ps.map((p) => p.code)).toEqual(BEIJING_DISTRICTS.map((d) => d.code));
    expect(sum(ps)).toBeCloseTo(1, 12);
    const total = BEIJING_DISTRICTS.reduce((s, d) => s + d.population2020, 0);
    const chaoyang = ps.find((p) => p.code === "110105") as Place;
    expect(chaoyang.weight).toBeCloseTo(345.246 / total, 12);
    expect(chaoyang.local).toBe("朝阳区");
    expect(chaoyang.city).toBe("北京");
  });

  it("mixes jurisdictions by population unless weights are given", () => {
    const byPopulation = places("beijing,rongcheng");
    const rongcheng = byPopulation.find((p) => p.code === "371082") as Place;
    const beijingTotal = BEIJING_DISTRICTS.reduce((s, d) => s + d.population2020, 0);
    expect(rongcheng.weight).toBeCloseTo(71.4 / (71.4 + beijingTotal), 10);

    const weighted = places("Beijing=1, hangzhou=1");
    expect(sum(weighted.filter((p) => p.code.startsWith("11")))).toBeCloseTo(0.5, 12);
    expect(sum(weighted.filter((p) => p.code.startsWith("3301")))).toBeCloseTo(0.5, 12);
    expect(weighted.filter((p) => p.code.startsWith("3301"))).toHaveLength(JURISDICTIONS.hangzhou?.length ?? -1);
  });

  it("reads weights given to some items only as shares of the whole, the rest sharing what is left", () => {
    const ps = places("beijing,rongcheng=0.1");
    expect(sum(ps.filter((p) => p.code === "371082"))).toBeCloseTo(0.1, 12);
    expect(sum(ps.filter((p) => p.code.startsWith("11")))).toBeCloseTo(0.9, 12);
    expect(parsePlaces("beijing,rongcheng=1")).toMatch(/leave nothing for the regions given without one/);
  });

  it("accepts six-digit region codes, known or not", () => {
    expect(places("110108")).toEqual([expect.objectContaining({ code: "110108", name: "Haidian", weight: 1 })]);
    const mixed = places("110108,440305");
    const shenzhen = mixed.find((p) => p.code === "440305") as Place;
    expect(shenzhen.weight).toBeCloseTo(DEFAULT_WEIGHT / (DEFAULT_WEIGHT + 313.3469), 10);
    expect(shenzhen.city).toBe("广东");
    expect(places("jiangsu").map((p) => p.city)).toContain("苏州");
  });

  it("names what is wrong", () => {
    expect(parsePlaces("")).toMatch(/no region given/);
    expect(parsePlaces("shanghai")).toMatch(/"shanghai": not a jurisdiction/);
    expect(parsePlaces("990101")).toMatch(/unknown province code 99/);
    expect(parsePlaces("beijing=0")).toMatch(/weight "0" is not a positive number/);
    expect(parsePlaces("beijing,110105")).toMatch(/region 110105 is given twice/);
  });

  it("knows each province's one-character abbreviation", () => {
    expect(provinceAbbreviation("110105")).toBe("京");
    expect(provinceAbbreviation("330106")).toBe("浙");
    expect(provinceAbbreviation("371082")).toBe("鲁");
  });
});

describe("age pyramid", () => {
  it("includes minors in Beijing's proportion and nobody of 100 or more", () => {
    const r = new Random(1);
    const n = 200_000;
    let minors = 0;
    let children = 0;
    let old = 0;
    let outOfRange = 0;
    for (let i = 0; i < n; i++) {
      const days = sampleAgeDays(r);
      if (days < 0 || days >= MAX_AGE_DAYS) outOfRange++;
      const years = days / 365.2425;
      if (years < 18) minors++;
      if (years < 15) children++;
      if (years >= 60) old++;
    }
    expect(outOfRange).toBe(0);
    expect(minors / n).toBeCloseTo(shareYoungerThan(18), 2);
    // The 2020 census: 0-14 about 12%, 60 and over about 20%.
    expect(children / n).toBeGreaterThan(0.11);
    expect(children / n).toBeLessThan(0.13);
    expect(old / n).toBeGreaterThan(0.19);
    expect(old / n).toBeLessThan(0.215);
    expect(AGE_BANDS).toHaveLength(20);
  });
});

describe("Calendar", () => {
  it("formats days and finds anniversaries as the evaluator does, 29 February included", () => {
    const c = new Calendar();
    const leapBirth = dayOfDate(2008, 2, 29);
    expect(c.isoDate(leapBirth)).toBe("2008-02-29");
    expect(c.compactDate(leapBirth)).toBe("20080229");
    expect(c.isoDate(c.anniversaryDay(leapBirth, 18))).toBe("2026-03-01");
    expect(c.isoDate(c.anniversaryDay(leapBirth, 16))).toBe("2024-02-29");
    expect(c.isoDate(c.anniversaryDay(dayOfDate(2026, 11, 23), -10))).toBe("2016-11-23");
    expect(c.year(dayOfDate(1999, 12, 31))).toBe(1999);
    expect(dayOfDate(1970, 1, 1)).toBe(0);
    expect(() => c.isoDate(dayOfDate(1899, 12, 31))).toThrow(RangeError);
  });
});
