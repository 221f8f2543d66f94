// Days on China Standard Time's calendar as plain integers, with their date strings made once: a synthetic city draws millions of dates.
import { CHINA_OFFSET_MS, type Instant } from "../time.js";

const DAY_MS = 86_400_000;

/** The day number (days since 1970-01-01 on China Standard Time's calendar) an instant falls on. */
export function dayOf(at: Instant): number {
  return Math.floor((at + CHINA_OFFSET_MS) / DAY_MS);
}

/** Midnight China Standard Time at the start of a day number. */
export function instantOfDay(day: number): Instant {
  return day * DAY_MS - CHINA_OFFSET_MS;
}

/** The day number of a date of the proleptic Gregorian calendar (H. Hinnant's days_from_civil: integer arithmetic only). */
export function dayOfDate(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Days the caches cover: 1900-01-01 to 2199-12-31, every date a synthetic subject or record can have. */
const FIRST = dayOfDate(1900, 1, 1);
const SPAN = dayOfDate(2200, 1, 1) - FIRST;

/**
 * Date strings and calendar arithmetic for day numbers, cached per day in flat arrays: after the first use of a day,
 * formatting it allocates nothing. Memory is fixed (three centuries of days), not proportional to the population.
 */
export class Calendar {
  private readonly iso: (string | undefined)[] = new Array<string | undefined>(SPAN);
  private readonly compact: (string | undefined)[] = new Array<string | undefined>(SPAN);
  /** year * 10000 + month * 100 + day, 0 when not computed yet. */
  private readonly ymd = new Int32Array(SPAN);

  private check(day: number): number {
    const i = day - FIRST;
    if (!(i >= 0 && i < SPAN)) throw new RangeError(`Calendar: day ${day} is outside 1900-2199`);
    return i;
  }

  /** YYYY-MM-DD. */
  isoDate(day: number): string {
    const i = this.check(day);
    let s = this.iso[i];
    if (s === undefined) {
      s = new Date(day * DAY_MS).toISOString().slice(0, 10);
      this.iso[i] = s;
    }
    return s;
  }

  /** YYYYMMDD, as in a resident ID. */
  compactDate(day: number): string {
    const i = this.check(day);
    let s = this.compact[i];
    if (s === undefined) {
      const iso = this.isoDate(day);
      s = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10);
      this.compact[i] = s;
    }
    return s;
  }

  private parts(day: number): number {
    const i = this.check(day);
    let p = this.ymd[i] as number;
    if (p === 0) {
      const d = new Date(day * DAY_MS);
      p = d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
      this.ymd[i] = p;
    }
    return p;
  }

  year(day: number): number {
    return Math.floor(this.parts(day) / 10000);
  }

  /**
   * The day a person born on `birthDay` turns `years` old: the same month and day, or 1 March for someone born on
   * 29 February in a common year (as `anniversary` in time.ts, which the evaluator uses). `years` may be negative.
   */
  anniversaryDay(birthDay: number, years: number): number {
    const p = this.parts(birthDay);
    const y = Math.floor(p / 10000) + years;
    const m = Math.floor(p / 100) % 100;
    const d = p % 100;
    const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    return m === 2 && d === 29 && !leap ? dayOfDate(y, 3, 1) : dayOfDate(y, m, d);
  }
}
