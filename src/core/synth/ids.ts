// Identifiers for synthetic subjects: resident IDs with unique sequence numbers, unified social credit codes with valid organisation codes.
import { creditCodeCheckChar, residentIdCheckChar } from "../subject-id.js";
import { mix32 } from "./random.js";

/** Sequence numbers (ID digits 15-17) are odd for men, even for women: 500 odd ones (001-999), 499 even ones (002-998). */
const MALE_SLOTS = 500;
const FEMALE_SLOTS = 499;
/** Coprime with both slot counts: stepping by it visits every slot once, in an order that does not look like a counter. */
const SLOT_STEP = 277;

/**
 * Hands out resident IDs that are unique by construction: a counter per (region, birth day, sex) picks the next free
 * sequence number. Memory is two bytes per region, day and sex, whatever the population: a century of birth days in 16
 * districts is 2.3 MB. When a day's numbers of one sex run out (about 500 births registered in one county on one day),
 * the birth date moves to the day before, as an over-full day would have to in a real registry.
 */
const SEQUENCES: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));

export class ResidentIds {
  private readonly used: Uint16Array;

  /** `firstDay` and `lastDay`: the range of birth day numbers that may be asked for. */
  constructor(
    private readonly regions: readonly string[],
    private readonly firstDay: number,
    private readonly lastDay: number,
  ) {
    this.used = new Uint16Array(regions.length * (lastDay - firstDay + 1) * 2);
  }

  /**
   * Allocates an ID for a person of the region at index `r` of the constructor's list, born on a day (given with its
   * YYYYMMDD form by `compact`). Returns the ID and the birth day actually used (earlier than asked when that day was full).
   */
  allocate(r: number, birthDay: number, male: boolean, compact: (day: number) => string): { id: string; birthDay: number } {
    const region = this.regions[r];
    if (region === undefined) throw new RangeError(`ResidentIds: no region at index ${r}`);
    const slots = male ? MALE_SLOTS : FEMALE_SLOTS;
    for (let day = birthDay; day >= this.firstDay; day--) {
      if (day > this.lastDay) continue;
      const cell = ((r * (this.lastDay - this.firstDay + 1) + (day - this.firstDay)) << 1) | (male ? 1 : 0);
      const n = this.used[cell] as number;
      if (n >= slots) continue;
      this.used[cell] = n + 1;
      const slot = (n * SLOT_STEP + mix32(r, day, male ? 1 : 0)) % slots;
      const seq = male ? 2 * slot + 1 : 2 * slot + 2;
      const first17 = region + compact(day) + (SEQUENCES[seq] as string);
      return { id: first17 + residentIdCheckChar(first17), birthDay: day };
    }
    throw new RangeError(`ResidentIds: no sequence number left in region ${region} on or before the birth day asked for`);
  }
}

const CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2] as const;

/**
 * The check character of an organisation code (GB 11714-1997) over its first eight characters: digits count for their
 * value, letters A-Z for 10-35; c = 11 - (weighted sum mod 11), written X for 10 and 0 for 11. Characters 9-17 of a
 * unified social credit code are such a code.
 */
export function organisationCheckChar(first8: string): string {
  if (!/^[0-9A-Z]{8}$/.test(first8)) throw new RangeError(`organisationCheckChar needs 8 digits or capital letters, got ${JSON.stringify(first8)}`);
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    const c = first8.charCodeAt(i);
    const v = c <= 57 ? c - 48 : c - 55;
    sum += v * (ORG_WEIGHTS[i] as number);
  }
  const c = 11 - (sum % 11);
  return c === 10 ? "X" : c === 11 ? "0" : String(c);
}

// Both moduli are larger than any population asked of the generator; the multipliers are coprime with them, so the
// scrambled sequence numbers are distinct for distinct enterprises.
const NEW_SPACE = 31 ** 6;
const NEW_STEP = 48_271;
const OLD_LETTERS = "ABCDEFGHJKLNPQRTUWXY";
const OLD_SPACE = OLD_LETTERS.length * 10 ** 7;
const OLD_STEP = 7_919_003;

/**
 * The unified social credit code of the `index`-th synthetic enterprise: registration authority 9 (market regulation),
 * entity type 1 (enterprise), its region, then an organisation code: "MA" and six characters for enterprises
 * registered since the codes were unified (October 2015), a letter and seven digits for older ones, each with its
 * GB 11714 check, then the GB 32100 check character. Distinct indexes give distinct codes; `salt` varies them between
 * seeds.
 *
 * Every code has a letter among its first 17 characters: an all-digit code has the shape of a resident ID, and
 * parseSubjectId reads it as one (GB 11643's shape is the narrower, so it wins).
 */
export function creditCode(index: number, region: string, registeredSince2015: boolean, salt: number): string {
  let body: string;
  if (registeredSince2015) {
    let n = (index * NEW_STEP + salt) % NEW_SPACE;
    let tail = "";
    for (let i = 0; i < 6; i++) {
      tail = CREDIT_ALPHABET[n % 31] + tail;
      n = Math.floor(n / 31);
    }
    body = "MA" + tail;
  } else {
    const n = (index * OLD_STEP + salt) % OLD_SPACE;
    body = OLD_LETTERS[Math.floor(n / 10 ** 7)] + String(n % 10 ** 7).padStart(7, "0");
  }
  const first17 = "91" + region + body + organisationCheckChar(body);
  return first17 + creditCodeCheckChar(first17);
}
