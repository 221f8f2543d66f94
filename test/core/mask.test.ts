// Masking subject IDs for reports and public lists: persons keep 4 characters at each end, enterprises stay whole.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { maskSubjectId, unmaskedResidentIds } from "../../src/core/mask.js";
import { creditCodeCheckChar, residentIdCheckChar } from "../../src/core/subject-id.js";

const residentId = (first17: string) => first17 + residentIdCheckChar(first17);
const ENTERPRISE = "91110105MA01ABCD26";

describe("maskSubjectId", () => {
  it("keeps a resident ID's first 4 and last 4 characters and hides the 10 between", () => {
    expect(maskSubjectId("110105198506120034")).toBe("1101**********0034");
    // The check character X is kept, upper-cased.
    const withX = residentId("11010519491231002");
    expect(withX.endsWith("X")).toBe(true);
    expect(maskSubjectId(withX)).toBe("1101**********002X");
    expect(maskSubjectId(withX.toLowerCase())).toBe("1101**********002X");
  });

  it("hides the district, the birth date and the first sequence digit", () => {
    const masked = maskSubjectId("320102199001010053");
    expect(masked).not.toContain("0102");
    expect(masked).not.toContain("19900101");
    expect(masked).toHaveLength(18);
  });

  it("leaves an enterprise's unified social credit code whole: it is not personal data", () => {
    expect(maskSubjectId(ENTERPRISE)).toBe(ENTERPRISE);
    expect(maskSubjectId(ENTERPRISE.toLowerCase())).toBe(ENTERPRISE);
  });

  it("treats anything that is not a valid enterprise code as personal", () => {
    // A resident ID with a wrong check character is still a person's number.
    expect(maskSubjectId("110105198506120035")).toBe("1101**********0035");
    // A credit code with a bad checksum might be a typo of anything: masked.
    expect(maskSubjectId("91110105MA01ABCD27")).toBe("9111**********CD27");
    // An old 15-digit resident ID: too short to keep both ends and still hide 8.
    expect(maskSubjectId("110105850612003")).toBe("*".repeat(15));
    expect(maskSubjectId("")).toBe("");
    expect(maskSubjectId("short")).toBe("*****");
  });

  it("is total and length-preserving, and never shows the middle of a resident ID", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[1-6][0-9]{5}(19[0-9]{2}|20[0-2][0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}$/), (first17) => {
        const id = residentId(first17);
        const m = maskSubjectId(id);
        expect(m).toHaveLength(18);
        expect(m.slice(0, 4)).toBe(id.slice(0, 4));
        expect(m.slice(-4)).toBe(id.slice(-4));
        expect(m.slice(4, 14)).toBe("*".repeat(10));
        expect(unmaskedResidentIds(m)).toEqual([]);
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        expect(Array.from(maskSubjectId(s))).toHaveLength(Array.from(s).length);
      }),
    );
  });

  it("keeps every valid enterprise code whole", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[1-9A-HJ-NP-RTUWXY][1-59][1-6][0-9]{5}[0-9A-HJ-NP-RTUWXY]{9}$/), (first17) => {
        const code = first17 + creditCodeCheckChar(first17);
        fc.pre(!/^\d{17}[\dX]$/.test(code));
        const province = code.slice(2, 4);
        fc.pre(["11", "12", "13", "31", "32", "33", "37", "44", "50"].includes(province));
        expect(maskSubjectId(code)).toBe(code);
      }),
    );
  });
});

describe("unmaskedResidentIds", () => {
  it("finds valid resident IDs written out in full, and nothing else", () => {
    const text = `a 110105198506120034 b 1101**********0034 c ${ENTERPRISE} d 110105198506120035 e <td>320102199001010053</td>`;
    expect(unmaskedResidentIds(text).sort()).toEqual(["110105198506120034", "320102199001010053"]);
  });

  it("does not cut an ID out of a longer run of digits", () => {
    expect(unmaskedResidentIds("0110105198506120034")).toEqual([]);
  });
});
