// Tests for the region-code table: completeness of provinces, Beijing districts, and name look-ups.
import { describe, expect, it } from "vitest";
import { BEIJING_DISTRICTS, PROVINCE_CODES, provinceName, regionName } from "../../src/core/regions.js";

describe("PROVINCE_CODES", () => {
  it("lists exactly the 34 province-level codes", () => {
    const ranges: [number, number][] = [[11, 15], [21, 23], [31, 37], [41, 46], [50, 54], [61, 65], [71, 71], [81, 82]];
    const expected = ranges.flatMap(([lo, hi]) => Array.from({ length: hi - lo + 1 }, (_, i) => String(lo + i)));
    expect(PROVINCE_CODES).toEqual(expected);
    expect(PROVINCE_CODES).toHaveLength(34);
  });

  it("names every province", () => {
    for (const code of PROVINCE_CODES) expect(provinceName(code), code).toBeTypeOf("string");
  });
});

describe("provinceName", () => {
  it("accepts 2- and 6-digit codes", () => {
    expect(provinceName("11")).toBe("Beijing");
    expect(provinceName("32")).toBe("Jiangsu");
    expect(provinceName("330106")).toBe("Zhejiang");
    expect(provinceName("371082")).toBe("Shandong");
  });

  it("returns undefined for unknown or malformed codes", () => {
    expect(provinceName("99")).toBeUndefined();
    expect(provinceName("10")).toBeUndefined();
    expect(provinceName("1101")).toBeUndefined();
    expect(provinceName("ab0000")).toBeUndefined();
  });
});

describe("regionName", () => {
  it("names table entries and province-level xx0000 codes", () => {
    expect(regionName("110105")).toBe("Chaoyang");
    expect(regionName("110119")).toBe("Yanqing");
    expect(regionName("330100")).toBe("Hangzhou");
    expect(regionName("330106")).toBe("Hangzhou Xihu District");
    expect(regionName("320100")).toBe("Nanjing");
    expect(regionName("320102")).toBe("Nanjing Xuanwu District");
    expect(regionName("371082")).toBe("Rongcheng (Weihai, Shandong)");
    expect(regionName("440000")).toBe("Guangdong");
  });

  it("returns undefined outside the table", () => {
    expect(regionName("110103")).toBeUndefined(); // Chongwen, merged into Dongcheng in 2010
    expect(regionName("990000")).toBeUndefined();
    expect(regionName("11")).toBeUndefined();
  });
});

describe("BEIJING_DISTRICTS", () => {
  it("has the 16 districts with unique Beijing codes", () => {
    expect(BEIJING_DISTRICTS).toHaveLength(16);
    expect(new Set(BEIJING_DISTRICTS.map((d) => d.code)).size).toBe(16);
    for (const d of BEIJING_DISTRICTS) {
      expect(d.code).toMatch(/^1101\d\d$/);
      expect(regionName(d.code)).toBe(d.name);
    }
  });

  it("populations add up to the 2020 census total of 21,893,095", () => {
    const total = BEIJING_DISTRICTS.reduce((sum, d) => sum + Math.round(d.population2020 * 10_000), 0);
    expect(total).toBe(21_893_095);
  });
});
