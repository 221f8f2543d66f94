// Tests for instants and calendar durations: parsing, calendar addition with month-end clamping, coming of age.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  addDuration,
  anniversary,
  durationLonger,
  formatInstant,
  isRealDate,
  parseDuration,
  parseInstant,
  type Duration,
} from "../../src/core/time.js";

function dur(text: string): Duration {
  const d = parseDuration(text);
  if (!d) throw new Error(`${text} should parse`);
  return d;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("parseDuration", () => {
  it.each([
    ["P2Y", 2, 0, 0],
    ["P3M", 0, 3, 0],
    ["P1W", 0, 0, 7],
    ["P15D", 0, 0, 15],
    ["P1Y6M", 1, 6, 0],
    ["P1Y2M3D", 1, 2, 3],
    ["P2W3D", 0, 0, 17],
    ["P1Y1W", 1, 0, 7],
    ["P0Y1D", 0, 0, 1],
    ["P100Y", 100, 0, 0],
  ])("%s is %i years, %i months, %i days", (text, years, months, days) => {
    expect(parseDuration(text)).toEqual({ years, months, days, text });
  });

  it.each(["P", "P0D", "P0Y0M0W0D", "PT1H", "P1DT1H", "P1Y2H", "2Y", "P-1Y", "P1.5Y", "p1y", " P1Y", "P1Y ", "", "P1D1Y", "P1M1Y"])(
    "rejects %j",
    (text) => {
      expect(parseDuration(text)).toBeNull();
    },
  );

  it("counts weeks as seven days", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), (w) => {
        expect(parseDuration(`P${w}W`)?.days).toBe(7 * w);
      }),
    );
  });
});

describe("addDuration", () => {
  const utc = (y: number, m: number, d: number, h = 0, mi = 0, s = 0, ms = 0) => Date.UTC(y, m - 1, d, h, mi, s, ms);

  it("clamps Jan 31 + P1M to the last day of February", () => {
    expect(addDuration(utc(2026, 1, 31), dur("P1M"))).toBe(utc(2026, 2, 28));
    expect(addDuration(utc(2024, 1, 31), dur("P1M"))).toBe(utc(2024, 2, 29));
    expect(addDuration(utc(2100, 1, 31), dur("P1M"))).toBe(utc(2100, 2, 28));
    expect(addDuration(utc(2000, 1, 31), dur("P1M"))).toBe(utc(2000, 2, 29));
  });

  it("clamps to shorter months and across year ends", () => {
    expect(addDuration(utc(2026, 3, 31), dur("P1M"))).toBe(utc(2026, 4, 30));
    expect(addDuration(utc(2025, 12, 31), dur("P2M"))).toBe(utc(2026, 2, 28));
    expect(addDuration(utc(2025, 11, 30), dur("P3M"))).toBe(utc(2026, 2, 28));
    expect(addDuration(utc(2023, 1, 31), dur("P1Y1M"))).toBe(utc(2024, 2, 29));
    expect(addDuration(utc(2025, 5, 15), dur("P13M"))).toBe(utc(2026, 6, 15));
    expect(addDuration(utc(2025, 5, 15), dur("P24M"))).toBe(utc(2027, 5, 15));
  });

  it("adds years from 29 February to 28 February in common years, 29 in leap years", () => {
    expect(addDuration(utc(2024, 2, 29), dur("P1Y"))).toBe(utc(2025, 2, 28));
    expect(addDuration(utc(2024, 2, 29), dur("P4Y"))).toBe(utc(2028, 2, 29));
    expect(addDuration(utc(2096, 2, 29), dur("P4Y"))).toBe(utc(2100, 2, 28));
    expect(addDuration(utc(2096, 2, 29), dur("P12M"))).toBe(utc(2097, 2, 28));
  });

  it("adds days as 24 hours after the months, and keeps the time of day", () => {
    expect(addDuration(utc(2026, 1, 31), dur("P1M1D"))).toBe(utc(2026, 3, 1));
    expect(addDuration(utc(2026, 2, 20), dur("P15D"))).toBe(utc(2026, 3, 7));
    expect(addDuration(utc(2024, 2, 20), dur("P2W"))).toBe(utc(2024, 3, 5));
    expect(addDuration(utc(2026, 1, 31, 13, 45, 12, 345), dur("P1M"))).toBe(utc(2026, 2, 28, 13, 45, 12, 345));
    expect(addDuration(utc(2026, 1, 1, 23, 59, 59, 999), dur("P1D"))).toBe(utc(2026, 1, 2, 23, 59, 59, 999));
  });

  it("adds to China Standard Time dates that need no clamping", () => {
    const at = (t: string) => parseInstant(t) as number;
    expect(addDuration(at("2026-01-10"), dur("P5Y"))).toBe(at("2031-01-10"));
    expect(addDuration(at("2026-01-10"), dur("P2Y"))).toBe(at("2028-01-10"));
    expect(addDuration(at("2026-01-10"), dur("P6M"))).toBe(at("2026-07-10"));
  });

  it("only moves forward, and by at least the days and at most the longest months", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1950, 0, 1), max: Date.UTC(2100, 0, 1) }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 400 }),
        (t, years, months, days) => {
          const out = addDuration(t, { years, months, days, text: "" });
          const totalMonths = years * 12 + months;
          expect(out).toBeGreaterThanOrEqual(t + days * DAY + totalMonths * 28 * DAY - 3 * DAY * (totalMonths > 0 ? 1 : 0));
          expect(out).toBeLessThanOrEqual(t + days * DAY + totalMonths * 31 * DAY);
          if (totalMonths === 0) expect(out).toBe(t + days * DAY);
          // The time of day never changes.
          expect(((out % DAY) + DAY) % DAY).toBe(((t % DAY) + DAY) % DAY);
        },
      ),
    );
  });
});

describe("parseInstant", () => {
  it("reads a bare date as midnight China Standard Time (+08:00)", () => {
    expect(parseInstant("2026-01-01")).toBe(Date.UTC(2025, 11, 31, 16));
    expect(parseInstant("2024-02-29")).toBe(Date.UTC(2024, 1, 28, 16));
    expect(formatInstant(parseInstant("2026-06-15") as number)).toBe("2026-06-14T16:00:00.000Z");
  });

  it("reads date-times in UTC and with offsets", () => {
    expect(parseInstant("2026-01-01T00:00:00Z")).toBe(Date.UTC(2026, 0, 1));
    expect(parseInstant("2026-01-01T08:00:00+08:00")).toBe(Date.UTC(2026, 0, 1));
    expect(parseInstant("2026-01-01T10:30-05:00")).toBe(Date.UTC(2026, 0, 1, 15, 30));
    expect(parseInstant("2026-01-01T00:00:00.123Z")).toBe(Date.UTC(2026, 0, 1) + 123);
    expect(parseInstant("2026-07-01T23:59:59+00:00")).toBe(Date.UTC(2026, 6, 1, 23, 59, 59));
  });

  it("rejects dates that do not exist, with the reason", () => {
    expect(parseInstant("2026-02-30")).toBe('"2026-02-30" is not a real date');
    expect(parseInstant("2025-02-29")).toBe('"2025-02-29" is not a real date');
    expect(parseInstant("2100-02-29")).toBe('"2100-02-29" is not a real date');
    expect(parseInstant("2026-13-01")).toBe('"2026-13-01" is not a real date');
    expect(parseInstant("2026-00-10")).toBe('"2026-00-10" is not a real date');
    expect(parseInstant("2026-04-31T00:00:00Z")).toBe('"2026-04-31T00:00:00Z" is not a real date');
  });

  it("rejects times of day that do not exist, with the reason", () => {
    expect(parseInstant("2026-01-01T25:00:00Z")).toBe('"2026-01-01T25:00:00Z" is not a real time of day');
    expect(parseInstant("2026-01-01T24:00+08:00")).toBe('"2026-01-01T24:00+08:00" is not a real time of day');
    expect(parseInstant("2026-01-01T23:60:00Z")).toBe('"2026-01-01T23:60:00Z" is not a real time of day');
    expect(parseInstant("2026-01-01T23:59:60Z")).toBe('"2026-01-01T23:59:60Z" is not a real time of day');
  });

  it("rejects an impossible offset", () => {
    expect(parseInstant("2026-01-01T00:00:00+24:00")).toBe('"2026-01-01T00:00:00+24:00" is not a valid instant');
  });

  it.each(["garbage", "", "2026-1-1", "2026/01/01", "20260101", "2026-01-01T10:00:00", "2026-01-01T10Z", "2026-01-01 10:00:00Z", " 2026-01-01", "2026-01-01Z"])(
    "rejects %j as not ISO 8601, saying which forms are accepted",
    (text) => {
      const r = parseInstant(text);
      expect(typeof r).toBe("string");
      expect(r).toBe(
        `"${text}" is not an ISO 8601 date (YYYY-MM-DD) or date-time with an offset (YYYY-MM-DDTHH:MM:SSZ or +08:00)`,
      );
    },
  );

  it("round-trips every formatted instant", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 0, 1) }), (t) => {
        expect(parseInstant(formatInstant(t))).toBe(t);
      }),
    );
  });
});

describe("isRealDate", () => {
  it("knows month lengths and leap years", () => {
    expect(isRealDate(2024, 2, 29)).toBe(true);
    expect(isRealDate(2000, 2, 29)).toBe(true);
    expect(isRealDate(1900, 2, 29)).toBe(false);
    expect(isRealDate(2026, 4, 30)).toBe(true);
    expect(isRealDate(2026, 4, 31)).toBe(false);
    expect(isRealDate(2026, 0, 1)).toBe(false);
    expect(isRealDate(2026, 1, 0)).toBe(false);
  });

  it("agrees with the calendar of JavaScript dates, years 0 to 9999 included", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }), (y, m, d) => {
        const date = new Date(0);
        date.setUTCFullYear(y, m - 1, d);
        expect(isRealDate(y, m, d)).toBe(date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d);
      }),
    );
    expect(isRealDate(0, 2, 29)).toBe(true);
    expect(isRealDate(100, 2, 29)).toBe(false);
  });
});

describe("anniversary", () => {
  it("is midnight China Standard Time on the birthday, years later", () => {
    expect(anniversary("2000-05-01", 18)).toBe(parseInstant("2018-05-01"));
    expect(anniversary("2008-12-31", 18)).toBe(parseInstant("2026-12-31"));
    expect(anniversary("1990-01-01", 0)).toBe(parseInstant("1990-01-01"));
    expect(formatInstant(anniversary("2008-06-15", 18))).toBe("2026-06-14T16:00:00.000Z");
  });

  it("puts a 29 February birthday on 1 March in common years, never a day early", () => {
    expect(anniversary("2008-02-29", 18)).toBe(parseInstant("2026-03-01"));
    expect(anniversary("2008-02-29", 17)).toBe(parseInstant("2025-03-01"));
    expect(anniversary("2004-02-29", 20)).toBe(parseInstant("2024-02-29"));
    expect(anniversary("2000-02-29", 100)).toBe(parseInstant("2100-03-01"));
    expect(anniversary("2000-02-29", 0)).toBe(parseInstant("2000-02-29"));
  });

  it("is the date the birthday falls on that year, for every birth date", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9000 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }), fc.integer({ min: 0, max: 150 }), (y, m, d, years) => {
        fc.pre(isRealDate(y, m, d));
        const pad = (n: number, w: number) => String(n).padStart(w, "0");
        const birthday = isRealDate(y + years, m, d) ? `${pad(y + years, 4)}-${pad(m, 2)}-${pad(d, 2)}` : `${pad(y + years, 4)}-03-01`;
        expect(anniversary(`${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`, years)).toBe(parseInstant(birthday));
      }),
    );
  });

  it("parses the same text to the same instant however often it is asked, and still refuses what is not one", () => {
    expect(parseInstant("2026-11-23T04:00:00.000Z")).toBe(Date.UTC(2026, 10, 23, 4));
    expect(parseInstant("2026-11-23T04:00:00.000Z")).toBe(Date.UTC(2026, 10, 23, 4));
    expect(parseInstant("2026-02-30")).toMatch(/not a real date/);
    expect(parseInstant("2026-02-30")).toMatch(/not a real date/);
    expect(parseInstant("2026-02-28")).toBe(Date.UTC(2026, 1, 27, 16));
  });

  it("grows with age, a calendar year at a time", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1900, max: 2100 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        fc.integer({ min: 0, max: 120 }),
        (y, m, d, years) => {
          fc.pre(isRealDate(y, m, d));
          const birth = `${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
          const a = anniversary(birth, years);
          const b = anniversary(birth, years + 1);
          expect(b - a).toBeGreaterThanOrEqual(365 * DAY);
          expect(b - a).toBeLessThanOrEqual(367 * DAY);
          // Always midnight in China: 16:00 UTC.
          expect(new Date(a).getUTCHours()).toBe(16);
        },
      ),
    );
  });
});

describe("durationLonger", () => {
  it("compares durations by calendar length", () => {
    expect(durationLonger(dur("P1Y"), dur("P11M"))).toBe(true);
    expect(durationLonger(dur("P11M"), dur("P1Y"))).toBe(false);
    expect(durationLonger(dur("P6Y"), dur("P5Y"))).toBe(true);
    expect(durationLonger(dur("P2Y1D"), dur("P2Y"))).toBe(true);
    expect(durationLonger(dur("P1Y"), dur("P365D"))).toBe(true);
  });

  it("is false for durations of the same length, either way round", () => {
    for (const [a, b] of [
      ["P12M", "P1Y"],
      ["P2W", "P14D"],
      ["P5Y", "P5Y"],
      ["P60M", "P5Y"],
    ] as const) {
      expect(durationLonger(dur(a), dur(b)), `${a} vs ${b}`).toBe(false);
      expect(durationLonger(dur(b), dur(a)), `${b} vs ${a}`).toBe(false);
    }
    // Two years plus three years of extension is exactly the five-year maximum term.
    expect(durationLonger({ years: 5, months: 0, days: 0, text: "P2Y+3Y" }, dur("P5Y"))).toBe(false);
  });

  it("measures months from 31 January of a leap year", () => {
    // 2000-01-31 + P1M = 2000-02-29: 29 days.
    expect(durationLonger(dur("P30D"), dur("P1M"))).toBe(true);
    expect(durationLonger(dur("P29D"), dur("P1M"))).toBe(false);
    expect(durationLonger(dur("P1M"), dur("P29D"))).toBe(false);
    expect(durationLonger(dur("P1M"), dur("P28D"))).toBe(true);
  });

  it("is a strict order: never both ways, and irreflexive", () => {
    const d = fc
      .record({ years: fc.integer({ min: 0, max: 10 }), months: fc.integer({ min: 0, max: 24 }), days: fc.integer({ min: 0, max: 800 }) })
      .map((x) => ({ ...x, text: "" }));
    fc.assert(
      fc.property(d, d, (a, b) => {
        expect(durationLonger(a, a)).toBe(false);
        expect(durationLonger(a, b) && durationLonger(b, a)).toBe(false);
      }),
    );
  });
});

describe("calendar arithmetic on China Standard Time", () => {
  const at = (t: string) => parseInstant(t) as number;
  const d = (t: string) => parseDuration(t) as NonNullable<ReturnType<typeof parseDuration>>;
  it("clamps month ends on the calendar of the reporting agencies", () => {
    expect(addDuration(at("2026-01-31"), d("P1M"))).toBe(at("2026-02-28"));
    expect(addDuration(at("2026-03-31"), d("P1M"))).toBe(at("2026-04-30"));
    expect(addDuration(at("2024-02-29"), d("P1Y"))).toBe(at("2025-02-28"));
  });
  it("knows leap years below 100", () => {
    expect(typeof parseInstant("0004-02-29")).toBe("number");
    expect(typeof parseInstant("0000-02-29")).toBe("number");
  });
});
