// Tests for reading one rulebook layer: YAML and schema problems located by file, line and item, and the defaults a layer gets.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatProblem, parseLayer, type ParsedLayer } from "../../../src/core/rulebook/load.js";

const SHIPPED = ["national", "beijing", "jiangsu", "hangzhou", "rongcheng"] as const;

function shipped(name: string): string {
  return readFileSync(new URL(`../../../rulebooks/${name}.yaml`, import.meta.url), "utf8");
}

const NATIONAL_FILE = "rulebooks/national.yaml";
const national = shipped("national");

/** The 1-based number of the first line equal to `line` (or, with `partial`, containing it). */
function lineOf(text: string, line: string, partial = false): number {
  const index = text.split("\n").findIndex((l) => (partial ? l.includes(line) : l === line));
  if (index < 0) throw new Error(`no line ${JSON.stringify(line)} in the text`);
  return index + 1;
}

/** Replaces the one occurrence of `from`; fails the test if there is none or more than one. */
function edit(text: string, from: string, to: string): string {
  const parts = text.split(from);
  if (parts.length !== 2) throw new Error(`expected exactly one ${JSON.stringify(from)}, found ${parts.length - 1}`);
  return parts.join(to);
}

/**
 * Deletes the `legalBasis:` line of the top-level item `  - id: <id>` (the one at the item's own indentation,
 * not one of a nested exit condition), and returns the new text with the item's line in it.
 */
function withoutLegalBasis(text: string, id: string): { text: string; itemLine: number } {
  const lines = text.split("\n");
  const start = lines.indexOf(`  - id: ${id}`);
  if (start < 0) throw new Error(`no item ${id}`);
  let end = lines.findIndex((l, i) => i > start && /^( {2}- |\S)/.test(l));
  if (end < 0) end = lines.length;
  const at = lines.findIndex((l, i) => i > start && i < end && l.startsWith("    legalBasis:"));
  if (at < 0) throw new Error(`item ${id} has no legalBasis line`);
  lines.splice(at, 1);
  return { text: lines.join("\n"), itemLine: start + 1 };
}

/** The position of an item in a section of the shipped national layer, as the schema's paths count it. */
function indexIn(section: "rules" | "lists" | "measures", id: string): number {
  const index = parsedOrFail(NATIONAL_FILE, national).layer[section].findIndex((item) => item.id === id);
  if (index < 0) throw new Error(`no ${section} item ${id}`);
  return index;
}

function parsedOrFail(file: string, text: string): ParsedLayer {
  const r = parseLayer(file, text);
  expect(r.problems).toEqual([]);
  if (!r.parsed) throw new Error("not parsed");
  return r.parsed;
}

describe("parseLayer on the shipped rulebooks", () => {
  it.each(SHIPPED)("%s.yaml parses with no problem", (name) => {
    const p = parsedOrFail(`rulebooks/${name}.yaml`, shipped(name));
    expect(p.layer.id).toBe(name);
    expect(p.file).toBe(`rulebooks/${name}.yaml`);
    expect(p.layer.legalBasis.length).toBeGreaterThan(0);
  });

  it("keeps the text as read", () => {
    expect(parsedOrFail(NATIONAL_FILE, national).text).toBe(national);
  });
});

describe("a missing legal basis", () => {
  it("in a rule: names the file, the rule's line and the rule", () => {
    const { text, itemLine } = withoutLegalBasis(national, "debtor-obstructs-or-evades");
    expect(itemLine).toBe(lineOf(text, "  - id: debtor-obstructs-or-evades"));
    const r = parseLayer(NATIONAL_FILE, text);
    expect(r.parsed).toBeUndefined();
    expect(r.problems).toEqual([
      {
        file: NATIONAL_FILE,
        line: itemLine,
        column: 5,
        item: "rule debtor-obstructs-or-evades",
        message: "legalBasis is missing: every rule, list and measure must cite its legal basis",
      },
    ]);
  });

  it("in a list: the list's own basis, not its exit condition's", () => {
    const { text, itemLine } = withoutLegalBasis(national, "tax-exit-control");
    // The exit condition's legalBasis is still there.
    expect(text).toContain("        legalBasis: Tax Collection and Administration Law, Art. 44\n");
    const r = parseLayer(NATIONAL_FILE, text);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({
      file: NATIONAL_FILE,
      line: itemLine,
      item: "list tax-exit-control",
      message: expect.stringContaining("legalBasis") as unknown,
    });
  });

  it("in a measure", () => {
    const { text, itemLine } = withoutLegalBasis(national, "restrict-star-hotels");
    const r = parseLayer(NATIONAL_FILE, text);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({
      file: NATIONAL_FILE,
      line: itemLine,
      item: "measure restrict-star-hotels",
      message: expect.stringContaining("legalBasis is missing") as unknown,
    });
  });

  it("in an exit condition: located at the exit condition, named by its list", () => {
    const line = "        legalBasis: SPC Fa Shi [2017] No. 7, Art. 10(1)\n";
    const text = edit(national, line, "");
    const r = parseLayer(NATIONAL_FILE, text);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({
      line: lineOf(text, "      - category: court.judgment.fulfilled"),
      item: "list dishonest-judgment-debtors",
      message: expect.stringContaining("legalBasis is missing") as unknown,
    });
  });

  it("of the layer itself", () => {
    const own = national.split("\n").find((l) => l.startsWith("legalBasis: "));
    const text = edit(national, `${own}\n`, "");
    const r = parseLayer(NATIONAL_FILE, text);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]?.message).toContain("legalBasis is missing");
    expect(r.problems[0]?.item).toBeUndefined();
  });

  it("is refused when empty or blank", () => {
    const line = "    legalBasis: SPC Fa Shi [2015] No. 17, Art. 3(2)";
    const text = edit(national, line, '    legalBasis: "   "');
    const r = parseLayer(NATIONAL_FILE, text);
    expect(r.problems).toEqual([
      expect.objectContaining({
        line: lineOf(text, '    legalBasis: "   "'),
        item: "measure restrict-star-hotels",
        message: "legalBasis is empty: every rule, list and measure must cite its legal basis",
      }),
    ]);
  });
});

describe("YAML problems", () => {
  it("a syntax error gives its line", () => {
    const text = edit(national, "    trigger: { list: tax-exit-control }", "    trigger: { list: tax-exit-control");
    const r = parseLayer(NATIONAL_FILE, text);
    expect(r.parsed).toBeUndefined();
    expect(r.problems.length).toBeGreaterThan(0);
    expect(r.problems[0]?.file).toBe(NATIONAL_FILE);
    expect(r.problems[0]?.message).toMatch(/^YAML: /);
    // The parser notices the unclosed flow mapping on that line or the lines right after it.
    const opened = lineOf(text, "    trigger: { list: tax-exit-control");
    expect(r.problems[0]?.line).toBeGreaterThanOrEqual(opened);
    expect(r.problems[0]?.line).toBeLessThanOrEqual(opened + 2);
  });

  it("a tab used for indentation gives its exact line", () => {
    const text = "id: national\ntitle: T\n\tversion: 1\n";
    expect(parseLayer("t.yaml", text).problems).toEqual([
      { file: "t.yaml", line: 3, column: 1, message: "YAML: Tabs are not allowed as indentation" },
    ]);
  });

  it("a key given twice is refused at the second one", () => {
    const text = edit(national, 'version: "2026.1"\n', 'version: "2026.1"\nversion: "2026.2"\n');
    const r = parseLayer(NATIONAL_FILE, text);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ line: lineOf(text, 'version: "2026.2"'), message: expect.stringContaining("unique") as unknown });
  });

  it("a document that is not a mapping is refused", () => {
    for (const text of ["", "- a\n- b\n", "just text\n"]) {
      expect(parseLayer("x.yaml", text).problems, text).toEqual([
        { file: "x.yaml", line: 1, column: 1, message: "a rulebook layer is a YAML mapping with id, title, version, ..." },
      ]);
    }
  });
});

describe("schema problems", () => {
  it("an unknown field in a rule names the field, its line and the rule", () => {
    const text = edit(national, "    category: tax.arrears.exit-control\n", "    category: tax.arrears.exit-control\n    severity: high\n");
    const r = parseLayer(NATIONAL_FILE, text);
    expect(r.problems).toEqual([
      {
        file: NATIONAL_FILE,
        line: lineOf(text, "    severity: high"),
        column: 5,
        item: "rule tax-arrears-exit-control",
        message: `unknown field 'severity' in rules.${indexIn("rules", "tax-arrears-exit-control")}`,
      },
    ]);
  });

  it("an unknown top-level field names the field and its line", () => {
    const text = edit(national, "scoring:\n", "author: Ministry\nscoring:\n");
    const r = parseLayer(NATIONAL_FILE, text);
    expect(r.problems).toEqual([
      { file: NATIONAL_FILE, line: lineOf(text, "author: Ministry"), column: 1, message: "unknown field 'author' in (document)" },
    ]);
  });

  it("an unknown field in an attribute declaration", () => {
    const text = edit(national, "amountYuan: { type: number, description:", "amountYuan: { type: number, unit: yuan, description:");
    const r = parseLayer(NATIONAL_FILE, text);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({
      line: lineOf(text, "amountYuan: { type: number, unit: yuan", true),
      item: "source court",
      message: expect.stringContaining("'unit'") as unknown,
    });
  });

  it("an effect without a duration is refused at the effect", () => {
    // The national layer has no points effect; a layer of our own has one.
    const layer = [
      "id: national",
      "title: T",
      'version: "1"',
      "legalBasis: Test Law",
      "scoring: { base: 1000, min: 0, max: 2000 }",
      "rules:",
      "  - id: no-end",
      "    category: court.judgment.unfulfilled",
      "    effects:",
      "      - points: -100",
      "    legalBasis: Test Law",
      "",
    ].join("\n");
    const r = parseLayer("t.yaml", layer);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ line: 10, item: "rule no-end", message: expect.stringContaining("duration") as unknown });
  });

  it("a list entry without a duration is refused at the effect", () => {
    const text = edit(national, "      - list: dishonest-judgment-debtors\n        duration: P5Y\n", "      - list: dishonest-judgment-debtors\n");
    const r = parseLayer(NATIONAL_FILE, text);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({
      line: lineOf(text, "      - list: dishonest-judgment-debtors"),
      item: "rule debtor-refuses-despite-ability",
      message: expect.stringContaining("duration") as unknown,
    });
  });

  it("a duration that is not ISO 8601 is refused", () => {
    const text = edit(national, "        duration: P5Y\n", "        duration: 5 years\n");
    const r = parseLayer(NATIONAL_FILE, text);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ item: "rule debtor-refuses-despite-ability", message: expect.stringContaining("duration") as unknown });
  });

  it("a list without maxTerm is refused at the list", () => {
    const text = edit(national, "    maxTerm: P5Y\n", "");
    const r = parseLayer(NATIONAL_FILE, text);
    expect(r.problems).toEqual([
      {
        file: NATIONAL_FILE,
        line: lineOf(text, "  - id: dishonest-judgment-debtors"),
        column: 5,
        item: "list dishonest-judgment-debtors",
        message: "maxTerm is missing: every effect ends by itself, so it needs a finite ISO 8601 duration such as P2Y",
      },
    ]);
  });

  it("a maxTerm that is not ISO 8601 is refused at the maxTerm", () => {
    const text = edit(national, "    maxTerm: P5Y\n", "    maxTerm: forever\n");
    const r = parseLayer(NATIONAL_FILE, text);
    expect(r.problems).toEqual([
      expect.objectContaining({ line: lineOf(text, "    maxTerm: forever"), message: expect.stringContaining("maxTerm must be") as unknown }),
    ]);
  });

  it("a measure without target is refused with the reason", () => {
    const text = edit(national, "    target: subject\n    enforcers: [real-estate-registry]\n", "    enforcers: [real-estate-registry]\n");
    const r = parseLayer(NATIONAL_FILE, text);
    expect(r.problems).toEqual([
      expect.objectContaining({
        line: lineOf(text, "  - id: restrict-real-estate-purchase"),
        item: "measure restrict-real-estate-purchase",
        message: "target is missing: a measure binds only its subject, write target: subject",
      }),
    ]);
  });

  it("a list kind that does not exist names the field", () => {
    const text = edit(national, "    kind: watchlist\n", "    kind: greylist\n");
    const r = parseLayer(NATIONAL_FILE, text);
    expect(r.problems).toEqual([
      expect.objectContaining({ line: lineOf(text, "    kind: greylist"), item: "list tax-exit-control", message: expect.stringContaining(`lists.${indexIn("lists", "tax-exit-control")}.kind`) as unknown }),
    ]);
  });

  it("malformed ids and categories are refused with the expected form", () => {
    const badId = parseLayer(NATIONAL_FILE, edit(national, "  - id: restrict-exit\n", "  - id: Restrict_Exit\n"));
    expect(badId.problems).toEqual([expect.objectContaining({ message: "measure id must be lower-case letters, digits and hyphens" })]);
    const badCategory = parseLayer(NATIONAL_FILE, edit(national, "    category: tax.arrears.exit-control\n", "    category: tax\n"));
    expect(badCategory.problems).toEqual([
      expect.objectContaining({ item: "rule tax-arrears-exit-control", message: expect.stringContaining("category must be dotted lower-case words") as unknown }),
    ]);
  });

  it("names an item without an id by its position", () => {
    const text = edit(national, "  - id: restrict-exit\n    name: ", "  - name: ");
    const position = indexIn("measures", "restrict-exit") + 1;
    const r = parseLayer(NATIONAL_FILE, text);
    expect(r.problems).toEqual([expect.objectContaining({ item: `measure #${position}`, message: "measure id is required" })]);
  });

  it("reports every problem of a layer, not only the first", () => {
    let text = withoutLegalBasis(national, "restrict-air-travel").text;
    text = withoutLegalBasis(text, "debtor-refuses-despite-ability").text;
    const r = parseLayer(NATIONAL_FILE, text);
    expect(r.problems.map((p) => p.item).sort()).toEqual(["measure restrict-air-travel", "rule debtor-refuses-despite-ability"]);
  });
});

describe("defaults", () => {
  const minimal = ["id: national", "title: T", "version: 2026", "legalBasis: Test Law", ""].join("\n");

  it("fills in what a layer may leave out", () => {
    const { layer } = parsedOrFail("t.yaml", minimal);
    expect(layer).toMatchObject({ version: "2026", regions: [], sources: [], rules: [], lists: [], measures: [] });
    expect(layer.scoring).toBeUndefined();
    expect(layer.grades).toBeUndefined();
    expect(layer.parent).toBeUndefined();
  });

  it("leaves publicity to the tier, and defaults lists to no exits, restoration to no commitment, layers to no sign-off, measures to both kinds of subject, attributes to optional", () => {
    const { layer } = parsedOrFail(NATIONAL_FILE, national);
    const debtors = layer.lists.find((l) => l.id === "dishonest-judgment-debtors");
    // Whether an unmarked list is public depends on its tier, which only the compiler applies (see ruleset.test.ts).
    expect(debtors).not.toHaveProperty("public");
    expect(debtors?.restoration).toMatchObject({ allowed: true, records: [] });
    expect(layer.lists.find((l) => l.id === "tax-exit-control")?.public).toBe(false);
    const beijing = parsedOrFail("rulebooks/beijing.yaml", shipped("beijing")).layer;
    expect(beijing.signOff).toEqual([]);
    expect(layer.signOff).toEqual(["serious"]);
    const jiangsu = parsedOrFail("rulebooks/jiangsu.yaml", shipped("jiangsu")).layer;
    expect(jiangsu.lists.find((l) => l.id === "jiangsu-late-tax-filers")?.exit).toEqual([]);
    const withoutCommitment = edit(national, "      commitment: true\n", "");
    expect(parsedOrFail(NATIONAL_FILE, withoutCommitment).layer.lists.find((l) => l.id === "dishonest-judgment-debtors")?.restoration?.commitment).toBe(false);
    expect(layer.measures.find((m) => m.id === "restrict-real-estate-purchase")?.subjects).toEqual(["person", "enterprise"]);
    const unfulfilled = layer.sources[0]?.categories[0];
    expect(unfulfilled?.attributes.amountYuan?.required).toBe(false);
    expect(unfulfilled?.attributes.caseNumber?.required).toBe(true);
  });
});

describe("formatProblem", () => {
  it("writes file:line:column: item: message", () => {
    expect(formatProblem({ file: "a.yaml", line: 3, column: 5, item: "rule x", message: "m" })).toBe("a.yaml:3:5: rule x: m");
    expect(formatProblem({ file: "a.yaml", line: 1, column: 1, message: "m" })).toBe("a.yaml:1:1: m");
  });
});

describe("problemAt", () => {
  it("locates a path in the layer's text, falling back to the nearest existing parent", () => {
    const p = parsedOrFail(NATIONAL_FILE, national);
    const when = p.problemAt(["rules", 0, "when"], "m");
    expect(when).toEqual({ file: NATIONAL_FILE, line: lineOf(national, "    when: record.attributes.ground == 1"), column: 5, item: "rule debtor-refuses-despite-ability", message: "m" });
    const missing = p.problemAt(["rules", 0, "nothing-here"], "m");
    expect(missing.line).toBe(lineOf(national, "  - id: debtor-refuses-despite-ability"));
  });
});
