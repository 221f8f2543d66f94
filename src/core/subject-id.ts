// Parsing and validation of Chinese subject identifiers: resident IDs (GB 11643-1999) and unified social credit codes (GB 32100-2015).
import { provinceName } from "./regions.js";
import { isRealDate } from "./time.js";

export type SubjectKind = "person" | "enterprise";

export interface Subject {
  /** Normalised identifier (check character and letters upper-cased). */
  id: string;
  kind: SubjectKind;
  /** Six-digit administrative region code (GB/T 2260). */
  region: string;
  /** persons only: YYYY-MM-DD */
  birthDate?: string;
}

export type ParseResult = { ok: true; subject: Subject } | { ok: false; reason: string };

const ID_LENGTH = 18;

const RESIDENT_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const RESIDENT_CHECK_CHARS = "10X98765432";

// I, O, S, V, Z are left out by the standard because they are easily confused with 1, 0, 5, U, 2.
const CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;

// Births before 1900 cannot belong to a living person, so such a date is far likelier to be a typo.
const MIN_BIRTH_YEAR = 1900;

const DIGIT_0 = 48;
const CHECK_X = 88;
const CHECK_x = 120;

/** The GB 11643 weighted sum of the first 17 characters of `s`, or -1 when one of them is not an ASCII digit. */
function residentWeightedSum(s: string): number {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const d = s.charCodeAt(i) - DIGIT_0;
    // Written so that NaN (past the end of a short string) fails too.
    if (!(d >= 0 && d <= 9)) return -1;
    sum += d * (RESIDENT_WEIGHTS[i] as number);
  }
  return sum;
}

/** Check character (0-9 or X) that completes the first 17 digits of a resident ID. */
export function residentIdCheckChar(first17: string): string {
  const sum = first17.length === 17 ? residentWeightedSum(first17) : -1;
  if (sum < 0) {
    throw new RangeError(`residentIdCheckChar needs exactly 17 digits, got ${JSON.stringify(first17)}`);
  }
  return RESIDENT_CHECK_CHARS[sum % 11]!;
}

/** Check character that completes the first 17 characters of a unified social credit code. */
export function creditCodeCheckChar(first17: string): string {
  const chars = Array.from(first17.toUpperCase());
  if (chars.length !== 17) {
    throw new RangeError(`creditCodeCheckChar needs exactly 17 characters, got ${JSON.stringify(first17)}`);
  }
  let sum = 0;
  chars.forEach((ch, i) => {
    const value = CREDIT_ALPHABET.indexOf(ch);
    if (value < 0) {
      throw new RangeError(`creditCodeCheckChar: ${JSON.stringify(ch)} at position ${i + 1} is not in the GB 32100 alphabet`);
    }
    sum += value * CREDIT_WEIGHTS[i]!;
  });
  const c = 31 - (sum % 31);
  return CREDIT_ALPHABET[c === 31 ? 0 : c]!;
}

// Valid unified social credit codes as parsed lately: a batch of checks or a page of a rescore parses the same codes
// again and again, and their alphabet makes a parse dearer than a look-up. Frozen, because every caller shares them.
const PARSED = new Map<string, ParseResult>();
const MAX_PARSED = 50_000;

/** Parse a resident ID or unified social credit code, explaining exactly what is wrong when it is invalid. */
export function parseSubjectId(raw: string): ParseResult {
  const resident = validResidentId(raw);
  if (resident !== undefined) return resident;
  const known = PARSED.get(raw);
  if (known !== undefined) return known;
  const result = parseAnew(raw);
  if (!result.ok) return result;
  const shared: ParseResult = Object.freeze({ ok: true, subject: Object.freeze(result.subject) });
  if (PARSED.size >= MAX_PARSED) PARSED.clear();
  PARSED.set(raw, shared);
  return shared;
}

/**
 * A valid resident ID parsed in one pass over its character codes, or undefined for anything else (which
 * parseAnew then explains). Nearly every ID a server sees is one: working it out again costs less than finding it
 * among thousands remembered, whose table and strings are rarely in the processor's cache.
 */
function validResidentId(raw: string): ParseResult | undefined {
  if (raw.length !== ID_LENGTH) return undefined;
  const sum = residentWeightedSum(raw);
  if (sum < 0) return undefined;
  const last = raw.charCodeAt(17);
  const expected = RESIDENT_CHECK_CHARS.charCodeAt(sum % 11);
  if (last !== expected && !(last === CHECK_x && expected === CHECK_X)) return undefined;
  const digit = (i: number) => raw.charCodeAt(i) - DIGIT_0;
  const year = digit(6) * 1000 + digit(7) * 100 + digit(8) * 10 + digit(9);
  const month = digit(10) * 10 + digit(11);
  const day = digit(12) * 10 + digit(13);
  if (year < MIN_BIRTH_YEAR || !isRealDate(year, month, day)) return undefined;
  const region = raw.slice(0, 6);
  if (provinceName(region) === undefined) return undefined;
  // A fresh flat string rather than `raw`, which is usually a slice of the request's URL: every Map keyed by subject
  // (the measures remembered, a fold's subjects) hashes and compares a slice through V8's slow paths.
  const c = (i: number) => raw.charCodeAt(i);
  const id = String.fromCharCode(c(0), c(1), c(2), c(3), c(4), c(5), c(6), c(7), c(8), c(9), c(10), c(11), c(12), c(13), c(14), c(15), c(16), last === CHECK_x ? CHECK_X : last);
  return { ok: true, subject: { id, kind: "person", region, birthDate: `${raw.slice(6, 10)}-${raw.slice(10, 12)}-${raw.slice(12, 14)}` } };
}

function parseAnew(raw: string): ParseResult {
  const padding = describePadding(raw);
  if (padding !== undefined) {
    return fail(`${JSON.stringify(raw)} has ${padding} whitespace; subject IDs must not be padded`);
  }
  // Count code points, not UTF-16 units, so positions and lengths match what a person sees.
  const chars = Array.from(raw);
  if (chars.length !== ID_LENGTH) {
    return fail(
      `${JSON.stringify(raw)} is not a subject ID: expected an 18-digit resident ID (GB 11643) ` +
        `or an 18-character unified social credit code (GB 32100), got ${chars.length} characters`,
    );
  }
  // The standards overlap on all-digit strings; GB 11643's shape is the narrower one, so it wins.
  return /^\d{17}[\dXx]$/.test(raw) ? parseResidentId(raw) : parseCreditCode(chars);
}

function parseResidentId(raw: string): ParseResult {
  const id = raw.toUpperCase();
  const body = id.slice(0, 17);
  const region = id.slice(0, 6);
  const birth = id.slice(6, 14);
  const problems: string[] = [];

  const provinceProblem = checkProvince(region);
  if (provinceProblem !== undefined) problems.push(provinceProblem);

  const dateProblem = checkBirthDate(birth);
  if (dateProblem !== undefined) problems.push(dateProblem);

  const expected = residentIdCheckChar(body);
  const given = raw.slice(17);
  if (id[17] !== expected) problems.push(`check character is ${given} but should be ${expected}`);

  // Separating the check character makes a mismatch easy to spot by eye.
  if (problems.length > 0) return fail(`resident ID ${raw.slice(0, 17)} ${given}: ${problems.join("; ")}`);

  return {
    ok: true,
    subject: {
      id,
      kind: "person",
      region,
      birthDate: `${birth.slice(0, 4)}-${birth.slice(4, 6)}-${birth.slice(6, 8)}`,
    },
  };
}

function parseCreditCode(rawChars: readonly string[]): ParseResult {
  const label = `unified social credit code ${rawChars.slice(0, 17).join("")} ${rawChars[17]}`;
  const chars = rawChars.map((ch) => ch.toUpperCase());

  // Without a valid alphabet the checksum is meaningless, so report only these characters.
  // ASCII is required first because some non-ASCII letters upper-case into ASCII ones (e.g. U+017F to S).
  const outside = rawChars
    .map((ch, i) => ({ ch, position: i + 1 }))
    .filter(({ ch }) => !/^[0-9A-Za-z]$/.test(ch) || !CREDIT_ALPHABET.includes(ch.toUpperCase()));
  if (outside.length > 0) {
    const list = outside.map(({ ch, position }) => `${JSON.stringify(ch)} at position ${position}`).join(", ");
    const [noun, verb] = outside.length === 1 ? ["character", "is"] : ["characters", "are"];
    return fail(`${label}: ${noun} ${list} ${verb} not in the GB 32100 alphabet (digits and A-Y except I, O, S, V, Z)`);
  }

  const id = chars.join("");
  const region = id.slice(2, 8);
  const problems: string[] = [];

  if (!/^\d{6}$/.test(region)) {
    const bad = Array.from(region)
      .map((ch, i) => ({ ch, position: i + 3 }))
      .filter(({ ch }) => !/\d/.test(ch))
      .map(({ ch, position }) => `${JSON.stringify(ch)} at position ${position}`);
    problems.push(`region code ${region} (characters 3-8) must be digits, found ${bad.join(", ")}`);
  } else {
    const provinceProblem = checkProvince(region);
    if (provinceProblem !== undefined) problems.push(provinceProblem);
  }

  const expected = creditCodeCheckChar(id.slice(0, 17));
  if (id[17] !== expected) problems.push(`check character is ${rawChars[17]} but should be ${expected}`);

  if (problems.length > 0) return fail(`${label}: ${problems.join("; ")}`);

  return { ok: true, subject: { id, kind: "enterprise", region } };
}

function checkProvince(region: string): string | undefined {
  const code = region.slice(0, 2);
  return provinceName(code) === undefined ? `unknown province code ${code} in region ${region}` : undefined;
}

function checkBirthDate(yyyymmdd: string): string | undefined {
  const year = Number(yyyymmdd.slice(0, 4));
  const month = Number(yyyymmdd.slice(4, 6));
  const day = Number(yyyymmdd.slice(6, 8));
  if (!isRealDate(year, month, day)) {
    return `birth date ${yyyymmdd} is not a real date`;
  }
  if (year < MIN_BIRTH_YEAR) {
    return `birth date ${yyyymmdd} is impossible: year ${year} is before ${MIN_BIRTH_YEAR}`;
  }
  return undefined;
}

function describePadding(raw: string): string | undefined {
  const leading = /^\s/u.test(raw);
  const trailing = /\s$/u.test(raw);
  if (leading && trailing) return "leading and trailing";
  if (leading) return "leading";
  if (trailing) return "trailing";
  return undefined;
}

function fail(reason: string): ParseResult {
  return { ok: false, reason };
}
