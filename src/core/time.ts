// Instants and ISO 8601 durations as plain numbers: the core never reads a clock.

/** Milliseconds since the Unix epoch; the core's only notion of time. */
export type Instant = number;

/** A calendar duration: years and months are calendar units, days are 24 h. */
export interface Duration {
  years: number;
  months: number;
  days: number;
  text: string;
}

const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$/;

/** Parses a date-based ISO 8601 duration such as P2Y, P3M, P15D; null when not one or not positive. */
export function parseDuration(text: string): Duration | null {
  const m = DURATION.exec(text);
  if (!m || text === "P") return null;
  const years = Number(m[1] ?? 0);
  const months = Number(m[2] ?? 0);
  const days = Number(m[3] ?? 0) * 7 + Number(m[4] ?? 0);
  if (years + months + days === 0) return null;
  return { years, months, days, text };
}

/** China Standard Time's offset from UTC: the calendar records are dated on. */
export const CHINA_OFFSET_MS = 8 * 3_600_000;

/** The calendar day (YYYY-MM-DD) of an instant in China Standard Time. */
export function chinaDay(at: Instant): string {
  return remembered(chinaDays, at, () => new Date(at + CHINA_OFFSET_MS).toISOString().slice(0, 10));
}

/** Adds a calendar duration to an instant on China Standard Time's calendar, clamping the day to the end of a shorter month (Jan 31 + P1M = Feb 28/29). */
export function addDuration(at: Instant, d: Duration): Instant {
  // Records are dated on the calendar of the agencies that report them, so months end where they end in China.
  const date = new Date(at + CHINA_OFFSET_MS);
  const y = date.getUTCFullYear() + d.years;
  const monthIndex = date.getUTCMonth() + d.months;
  const targetYear = y + Math.floor(monthIndex / 12);
  const targetMonth = ((monthIndex % 12) + 12) % 12;
  const day = Math.min(date.getUTCDate(), daysInMonth(targetYear, targetMonth + 1));
  const base = Date.UTC(
    targetYear,
    targetMonth,
    day,
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
    date.getUTCMilliseconds(),
  );
  return base - CHINA_OFFSET_MS + d.days * 86_400_000;
}

/** Compares durations by their length from a fixed origin; enough to enforce maximum terms. */
export function durationLonger(a: Duration, b: Duration): boolean {
  const origin = Date.UTC(2000, 0, 31);
  return addDuration(origin, a) > addDuration(origin, b);
}

// Records come from Chinese agencies: a bare date means that day in China Standard Time.
const CHINA_OFFSET = "+08:00";
const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

// Every status of a batch was evaluated at the same instant, which the store parses back for each: the last text parsed
// is remembered.
let lastText: string | undefined;
let lastParsed: Instant | string = "";

/** Parses an ISO 8601 date or date-time with an offset; a bare date is midnight China Standard Time. Returns an error message when invalid. */
export function parseInstant(text: string): Instant | string {
  if (text !== lastText) {
    lastParsed = parseAnew(text);
    lastText = text;
  }
  return lastParsed;
}

function parseAnew(text: string): Instant | string {
  const m = INSTANT.exec(text);
  if (!m) {
    return `"${text}" is not an ISO 8601 date (YYYY-MM-DD) or date-time with an offset (YYYY-MM-DDTHH:MM:SSZ or +08:00)`;
  }
  const [, y, mo, d, hh, mi, ss] = m;
  if (!isRealDate(Number(y), Number(mo), Number(d))) return `"${text}" is not a real date`;
  if (hh !== undefined && (Number(hh) > 23 || Number(mi) > 59 || Number(ss ?? 0) > 59)) {
    return `"${text}" is not a real time of day`;
  }
  const full = hh === undefined ? `${y}-${mo}-${d}T00:00:00${CHINA_OFFSET}` : text;
  const ms = Date.parse(full);
  return Number.isNaN(ms) ? `"${text}" is not a valid instant` : ms;
}

/** True when year-month-day names a day of the Gregorian calendar. */
export function isRealDate(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** The number of days in a month (1-12) of the (proleptic) Gregorian calendar. */
function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (MONTH_DAYS[month - 1] as number);
}

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/** Formats an instant as an ISO 8601 UTC string, the one form the system writes. */
export function formatInstant(at: Instant): string {
  // The instant just formatted comes again first: every decision of a batch, and the checks answered in one millisecond.
  if (at === lastFormatted.at) return lastFormatted.text;
  const text = remembered(formatted, at, () => new Date(at).toISOString());
  lastFormatted.at = at;
  lastFormatted.text = text;
  return text;
}

const lastFormatted = { at: Number.NaN, text: "" };

// Evaluations format the same few instants over and over (the evaluation's own instant, records' dates, ends of
// terms) and a Date round trip costs far more than a lookup: the strings are remembered, in bounded maps.
const formatted = new Map<Instant, string>();
const chinaDays = new Map<Instant, string>();
const MAX_REMEMBERED = 100_000;

function remembered(memory: Map<Instant, string>, at: Instant, compute: () => string): string {
  const known = memory.get(at);
  if (known !== undefined) return known;
  if (memory.size >= MAX_REMEMBERED) memory.clear();
  const text = compute();
  memory.set(at, text);
  return text;
}

/** The instant a person born on birthDate (YYYY-MM-DD) turns `years` old, at midnight China Standard Time. */
export function anniversary(birthDate: string, years: number): Instant {
  // Worked out from the numbers rather than remembered: a city has tens of thousands of birth dates, and a Date
  // computation costs less than a lookup that mostly misses.
  const year = Number(birthDate.slice(0, 4)) + years;
  const month = Number(birthDate.slice(5, 7));
  const day = Number(birthDate.slice(8, 10));
  // Someone born on 29 February comes of age on 1 March in common years, never a day early.
  const leapDay = month === 2 && day === 29 && !isLeapYear(year);
  const midnight = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  midnight.setUTCFullYear(year, leapDay ? 2 : month - 1, leapDay ? 1 : day);
  return midnight.getTime() - CHINA_OFFSET_MS;
}
