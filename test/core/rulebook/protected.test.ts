// Tests for recognising protected characteristics in identifiers and literals: word splitting and phrase matching.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseLayer } from "../../../src/core/rulebook/load.js";
import { PROTECTED_CHARACTERISTICS, protectedCharacteristic, words } from "../../../src/core/rulebook/protected.js";

const SHIPPED = ["national", "beijing", "jiangsu", "hangzhou", "rongcheng"] as const;

/** Every id, name, enforcer and enum text of the shipped layers: what the linter checks, descriptions aside. */
function shippedNames(): string[] {
  const names: string[] = [];
  for (const name of SHIPPED) {
    const text = readFileSync(new URL(`../../../rulebooks/${name}.yaml`, import.meta.url), "utf8");
    const layer = parseLayer(`${name}.yaml`, text).parsed?.layer;
    if (!layer) throw new Error(`${name} did not parse`);
    for (const s of layer.sources) {
      names.push(s.id, ...(s.name ? [s.name] : []));
      for (const c of s.categories) {
        names.push(c.id);
        for (const [a, decl] of Object.entries(c.attributes)) names.push(a, ...(decl.enum ?? []).filter((v) => typeof v === "string"));
      }
    }
    names.push(...layer.rules.map((r) => r.id));
    names.push(...layer.lists.flatMap((l) => [l.id, l.name]));
    names.push(...layer.measures.flatMap((m) => [m.id, m.name, ...m.enforcers]));
  }
  return names;
}

describe("words", () => {
  it("splits on dots, hyphens, underscores and spaces", () => {
    expect(words("police.religious-activity")).toEqual(["police", "religious", "activity"]);
    expect(words("snake_case name")).toEqual(["snake", "case", "name"]);
    expect(words("court.judgment.unfulfilled")).toEqual(["court", "judgment", "unfulfilled"]);
  });

  it("splits camelCase and lower-cases every word", () => {
    expect(words("ethnicGroup")).toEqual(["ethnic", "group"]);
    expect(words("spouseIdNumber")).toEqual(["spouse", "id", "number"]);
    expect(words("caseNumber2")).toEqual(["case", "number2"]);
    expect(words("HIV")).toEqual(["hiv"]);
  });

  it("drops empty pieces", () => {
    expect(words("")).toEqual([]);
    expect(words("--a..b__")).toEqual(["a", "b"]);
  });
});

describe("protectedCharacteristic", () => {
  it("finds a protected word in a dotted category id", () => {
    expect(protectedCharacteristic("police.religious-activity")).toEqual({ characteristic: "religion", word: "religious" });
  });

  it("finds a protected word in a camelCase attribute name", () => {
    expect(protectedCharacteristic("ethnicGroup")).toEqual({ characteristic: "ethnicity", word: "ethnic" });
    expect(protectedCharacteristic("spouseIdNumber")).toEqual({ characteristic: "relations and associations", word: "spouse" });
    expect(protectedCharacteristic("mentalHealthNote")).toEqual({ characteristic: "health", word: "mental" });
  });

  it("finds a protected word in a hyphenated id and in a literal", () => {
    expect(protectedCharacteristic("family-liability")).toEqual({ characteristic: "relations and associations", word: "family" });
    expect(protectedCharacteristic("petition")).toEqual({ characteristic: "political opinion", word: "petition" });
    expect(protectedCharacteristic("sexual orientation")?.characteristic).toBe("sexuality");
  });

  it("is case-insensitive", () => {
    expect(protectedCharacteristic("Ethnicity")?.characteristic).toBe("ethnicity");
    expect(protectedCharacteristic("RELIGION")?.characteristic).toBe("religion");
  });

  it("catches the phrase party line in every spelling", () => {
    for (const text of ["party line", "party-line", "partyLine", "toes.the.party.line", "party_line"]) {
      expect(protectedCharacteristic(text), text).toEqual({ characteristic: "political opinion", word: "party-line" });
    }
  });

  it("does not catch party alone (a party to a lawsuit)", () => {
    expect(protectedCharacteristic("party")).toBeUndefined();
    expect(protectedCharacteristic("court.judgment.third-party")).toBeUndefined();
    expect(protectedCharacteristic("partyName")).toBeUndefined();
    expect(protectedCharacteristic("line")).toBeUndefined();
  });

  it("matches whole words only", () => {
    // "hui" is protected, "huis" is not a word of the list; "race" is protected, "trace" is not.
    expect(protectedCharacteristic("trace")).toBeUndefined();
    expect(protectedCharacteristic("kindness")).toBeUndefined();
    expect(protectedCharacteristic("childcare")).toBeUndefined();
  });

  it("passes the ordinary names of the shipped rulebooks", () => {
    for (const text of [
      "civic.blood-donation",
      "court.judgment.fulfilled",
      "court.judgment.unfulfilled",
      "court.judgment.online-defamation",
      "tax.arrears.exit-control",
      "market.counterfeit-goods",
      "civic.volunteering",
      "traffic.drunk-driving",
      "caseNumber",
      "donationNumber",
      "extensionYears",
      "blood-bank",
      "dishonest-judgment-debtors",
      "restrict-air-travel",
    ]) {
      expect(protectedCharacteristic(text), text).toBeUndefined();
    }
  });

  it("passes every id, name, enforcer and enum value of the shipped rulebooks", () => {
    const names = shippedNames();
    expect(names).toEqual(expect.arrayContaining(["restrict-company-officer", "public-service-counter", "court.judgment.online-defamation", "private-prosecution"]));
    expect(names.filter((n) => protectedCharacteristic(n) !== undefined)).toEqual([]);
  });

  it("recognises family members, marriage, guardianship, a company's associates and nationality", () => {
    const relations = "relations and associations";
    for (const word of [
      "father", "mother", "son", "daughter", "sibling", "siblings", "brother", "brothers", "sister", "sisters",
      "marital", "marriage", "married", "spouse", "representative", "shareholder", "shareholders", "guardian",
      "guardians", "offspring",
    ]) {
      expect(protectedCharacteristic(word), word).toEqual({ characteristic: relations, word });
    }
    expect(protectedCharacteristic("maritalStatus")).toEqual({ characteristic: relations, word: "marital" });
    expect(protectedCharacteristic("legal-representative-default")).toEqual({ characteristic: relations, word: "representative" });
    expect(protectedCharacteristic("Debtor's son")).toEqual({ characteristic: relations, word: "son" });
    expect(protectedCharacteristic("nationality")).toEqual({ characteristic: "ethnicity", word: "nationality" });
  });

  it("does not find son, sister or brother inside other words", () => {
    for (const text of ["person", "reason", "season", "personal-loan", "sisterhood-index", "brotherly"]) {
      expect(protectedCharacteristic(text), text).toBeUndefined();
    }
  });

  it("recognises every listed word as its own characteristic", () => {
    for (const [characteristic, list] of Object.entries(PROTECTED_CHARACTERISTICS)) {
      for (const word of list) {
        // Phrases are listed hyphenated; as text they are the same words separated by a space.
        expect(protectedCharacteristic(word.replace(/-/g, " ")), word).toEqual({ characteristic, word });
      }
    }
  });
});
