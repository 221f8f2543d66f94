// Tests for resident ID / unified social credit code parsing: fixtures, every rejection reason, and checksum properties.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { creditCodeCheckChar, parseSubjectId, residentIdCheckChar, type ParseResult } from "../../src/core/subject-id.js";
import { PROVINCE_CODES } from "../../src/core/regions.js";

const DIGITS = "0123456789";
const CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";

function residentId(first17: string): string {
  return first17 + residentIdCheckChar(first17);
}

function creditCode(first17: string): string {
  return first17 + creditCodeCheckChar(first17);
}

function reasonOf(result: ParseResult): string {
  if (result.ok) throw new Error(`expected rejection, got ${JSON.stringify(result.subject)}`);
  return result.reason;
}

// parseSubjectId sends these to the resident-ID branch, so USCC properties must avoid them.
function hasResidentShape(s: string): boolean {
  return /^\d{17}[\dXx]$/.test(s);
}

describe("check characters", () => {
  it("match hand-computed values", () => {
    // 11010519491231002: weighted sum 167, 167 mod 11 = 2, "10X98765432"[2] = X.
    expect(residentIdCheckChar("11010519491231002")).toBe("X");
    // 91350100M000100Y4: weighted sum 1640, 1640 mod 31 = 28, 31 - 28 = 3.
    expect(creditCodeCheckChar("91350100M000100Y4")).toBe("3");
    expect(creditCodeCheckChar("91350100m000100y4")).toBe("3");
  });

  it("reject malformed input instead of computing garbage", () => {
    expect(() => residentIdCheckChar("1101051949123100")).toThrow(RangeError);
    expect(() => residentIdCheckChar("1101051949123100A")).toThrow(RangeError);
    expect(() => creditCodeCheckChar("91350100M000100Y")).toThrow(RangeError);
    expect(() => creditCodeCheckChar("91350100I000100Y4")).toThrow(/position 9/);
  });

  it("maps a credit-code sum divisible by 31 to 0, not to an out-of-range index", () => {
    // All zeros sums to 0, so c = 31 which the standard folds to 0.
    expect(creditCodeCheckChar("00000000000000000")).toBe("0");
  });
});

describe("parseSubjectId: valid resident IDs", () => {
  it("accepts the classic literal fixture 11010519491231002X", () => {
    expect(parseSubjectId("11010519491231002X")).toEqual({
      ok: true,
      subject: { id: "11010519491231002X", kind: "person", region: "110105", birthDate: "1949-12-31" },
    });
  });

  it("normalises a lowercase x check character to X", () => {
    const result = parseSubjectId("11010519491231002x");
    expect(result.ok && result.subject.id).toBe("11010519491231002X");
  });

  it("accepts computed examples, including leap days", () => {
    for (const first17 of ["33010619900101123", "32010220000229456", "37108220240229001", "65000019000101000"]) {
      const id = residentId(first17);
      const result = parseSubjectId(id);
      expect(result.ok, id).toBe(true);
    }
    const result = parseSubjectId(residentId("32010220000229456"));
    expect(result.ok && result.subject).toEqual({
      id: residentId("32010220000229456"),
      kind: "person",
      region: "320102",
      birthDate: "2000-02-29",
    });
  });
});

describe("parseSubjectId: valid unified social credit codes", () => {
  it("accepts the literal fixture 91350100M000100Y43", () => {
    expect(parseSubjectId("91350100M000100Y43")).toEqual({
      ok: true,
      subject: { id: "91350100M000100Y43", kind: "enterprise", region: "350100" },
    });
  });

  it("normalises lowercase letters to uppercase", () => {
    const result = parseSubjectId("91350100m000100y43");
    expect(result.ok && result.subject.id).toBe("91350100M000100Y43");
  });

  it("accepts computed examples", () => {
    expect(creditCode("91110105MA01ABCDE")).toBe("91110105MA01ABCDEB");
    for (const first17 of ["91110105MA01ABCDE", "12330100470000000", "Y1371082ABCDEFGHJ"]) {
      const id = creditCode(first17);
      const result = parseSubjectId(id);
      expect(result.ok && result.subject.kind, id).toBe("enterprise");
    }
  });

  it("judges an all-digit credit code as a resident ID, as the shape rule says", () => {
    // 123301004700000070 satisfies GB 32100, but 17 digits plus a digit is the resident-ID shape.
    expect(creditCode("12330100470000007")).toBe("123301004700000070");
    expect(reasonOf(parseSubjectId("123301004700000070"))).toMatch(/^resident ID .*birth date 00470000 is not a real date/);
  });
});

describe("parseSubjectId: rejections say which problem", () => {
  it("rejects leading, trailing and surrounding whitespace explicitly", () => {
    expect(reasonOf(parseSubjectId(" 11010519491231002X"))).toBe(
      '" 11010519491231002X" has leading whitespace; subject IDs must not be padded',
    );
    expect(reasonOf(parseSubjectId("11010519491231002X\n"))).toMatch(/has trailing whitespace/);
    expect(reasonOf(parseSubjectId("\t91350100M000100Y43 "))).toMatch(/has leading and trailing whitespace/);
  });

  it("rejects wrong lengths with both accepted shapes named", () => {
    expect(reasonOf(parseSubjectId("12345"))).toBe(
      '"12345" is not a subject ID: expected an 18-digit resident ID (GB 11643) ' +
        "or an 18-character unified social credit code (GB 32100), got 5 characters",
    );
    expect(reasonOf(parseSubjectId(""))).toMatch(/got 0 characters$/);
    expect(reasonOf(parseSubjectId("11010519491231002X0"))).toMatch(/got 19 characters$/);
  });

  it("rejects a bad resident-ID check character, naming expected and actual", () => {
    expect(reasonOf(parseSubjectId("110105194912310025"))).toBe(
      "resident ID 11010519491231002 5: check character is 5 but should be X",
    );
  });

  it("rejects an impossible birth date even when the checksum is right", () => {
    const reason = reasonOf(parseSubjectId(residentId("11010520230231001")));
    expect(reason).toMatch(/birth date 20230231 is not a real date/);
    expect(reason).not.toMatch(/check character/);
    expect(reasonOf(parseSubjectId(residentId("11010519000229001")))).toMatch(/birth date 19000229 is not a real date/);
    expect(reasonOf(parseSubjectId(residentId("11010519491301001")))).toMatch(/birth date 19491301 is not a real date/);
    expect(reasonOf(parseSubjectId(residentId("11010519491200001")))).toMatch(/birth date 19491200 is not a real date/);
    for (const mmdd of ["0431", "0631", "0931", "1131", "0230"]) {
      expect(reasonOf(parseSubjectId(residentId(`1101051990${mmdd}001`)))).toMatch(`birth date 1990${mmdd} is not a real date`);
    }
  });

  it("rejects birth years before 1900", () => {
    expect(reasonOf(parseSubjectId(residentId("11010518991231001")))).toMatch(
      /birth date 18991231 is impossible: year 1899 is before 1900/,
    );
  });

  it("rejects an unknown province in a resident ID", () => {
    expect(reasonOf(parseSubjectId(residentId("99010519491231002")))).toBe(
      `resident ID 99010519491231002 ${residentIdCheckChar("99010519491231002")}: unknown province code 99 in region 990105`,
    );
  });

  it("reports every problem it finds at once", () => {
    const reason = reasonOf(parseSubjectId("990105202302310021"));
    expect(reason).toMatch(/unknown province code 99/);
    expect(reason).toMatch(/birth date 20230231 is not a real date/);
    expect(reason).toMatch(/check character is 1 but should be/);
  });

  it("rejects a bad credit-code check character, naming expected and actual", () => {
    expect(reasonOf(parseSubjectId("91350100M000100Y44"))).toBe(
      "unified social credit code 91350100M000100Y4 4: check character is 4 but should be 3",
    );
  });

  it.each(["I", "O", "S", "V", "Z", "i", "-", "é"])("rejects %j in a credit code and names its position", (ch) => {
    const id = `91350100${ch}000100Y43`;
    expect(reasonOf(parseSubjectId(id))).toBe(
      `unified social credit code 91350100${ch}000100Y4 3: character ${JSON.stringify(ch)} at position 9 ` +
        "is not in the GB 32100 alphabet (digits and A-Y except I, O, S, V, Z)",
    );
  });

  it("lists every character outside the alphabet", () => {
    expect(reasonOf(parseSubjectId("O1350100M000100Y4Z"))).toMatch(
      /characters "O" at position 1, "Z" at position 18 are not in the GB 32100 alphabet/,
    );
  });

  it("rejects non-digits in a credit code's region code", () => {
    const reason = reasonOf(parseSubjectId(creditCode("9135A100M000100Y4")));
    expect(reason).toMatch(/region code 35A100 \(characters 3-8\) must be digits, found "A" at position 5/);
    expect(reason).not.toMatch(/check character/);
  });

  it("rejects an unknown province in a credit code", () => {
    expect(reasonOf(parseSubjectId(creditCode("91990100M000100Y4")))).toMatch(/unknown province code 99 in region 990100/);
  });
});

const residentParts = fc.record({
  province: fc.constantFrom(...PROVINCE_CODES),
  county: fc.string({ unit: fc.constantFrom(...DIGITS), minLength: 4, maxLength: 4 }),
  // JS Date is an independent oracle for which calendar dates exist.
  birth: fc.date({ min: new Date("1900-01-01T00:00:00Z"), max: new Date("9999-12-31T00:00:00Z"), noInvalidDate: true }),
  sequence: fc.string({ unit: fc.constantFrom(...DIGITS), minLength: 3, maxLength: 3 }),
});

const validResidentId = residentParts.map(({ province, county, birth, sequence }) =>
  residentId(province + county + birth.toISOString().slice(0, 10).replaceAll("-", "") + sequence),
);

const validCreditCode = fc
  .record({
    head: fc.string({ unit: fc.constantFrom(...CREDIT_ALPHABET), minLength: 2, maxLength: 2 }),
    province: fc.constantFrom(...PROVINCE_CODES),
    county: fc.string({ unit: fc.constantFrom(...DIGITS), minLength: 4, maxLength: 4 }),
    org: fc.string({ unit: fc.constantFrom(...CREDIT_ALPHABET), minLength: 9, maxLength: 9 }),
  })
  .map(({ head, province, county, org }) => creditCode(head + province + county + org))
  .filter((id) => !hasResidentShape(id));

// Replace one character by a different one from the allowed set, via a non-zero offset so no retry is needed.
function mutate(id: string, position: number, offset: number, allowed: (position: number) => string): string {
  const set = allowed(position);
  const current = set.indexOf(id[position]!);
  const replacement = set[(current + 1 + (offset % (set.length - 1))) % set.length]!;
  return id.slice(0, position) + replacement + id.slice(position + 1);
}

describe("properties", () => {
  it("any resident ID built from a real province, a real date and the computed check character parses", () => {
    fc.assert(
      fc.property(residentParts, ({ province, county, birth, sequence }) => {
        const iso = birth.toISOString().slice(0, 10);
        const id = residentId(province + county + iso.replaceAll("-", "") + sequence);
        expect(parseSubjectId(id)).toEqual({
          ok: true,
          subject: { id, kind: "person", region: province + county, birthDate: iso },
        });
      }),
    );
  });

  it("accepts a birth date exactly when the calendar has it", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1900, max: 9999 }),
        fc.integer({ min: 0, max: 99 }),
        fc.integer({ min: 0, max: 99 }),
        (year, month, day) => {
          const yyyymmdd = `${year}${String(month).padStart(2, "0")}${String(day).padStart(2, "0")}`;
          const date = new Date(Date.UTC(year, month - 1, day));
          const real = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
          expect(parseSubjectId(residentId(`110105${yyyymmdd}001`)).ok).toBe(real);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("changing any single character of a valid resident ID makes it fail", () => {
    fc.assert(
      fc.property(validResidentId, fc.integer({ min: 0, max: 17 }), fc.nat(), (id, position, offset) => {
        const mutant = mutate(id, position, offset, (p) => (p === 17 ? DIGITS + "X" : DIGITS));
        expect(parseSubjectId(mutant).ok).toBe(false);
      }),
    );
  });

  it("any credit code with a real province and the computed check character parses", () => {
    fc.assert(
      fc.property(validCreditCode, (id) => {
        expect(parseSubjectId(id)).toEqual({ ok: true, subject: { id, kind: "enterprise", region: id.slice(2, 8) } });
        expect(parseSubjectId(id.toLowerCase())).toEqual(parseSubjectId(id));
      }),
    );
  });

  it("changing any single character of a valid credit code makes it fail", () => {
    fc.assert(
      fc.property(validCreditCode, fc.integer({ min: 0, max: 17 }), fc.nat(), (id, position, offset) => {
        const mutant = mutate(id, position, offset, () => CREDIT_ALPHABET);
        // An all-digit mutant is judged as a resident ID, which is a different question.
        fc.pre(!hasResidentShape(mutant));
        expect(parseSubjectId(mutant).ok).toBe(false);
      }),
    );
  });
});
