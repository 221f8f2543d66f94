// Tests for the linter and compiler over a set of layers: the shipped set, every refusal with its place, and jurisdictions.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseLayer, type ParsedLayer, type RulebookProblem } from "../../../src/core/rulebook/load.js";
import { MAX_TERM, buildRuleset, type Ruleset } from "../../../src/core/rulebook/ruleset.js";

const SHIPPED = ["national", "beijing", "jiangsu", "hangzhou", "rongcheng"] as const;

function shippedText(name: string): string {
  return readFileSync(new URL(`../../../rulebooks/${name}.yaml`, import.meta.url), "utf8");
}

function parsed(file: string, text: string): ParsedLayer {
  const r = parseLayer(file, text);
  expect(r.problems, `${file} should parse`).toEqual([]);
  if (!r.parsed) throw new Error(`${file} did not parse`);
  return r.parsed;
}

/** Parses each [file, text] (which must parse) and lints them together. */
function lint(...layers: [file: string, text: string][]): RulebookProblem[] {
  return buildRuleset(layers.map(([file, text]) => parsed(file, text))).problems;
}

function build(...layers: [file: string, text: string][]): Ruleset {
  const r = buildRuleset(layers.map(([file, text]) => parsed(file, text)));
  expect(r.problems).toEqual([]);
  if (!r.ruleset) throw new Error("no ruleset");
  return r.ruleset;
}

function shippedSet(): [string, string][] {
  return SHIPPED.map((name) => [`rulebooks/${name}.yaml`, shippedText(name)]);
}

/** The 1-based number of the first line containing `needle`. */
function lineOf(text: string, needle: string): number {
  const index = text.split("\n").findIndex((l) => l.includes(needle));
  if (index < 0) throw new Error(`no line containing ${JSON.stringify(needle)}`);
  return index + 1;
}

/** Replaces the one occurrence of `from`; fails the test if there is none or more than one. */
function edit(text: string, from: string, to: string): string {
  const parts = text.split(from);
  if (parts.length !== 2) throw new Error(`expected exactly one ${JSON.stringify(from)}, found ${parts.length - 1}`);
  return parts.join(to);
}

/** A small national layer that lints clean: two grades, one source, a rule, a list with an exit, a measure. */
const NATIONAL = `id: national
title: Test national layer
version: "1"
legalBasis: Test Law, Art. 1
scoring: { base: 1000, min: 0, max: 2000 }
grades:
  - { id: A, min: 1000 }
  - { id: B, min: 0 }
sources:
  - id: court
    categories:
      - id: court.judgment.unfulfilled
        attributes:
          caseNumber: { type: string, required: true }
          ground: { type: integer }
          note: { type: string }
      - id: court.judgment.fulfilled
        attributes:
          caseNumber: { type: string, required: true }
rules:
  - id: debtor-entry
    category: court.judgment.unfulfilled
    when: record.attributes.ground >= 2
    effects:
      - list: debtors
        duration: P2Y
        key: record.attributes.caseNumber
    legalBasis: Test Law, Art. 2
lists:
  - id: debtors
    name: Debtors
    kind: blacklist
    tier: moderate
    maxTerm: P5Y
    exit:
      - category: court.judgment.fulfilled
        key: record.attributes.caseNumber
        legalBasis: Test Law, Art. 3
    legalBasis: Test Law, Art. 2
measures:
  - id: no-flights
    name: No flights
    kind: sanction
    trigger: { list: debtors }
    target: subject
    subjects: [person]
    enforcers: [airline]
    legalBasis: Test Law, Art. 4
`;

const N = "national.yaml";

/** NATIONAL with a rule added at the top of its rules. */
function withRule(rule: string, base = NATIONAL): string {
  return edit(base, "rules:\n", `rules:\n${rule}`);
}

/** A rule on court.judgment.unfulfilled with the given condition. */
function ruleWhen(id: string, when: string): string {
  return `  - id: ${id}
    category: court.judgment.unfulfilled
    when: '${when.replace(/'/g, "''")}'
    effects:
      - points: -10
        duration: P1Y
    legalBasis: Test Law, Art. 5
`;
}

/** A local layer under `parent` with the given regions and body. */
function local(id: string, body = "", opts: { parent?: string; regions?: string[] } = {}): string {
  const regions = opts.regions ?? ["32"];
  return [
    `id: ${id}`,
    `title: Test layer ${id}`,
    'version: "1"',
    `parent: ${opts.parent ?? "national"}`,
    ...(regions.length > 0 ? [`regions: [${regions.map((r) => `"${r}"`).join(", ")}]`] : []),
    "legalBasis: Test Regulation",
    body,
  ].join("\n");
}

const PROTECTED_LIST = "(protected: political opinion, religion, ethnicity, sexuality, health, relations and associations)";

describe("conditions naming unknown variables", () => {
  it("refuses a field of an unknown variable, not only a bare unknown name", () => {
    const problems = lint([N, withRule(ruleWhen("adult-only", "person.age > 18"))]);
    expect(problems.map((p) => p.message)).toEqual(["condition uses person.age; the only variables are record and subject"]);
  });
});

describe("the shipped rulebooks", () => {
  it("lint together with zero problems", () => {
    const r = buildRuleset(shippedSet().map(([f, t]) => parsed(f, t)));
    expect(r.problems).toEqual([]);
    expect(r.ruleset).toBeDefined();
  });

  it("describe every layer with its file and text hash", () => {
    const ruleset = build(...shippedSet());
    expect(ruleset.layers.map((l) => l.id)).toEqual([...SHIPPED].sort());
    for (const l of ruleset.layers) {
      expect(l.file).toBe(`rulebooks/${l.id}.yaml`);
      expect(l.sha256).toMatch(/^[0-9a-f]{64}$/);
      if (l.id === "national") expect(l.parent).toBeUndefined();
      else expect(l.parent).toBe("national");
    }
    expect(ruleset.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("grant each category to the source that declares it", () => {
    const ruleset = build(...shippedSet());
    expect(ruleset.grants.get("court")?.has("court.judgment.unfulfilled")).toBe(true);
    expect(ruleset.grants.get("blood-bank")?.has("civic.blood-donation")).toBe(true);
    expect(ruleset.categories.get("civic.blood-donation")).toMatchObject({ source: "blood-bank", layer: "hangzhou" });
  });

  describe("jurisdictionFor: the longest matching region prefix, with its chain of parents", () => {
    const cases: [region: string, id: string, chain: string[]][] = [
      ["110105", "beijing", ["national", "beijing"]],
      ["330106", "hangzhou", ["national", "hangzhou"]],
      ["320102", "jiangsu", ["national", "jiangsu"]],
      ["371082", "rongcheng", ["national", "rongcheng"]],
      ["440101", "national", ["national"]],
    ];
    it.each(cases)("%s -> %s", (region, id, chain) => {
      const j = build(...shippedSet()).jurisdictionFor(region);
      expect(j.id).toBe(id);
      expect(j.chain).toEqual(chain);
    });

    it("a neighbour of Rongcheng in Weihai stays national", () => {
      expect(build(...shippedSet()).jurisdictionFor("371002").id).toBe("national");
    });

    it("gives each jurisdiction the rules, lists and measures of its chain only", () => {
      const ruleset = build(...shippedSet());
      const beijing = ruleset.jurisdictionFor("110105");
      expect(beijing.lists.has("dishonest-judgment-debtors")).toBe(true);
      expect(beijing.lists.has("beijing-serious-dishonest-enterprises")).toBe(true);
      expect(beijing.lists.has("hangzhou-trustworthy-volunteers")).toBe(false);
      expect(beijing.measures.has("restrict-air-travel")).toBe(true);
      expect(beijing.measures.has("rongcheng-priority-services")).toBe(false);
      const national = ruleset.jurisdictionFor("440101");
      expect(national.rulesByCategory.get("court.judgment.unfulfilled")?.map((r) => r.layer)).toEqual(
        expect.arrayContaining(["national"]) as unknown,
      );
      expect(national.rulesByCategory.get("court.judgment.unfulfilled")?.every((r) => r.layer === "national")).toBe(true);
      const rongcheng = ruleset.jurisdictionFor("371082");
      expect(rongcheng.rulesByCategory.get("court.judgment.unfulfilled")?.map((r) => r.layer)).toContain("rongcheng");
      expect(national.exitsByCategory.get("court.judgment.fulfilled")?.[0]?.list).toBe("dishonest-judgment-debtors");
    });

    it("takes scoring and grades from the most local layer that sets them", () => {
      const ruleset = build(...shippedSet());
      const rongcheng = ruleset.jurisdictionFor("371082");
      expect(rongcheng.grades.map((g) => g.id)).toEqual(["AAA", "AA", "A", "B", "C", "D"]);
      expect(rongcheng.scoring).toEqual({ base: 1000, min: 0, max: 2000 });
      expect(ruleset.jurisdictionFor("110105").grades).toEqual([]);
      expect(ruleset.jurisdictionFor("110105").scoring).toEqual(ruleset.jurisdictionFor("440101").scoring);
    });
  });
});

describe("the ruleset hash", () => {
  it("does not depend on the order layers are given in", () => {
    const set = shippedSet();
    expect(build(...set).hash).toBe(build(...[...set].reverse()).hash);
  });

  it("changes when any layer's text changes, even a comment", () => {
    const set = shippedSet();
    const changed = set.map(([f, t]): [string, string] => [f, f.endsWith("beijing.yaml") ? `${t}# a comment\n` : t]);
    expect(build(...changed).hash).not.toBe(build(...set).hash);
  });
});

describe("the test fixture", () => {
  it("lints clean on its own and with a local layer", () => {
    expect(lint([N, NATIONAL])).toEqual([]);
    expect(lint([N, NATIONAL], ["local.yaml", local("local")])).toEqual([]);
  });

  it("compiles conditions that run on records", () => {
    const rule = build([N, NATIONAL]).jurisdictionFor("110105").rulesByCategory.get("court.judgment.unfulfilled")?.[0];
    const input = (attributes: Record<string, unknown>) => ({
      record: { source: "court", category: "court.judgment.unfulfilled", occurredAt: "2026-01-01T00:00:00.000Z", attributes },
      subject: { kind: "person", age: 40 },
    });
    expect(rule?.when?.run(input({ caseNumber: "c1", ground: 3 }))).toBe(true);
    expect(rule?.when?.run(input({ caseNumber: "c1", ground: 1 }))).toBe(false);
    // A missing attribute is a CEL error, which the program reports as undefined: the condition is not met.
    expect(rule?.when?.run(input({ caseNumber: "c1" }))).toBeUndefined();
    const effect = rule?.effects[0];
    expect(effect?.kind).toBe("list");
    if (effect?.kind === "list") expect(effect.key?.run(input({ caseNumber: "c1" }))).toBe("c1");
  });
});

describe("protected characteristics", () => {
  it("refuses a category naming one", () => {
    const text = withRule(
      "",
      edit(
        NATIONAL,
        "sources:\n",
        "sources:\n  - id: police\n    categories:\n      - id: police.religious-activity\n",
      ),
    );
    expect(lint([N, text])).toEqual([
      {
        file: N,
        line: lineOf(text, "      - id: police.religious-activity"),
        column: 9,
        item: "source police",
        message: `category police.religious-activity: "religious" names religion, which no rulebook may condition on ${PROTECTED_LIST}`,
      },
    ]);
  });

  it("refuses an attribute naming one", () => {
    const text = edit(NATIONAL, "          note: { type: string }\n", "          ethnicity: { type: string }\n");
    expect(lint([N, text])).toEqual([
      expect.objectContaining({
        line: lineOf(text, "ethnicity: { type: string }"),
        item: "source court",
        message: expect.stringContaining('attribute ethnicity of court.judgment.unfulfilled: "ethnicity" names ethnicity') as unknown,
      }),
    ]);
  });

  it("refuses a condition comparing with a literal naming one", () => {
    const text = withRule(ruleWhen("petitioned", 'record.attributes.note == "petition"'));
    expect(lint([N, text])).toEqual([
      expect.objectContaining({
        line: lineOf(text, "record.attributes.note =="),
        item: "rule petitioned",
        message: `condition compares with "petition": "petition" names political opinion, which no rulebook may condition on ${PROTECTED_LIST}`,
      }),
    ]);
  });

  it("refuses a condition reading a field that names one, even by index", () => {
    const text = withRule(ruleWhen("by-faith", 'record.attributes["religion"] == "none"'));
    const problems = lint([N, text]);
    expect(problems.map((p) => p.message)).toEqual(
      expect.arrayContaining([expect.stringContaining('condition uses record.attributes.religion: "religion" names religion') as unknown]),
    );
  });

  it("refuses a literal inside a macro", () => {
    const text = withRule(ruleWhen("macro", 'record.attributes.note in ["hiv", "none"]'));
    expect(lint([N, text]).map((p) => p.message)).toEqual([expect.stringContaining('"hiv" names health') as unknown]);
  });

  it("refuses a rule id naming one", () => {
    const text = withRule(ruleWhen("family-liability", "record.attributes.ground == 1"));
    expect(lint([N, text])).toEqual([
      expect.objectContaining({
        line: lineOf(text, "  - id: family-liability"),
        item: "rule family-liability",
        message: expect.stringContaining('rule id family-liability: "family" names relations and associations') as unknown,
      }),
    ]);
  });

  it("refuses list, measure and source ids naming one", () => {
    const list = edit(NATIONAL, "  - id: debtors\n", "  - id: party-line-breakers\n").replace(/list: debtors/g, "list: party-line-breakers");
    expect(lint([N, list]).map((p) => p.message)).toEqual([expect.stringContaining('list id party-line-breakers: "party-line" names political opinion') as unknown]);
    const measure = edit(NATIONAL, "  - id: no-flights\n", "  - id: no-flights-for-relatives\n");
    expect(lint([N, measure]).map((p) => p.message)).toEqual([expect.stringContaining('"relatives" names relations and associations') as unknown]);
    const source = edit(NATIONAL, "  - id: court\n", "  - id: mosque-registry\n");
    expect(lint([N, source]).map((p) => p.message)).toEqual([expect.stringContaining('source mosque-registry: "mosque" names religion') as unknown]);
  });

  it("lets civic.blood-donation and court.judgment.fulfilled through", () => {
    const text = local(
      "blood",
      `sources:
  - id: blood-bank
    categories:
      - id: civic.blood-donation
        attributes:
          donationNumber: { type: string, required: true }
rules:
  - id: blood-donation
    category: civic.blood-donation
    effects:
      - points: 20
        duration: P1Y
    legalBasis: Blood Donation Law, Art. 6
  - id: fulfilled-judgment
    category: court.judgment.fulfilled
    when: record.attributes.caseNumber != ""
    effects:
      - points: 5
        duration: P1Y
    legalBasis: Test Law, Art. 10
`,
    );
    expect(lint([N, NATIONAL], ["blood.yaml", text])).toEqual([]);
  });

  it("does not take party alone for a protected word", () => {
    const text = withRule(ruleWhen("third-party", 'record.attributes.note == "third party"'));
    expect(lint([N, text])).toEqual([]);
  });
});

describe("durations and terms", () => {
  it("refuses a duration of zero", () => {
    const text = withRule(`  - id: zero
    category: court.judgment.unfulfilled
    effects:
      - points: -10
        duration: P0D
    legalBasis: Test Law, Art. 5
`);
    expect(lint([N, text])).toEqual([
      {
        file: N,
        line: lineOf(text, "duration: P0D"),
        column: 9,
        item: "rule zero",
        message: "P0D is not a positive duration: every effect must end by itself",
      },
    ]);
  });

  it("refuses the empty duration P and a zero maxTerm", () => {
    const p = withRule(`  - id: empty
    category: court.judgment.unfulfilled
    effects:
      - points: -10
        duration: P
    legalBasis: Test Law, Art. 5
`);
    expect(lint([N, p]).map((x) => x.message)).toEqual(["P is not a positive duration: every effect must end by itself"]);
    const maxTerm = edit(NATIONAL, "maxTerm: P5Y", "maxTerm: P0Y");
    expect(lint([N, maxTerm]).map((x) => x.message)).toEqual(
      expect.arrayContaining(["P0Y is not a positive duration: every effect must end by itself"]),
    );
  });

  it("refuses a list entry that outlasts the list's maximum term", () => {
    const text = edit(NATIONAL, "        duration: P2Y\n", "        duration: P6Y\n");
    expect(lint([N, text])).toEqual([
      {
        file: N,
        line: lineOf(text, "duration: P6Y"),
        column: 9,
        item: "rule debtor-entry",
        message: "an entry of P6Y would outlast the maximum term P5Y of list debtors",
      },
    ]);
  });

  it("counts the longest extension against the maximum term", () => {
    const entry = "        duration: P2Y\n        key: record.attributes.caseNumber\n";
    const extension = `${entry}        extension: { years: '1', maxYears: 4 }\n`;
    const text = edit(NATIONAL, entry, extension);
    expect(lint([N, text]).map((p) => p.message)).toEqual(["an entry of P2Y plus up to 4 years would outlast the maximum term P5Y of list debtors"]);
    const fits = edit(NATIONAL, entry, extension.replace("maxYears: 4", "maxYears: 3"));
    expect(lint([N, fits])).toEqual([]);
  });

  it("accepts an entry exactly as long as the maximum term", () => {
    expect(lint([N, edit(NATIONAL, "        duration: P2Y\n", "        duration: P5Y\n")])).toEqual([]);
    expect(lint([N, edit(NATIONAL, "        duration: P2Y\n", "        duration: P60M\n")])).toEqual([]);
  });
});

describe("measures", () => {
  it("refuses target: relatives, saying measures bind only the subject", () => {
    const text = edit(NATIONAL, "    target: subject\n", "    target: relatives\n");
    expect(lint([N, text])).toEqual([
      {
        file: N,
        line: lineOf(text, "target: relatives"),
        column: 5,
        item: "measure no-flights",
        message: 'measure targets "relatives": a measure binds only the subject itself (no family or associate liability); write target: subject',
      },
    ]);
  });

  it("refuses a trigger by an unknown list", () => {
    const text = edit(NATIONAL, "trigger: { list: debtors }", "trigger: { list: defaulters }");
    expect(lint([N, text])).toEqual([
      expect.objectContaining({
        line: lineOf(text, "trigger: { list: defaulters }"),
        item: "measure no-flights",
        message: "list defaulters is not declared in this layer or its parents",
      }),
    ]);
  });

  it("refuses a trigger by an unknown grade", () => {
    const text = edit(NATIONAL, "trigger: { list: debtors }", "trigger: { grades: [B, AAA] }\n    tier: moderate");
    expect(lint([N, text])).toEqual([
      expect.objectContaining({
        line: lineOf(text, "trigger: { grades: [B, AAA] }"),
        item: "measure no-flights",
        message: "grade AAA is not a grade of this layer or its parents",
      }),
    ]);
  });

  it("accepts a trigger by a grade the layer inherits", () => {
    const body = `measures:
  - id: priority-service
    name: Priority service
    kind: reward
    trigger: { grades: [A] }
    target: subject
    enforcers: [service-counter]
    legalBasis: Test Regulation, Art. 2
`;
    expect(lint([N, NATIONAL], ["l.yaml", local("l", body)])).toEqual([]);
  });

  it("refuses a trigger by a list of a sibling layer", () => {
    const a = local("a", `lists:
  - id: a-list
    name: A list
    kind: redlist
    maxTerm: P1Y
    legalBasis: Test Regulation
`, { regions: ["32"] });
    const b = local("b", `measures:
  - id: b-reward
    name: B reward
    kind: reward
    trigger: { list: a-list }
    target: subject
    enforcers: [bus]
    legalBasis: Test Regulation
`, { regions: ["33"] });
    expect(lint([N, NATIONAL], ["a.yaml", a], ["b.yaml", b])).toEqual([
      expect.objectContaining({ file: "b.yaml", item: "measure b-reward", message: "list a-list is not declared in this layer or its parents" }),
    ]);
  });

  it("refuses a measure declared twice", () => {
    const body = edit(NATIONAL.slice(NATIONAL.indexOf("measures:\n")), "legalBasis: Test Law, Art. 4", "legalBasis: Test Regulation");
    expect(lint([N, NATIONAL], ["l.yaml", local("l", body)])).toEqual([
      expect.objectContaining({ file: "l.yaml", item: "measure no-flights", message: "measure no-flights is already declared in layer national" }),
    ]);
  });
});

describe("conditions", () => {
  it("refuses an attribute the category does not declare", () => {
    const text = withRule(ruleWhen("big-debt", "record.attributes.amountYuan > 100000"));
    expect(lint([N, text])).toEqual([
      {
        file: N,
        line: lineOf(text, "record.attributes.amountYuan"),
        column: 5,
        item: "rule big-debt",
        message: "condition uses record.attributes.amountYuan, which category court.judgment.unfulfilled does not declare",
      },
    ]);
  });

  it("refuses an unknown variable", () => {
    const text = withRule(ruleWhen("bare", "ground >= 2"));
    expect(lint([N, text])).toEqual([
      expect.objectContaining({
        line: lineOf(text, "when: 'ground >= 2'"),
        item: "rule bare",
        message: "condition uses ground; the only variables are record and subject",
      }),
    ]);
  });

  it("refuses subject.region, which conditions are no longer offered", () => {
    const text = withRule(ruleWhen("by-region", 'subject.region == "11"'));
    expect(lint([N, text])).toEqual([
      expect.objectContaining({
        line: lineOf(text, "subject.region"),
        item: "rule by-region",
        message: "condition uses subject.region; a subject offers only kind, age",
      }),
    ]);
  });

  it("offers subject.kind and subject.age, and the record's own fields", () => {
    const text = withRule(
      ruleWhen(
        "offered",
        'subject.kind == "person" && subject.age >= 30 && record.source == "court" && record.category != "" && record.occurredAt > "2020"',
      ),
    );
    expect(lint([N, text])).toEqual([]);
  });

  it("refuses a record field that does not exist", () => {
    const text = withRule(ruleWhen("by-subject", 'record.subject == "x"'));
    expect(lint([N, text]).map((p) => p.message)).toEqual(["condition uses record.subject; a record offers only source, category, occurredAt, attributes"]);
  });

  it("refuses a CEL syntax error", () => {
    const text = withRule(ruleWhen("broken", "record.attributes.ground >="));
    const problems = lint([N, text]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: lineOf(text, "record.attributes.ground >="), item: "rule broken" });
    expect(problems[0]?.message).toMatch(/^CEL syntax error in "record\.attributes\.ground >=": /);
  });

  it("checks keys and exit conditions like conditions", () => {
    const key = edit(NATIONAL, "        duration: P2Y\n        key: record.attributes.caseNumber\n", "        duration: P2Y\n        key: record.attributes.docket\n");
    expect(lint([N, key])).toEqual([
      expect.objectContaining({ item: "rule debtor-entry", message: "condition uses record.attributes.docket, which category court.judgment.unfulfilled does not declare" }),
    ]);
    const exit = edit(NATIONAL, "      - category: court.judgment.fulfilled\n", "      - category: court.judgment.fulfilled\n        when: record.attributes.ground == 1\n");
    expect(lint([N, exit])).toEqual([
      expect.objectContaining({
        line: lineOf(exit, "        when: record.attributes.ground == 1"),
        item: "list debtors",
        message: "condition uses record.attributes.ground, which category court.judgment.fulfilled does not declare",
      }),
    ]);
  });
});

describe("categories and sources", () => {
  it("refuses a rule on a category no source in its chain is granted", () => {
    const text = withRule(`  - id: nowhere
    category: customs.smuggling
    effects:
      - points: -10
        duration: P1Y
    legalBasis: Test Law
`);
    expect(lint([N, text])).toEqual([
      expect.objectContaining({ line: lineOf(text, "category: customs.smuggling"), message: "category customs.smuggling is not granted to any source in this layer or its parents" }),
    ]);
  });

  it("refuses a category declared twice, even across layers", () => {
    const body = `sources:
  - id: court
    categories:
      - id: court.judgment.fulfilled
`;
    const text = local("l", body);
    expect(lint([N, NATIONAL], ["l.yaml", text])).toEqual([
      {
        file: "l.yaml",
        line: lineOf(text, "      - id: court.judgment.fulfilled"),
        column: 9,
        item: "source court",
        message: "category court.judgment.fulfilled is already declared by source court in layer national",
      },
    ]);
  });

  it("refuses a source declared twice in one layer", () => {
    const text = edit(NATIONAL, "sources:\n", "sources:\n  - id: court\n    categories:\n      - id: court.order.other\n");
    expect(lint([N, text]).map((p) => p.message)).toEqual(["source court is declared twice in this layer"]);
  });

  it("refuses a list declared twice", () => {
    const text = local("l", `lists:
  - id: debtors
    name: Debtors again
    kind: blacklist
    tier: moderate
    maxTerm: P1Y
    legalBasis: Test Regulation
`);
    expect(lint([N, NATIONAL], ["l.yaml", text])).toEqual([
      expect.objectContaining({ file: "l.yaml", item: "list debtors", message: "list debtors is already declared in layer national" }),
    ]);
  });

  it("refuses rule ids given twice across layers", () => {
    const text = local("l", `rules:
${ruleWhen("debtor-entry", "record.attributes.ground == 1")}`);
    expect(lint([N, NATIONAL], ["l.yaml", text])).toEqual([
      {
        file: "l.yaml",
        line: lineOf(text, "  - id: debtor-entry"),
        column: 5,
        item: "rule debtor-entry",
        message: "rule debtor-entry is declared twice",
      },
    ]);
  });

  it("refuses rule ids given twice in one layer", () => {
    const text = withRule(ruleWhen("debtor-entry", "record.attributes.ground == 1"));
    expect(lint([N, text]).map((p) => p.message)).toEqual(["rule debtor-entry is declared twice"]);
  });
});

describe("layers", () => {
  it("refuses a local layer whose parent is not given", () => {
    const text = local("nanjing", "", { parent: "jiangsu", regions: ["3201"] });
    expect(lint([N, NATIONAL], ["nanjing.yaml", text])).toEqual([
      {
        file: "nanjing.yaml",
        line: lineOf(text, "parent: jiangsu"),
        column: 1,
        message: "parent layer jiangsu is not among the layers given (lint or activate it together with this one)",
      },
    ]);
  });

  it("refuses two national layers", () => {
    const other = edit(NATIONAL, "id: national\n", "id: national-bis\n");
    expect(lint([N, NATIONAL], ["bis.yaml", other])).toEqual([
      { file: "bis.yaml", line: 1, column: 1, message: "two national layers (national and national-bis): only one layer may have no parent" },
    ]);
  });

  it("refuses the same layer given twice", () => {
    expect(lint([N, NATIONAL], ["copy.yaml", NATIONAL]).map((p) => p.message)).toEqual(["layer national is given twice (also in national.yaml)"]);
  });

  it("refuses a set without a national layer", () => {
    expect(lint(["l.yaml", local("l", "", { parent: "l" })]).map((p) => p.message)).toEqual(
      expect.arrayContaining(["no national layer: exactly one layer must have no parent"]),
    );
  });

  it("refuses a layer that is its own parent", () => {
    const problems = lint([N, NATIONAL], ["l.yaml", local("l", "", { parent: "l" })]);
    expect(problems.map((p) => p.message)).toEqual(["layer l is in a cycle of parents that never reaches the national layer"]);
  });

  it("refuses two local layers that are each other's parent", () => {
    const problems = lint([N, NATIONAL], ["a.yaml", local("a", "", { parent: "b", regions: ["32"] })], ["b.yaml", local("b", "", { parent: "a", regions: ["33"] })]);
    expect(problems.map((p) => p.message).sort()).toEqual([
      "layer a is in a cycle of parents that never reaches the national layer",
      "layer b is in a cycle of parents that never reaches the national layer",
    ]);
  });

  it("refuses two layers claiming the same region prefix, and a child reaching outside its parent's regions", () => {
    const twice = lint([N, NATIONAL], ["a.yaml", local("a", "", { regions: ["32"] })], ["b.yaml", local("b", "", { regions: ["32"] })]);
    expect(twice.map((p) => [p.file, p.message])).toEqual([["b.yaml", "region 32 is already claimed by layer a"]]);
    const outside = lint([N, NATIONAL], ["a.yaml", local("a", "", { regions: ["32"] })], ["c.yaml", local("c", "", { parent: "a", regions: ["3301"] })]);
    expect(outside.map((p) => p.message)).toEqual(["region 3301 lies outside the regions of parent layer a (32)"]);
  });

  it("refuses a child whose scoring reaches below the grades it inherits", () => {
    const child = local("c", "scoring: { base: 1000, min: -500, max: 2000 }", { regions: ["37"] });
    expect(lint([N, NATIONAL], ["c.yaml", child]).map((p) => p.message)).toEqual([
      "scores from -500 to -1 have no grade: the inherited lowest band B starts at 0",
    ]);
  });

  it("refuses a local layer without regions", () => {
    const text = local("l", "", { regions: [] });
    expect(lint([N, NATIONAL], ["l.yaml", text])).toEqual([
      { file: "l.yaml", line: 1, column: 1, message: "a local layer names the region-code prefixes it applies to" },
    ]);
  });

  it("refuses regions on the national layer, and a national layer without scoring", () => {
    const regions = edit(NATIONAL, 'version: "1"\n', 'version: "1"\nregions: ["11"]\n');
    expect(lint([N, regions])).toEqual([
      expect.objectContaining({ line: lineOf(regions, "regions:"), message: "the national layer applies everywhere and takes no regions" }),
    ]);
    const noScoring = edit(NATIONAL, "scoring: { base: 1000, min: 0, max: 2000 }\n", "");
    expect(lint([N, noScoring]).map((p) => p.message)).toEqual(["the national layer must set scoring: {base, min, max}"]);
  });

  it("chooses the longest matching prefix, and follows a chain of more than two layers", () => {
    const province = local("jiangsu", "", { regions: ["32"] });
    const city = local("nanjing", "", { parent: "jiangsu", regions: ["3201"] });
    const ruleset = build([N, NATIONAL], ["jiangsu.yaml", province], ["nanjing.yaml", city]);
    expect(ruleset.jurisdictionFor("320102").chain).toEqual(["national", "jiangsu", "nanjing"]);
    expect(ruleset.jurisdictionFor("320205").chain).toEqual(["national", "jiangsu"]);
    expect(ruleset.jurisdictionFor("110105").chain).toEqual(["national"]);
  });
});

describe("scoring and grades", () => {
  it("refuses grades not listed from the highest band down", () => {
    const text = edit(NATIONAL, "  - { id: B, min: 0 }\n", "  - { id: C, min: 500 }\n  - { id: B, min: 700 }\n  - { id: D, min: 0 }\n");
    expect(lint([N, text])).toEqual([
      {
        file: N,
        line: lineOf(text, "{ id: B, min: 700 }"),
        column: 14,
        item: "grade B",
        message: "grades are listed from the highest band down: B (min 700) must be below C (min 500)",
      },
    ]);
  });

  it("refuses two grades with the same minimum", () => {
    const text = edit(NATIONAL, "  - { id: B, min: 0 }\n", "  - { id: B, min: 1000 }\n  - { id: C, min: 0 }\n");
    expect(lint([N, text]).map((p) => p.message)).toEqual(["grades are listed from the highest band down: B (min 1000) must be below A (min 1000)"]);
  });

  it("refuses a grade declared twice", () => {
    const text = edit(NATIONAL, "  - { id: B, min: 0 }\n", "  - { id: A, min: 0 }\n");
    expect(lint([N, text]).map((p) => p.message)).toEqual(["grade A is declared twice"]);
  });

  it("refuses grades that leave scores without a grade", () => {
    const text = edit(NATIONAL, "  - { id: B, min: 0 }\n", "  - { id: B, min: 600 }\n");
    expect(lint([N, text])).toEqual([
      expect.objectContaining({
        line: lineOf(text, "{ id: B, min: 600 }"),
        item: "grade B",
        message: "scores from 0 to 599 have no grade: the lowest band must start at scoring.min (0)",
      }),
    ]);
  });

  it("checks a local layer's grades against the scoring it inherits", () => {
    const text = local("l", "grades:\n  - { id: X, min: 500 }\n");
    expect(lint([N, NATIONAL], ["l.yaml", text]).map((p) => p.message)).toEqual([
      "scores from 0 to 499 have no grade: the lowest band must start at scoring.min (0)",
    ]);
  });

  it("refuses scoring whose base lies outside min and max", () => {
    const text = edit(NATIONAL, "scoring: { base: 1000, min: 0, max: 2000 }", "scoring: { base: 1000, min: 0, max: 900 }");
    expect(lint([N, text]).map((p) => p.message)).toEqual(["scoring must satisfy min <= base <= max (got 0, 1000, 900)"]);
  });

  it("lets the most local layer that sets scoring and grades win", () => {
    const text = local("l", "scoring: { base: 100, min: 0, max: 200 }\ngrades:\n  - { id: GOOD, min: 100 }\n  - { id: POOR, min: 0 }\n");
    const ruleset = build([N, NATIONAL], ["l.yaml", text]);
    const j = ruleset.jurisdictionFor("320102");
    expect(j.scoring).toEqual({ base: 100, min: 0, max: 200 });
    expect(j.grades.map((g) => g.id)).toEqual(["GOOD", "POOR"]);
    expect(ruleset.jurisdictionFor("110105").grades.map((g) => g.id)).toEqual(["A", "B"]);
  });
});

describe("the complete example of docs/rulebook-language.md", () => {
  const doc = readFileSync(new URL("../../../docs/rulebook-language.md", import.meta.url), "utf8");
  const marker = doc.indexOf("<!-- example-layer");
  const start = doc.indexOf("```yaml\n", marker) + "```yaml\n".length;
  const example = doc.slice(start, doc.indexOf("```\n", start));

  it("is found in the document", () => {
    expect(marker).toBeGreaterThan(0);
    expect(example).toContain("id: nanjing");
  });

  it("lints with the shipped layers and applies to Nanjing only", () => {
    const ruleset = build(...shippedSet(), ["nanjing.yaml", example]);
    expect(ruleset.jurisdictionFor("320102").chain).toEqual(["national", "jiangsu", "nanjing"]);
    expect(ruleset.jurisdictionFor("320205").chain).toEqual(["national", "jiangsu"]);
    const nanjing = ruleset.jurisdictionFor("320102");
    expect(nanjing.scoring).toEqual({ base: 1000, min: 0, max: 2000 });
    expect(nanjing.grades.map((g) => g.id)).toEqual(["A", "B", "C"]);
  });
});

describe("nested region prefixes", () => {
  const jiangsu = (): [string, string] => ["jiangsu.yaml", local("jiangsu", "", { regions: ["32"] })];

  it("refuses a layer whose prefix lies within another layer's prefix when that layer is not its ancestor", () => {
    const nanjing = local("nanjing", "", { parent: "national", regions: ["3201"] });
    const message =
      "region 3201 of layer nanjing lies within region 32 of layer jiangsu, which is not an ancestor of nanjing: subjects of 3201 would silently lose the rules of jiangsu; make nanjing a child of jiangsu (parent: jiangsu)";
    expect(lint([N, NATIONAL], jiangsu(), ["nanjing.yaml", nanjing])).toEqual([
      { file: "nanjing.yaml", line: lineOf(nanjing, "regions:"), column: 11, message },
    ]);
    // The order of the files does not matter.
    expect(lint(["nanjing.yaml", nanjing], jiangsu(), [N, NATIONAL]).map((p) => p.message)).toEqual([message]);
  });

  it("accepts the same prefixes when the more local layer is a child, or a grandchild, of the other", () => {
    expect(lint([N, NATIONAL], jiangsu(), ["nanjing.yaml", local("nanjing", "", { parent: "jiangsu", regions: ["3201"] })])).toEqual([]);
    const city = local("nanjing", "", { parent: "jiangsu", regions: ["3201"] });
    const district = local("xuanwu", "", { parent: "nanjing", regions: ["320102"] });
    expect(lint([N, NATIONAL], jiangsu(), ["nanjing.yaml", city], ["xuanwu.yaml", district])).toEqual([]);
  });

  it("refuses a grandchild prefix that skips the layer whose prefix it lies in", () => {
    const city = local("nanjing", "", { parent: "jiangsu", regions: ["3201"] });
    const district = local("xuanwu", "", { parent: "jiangsu", regions: ["320102"] });
    expect(lint([N, NATIONAL], jiangsu(), ["nanjing.yaml", city], ["xuanwu.yaml", district]).map((p) => [p.file, p.message])).toEqual([
      [
        "xuanwu.yaml",
        "region 320102 of layer xuanwu lies within region 3201 of layer nanjing, which is not an ancestor of xuanwu: subjects of 320102 would silently lose the rules of nanjing; make xuanwu a child of nanjing (parent: nanjing)",
      ],
    ]);
  });

  it("still refuses identical prefixes once, and a region outside the parent's once", () => {
    const twice = lint([N, NATIONAL], jiangsu(), ["b.yaml", local("b", "", { regions: ["32"] })]);
    expect(twice.map((p) => p.message)).toEqual(["region 32 is already claimed by layer jiangsu"]);
    const wider = lint([N, NATIONAL], ["nanjing.yaml", local("nanjing", "", { regions: ["3201"] })], ["c.yaml", local("c", "", { parent: "nanjing", regions: ["32"] })]);
    expect(wider.map((p) => p.message)).toEqual(["region 32 lies outside the regions of parent layer nanjing (3201)"]);
  });

  it("leaves the shipped layers alone: Hangzhou (3301) lies in no other layer's prefix", () => {
    expect(buildRuleset(shippedSet().map(([f, t]) => parsed(f, t))).problems).toEqual([]);
  });
});

describe("sanctions triggered by the grade of the base score", () => {
  const gradeSanction = (grades: string, kind = "sanction") => `measures:
  - id: closer-scrutiny
    name: Closer scrutiny
    kind: ${kind}
    trigger: { grades: [${grades}] }${kind === "sanction" ? "\n    tier: moderate" : ""}
    target: subject
    enforcers: [public-service-counter]
    legalBasis: Test Law, Art. 6
`;
  const nationalWith = (grades: string, kind = "sanction") => edit(NATIONAL, "measures:\n", gradeSanction(grades, kind));
  const why = "it would apply to every subject nobody reported on, with no record to object to and no end";

  it("refuses a sanction triggered by the grade that holds the base score", () => {
    const text = nationalWith("B, A");
    expect(lint([N, text])).toEqual([
      {
        file: N,
        line: lineOf(text, "trigger: { grades: [B, A] }"),
        column: 28,
        item: "measure closer-scrutiny",
        message: `a sanction may not be triggered by grade A, which holds the base score 1000 in layer national: ${why}`,
      },
    ]);
  });

  it("accepts a sanction on a lower grade, and a reward on the grade of the base score", () => {
    expect(lint([N, nationalWith("B")])).toEqual([]);
    expect(lint([N, nationalWith("A", "reward")])).toEqual([]);
  });

  it("checks every layer below the measure's, with the scoring and grades in force there", () => {
    const text = nationalWith("B");
    // A local base of 500 falls in the inherited grade B.
    const lowBase = local("l", "scoring: { base: 500, min: 0, max: 2000 }", { regions: ["32"] });
    expect(lint([N, text], ["l.yaml", lowBase]).map((p) => [p.file, p.message])).toEqual([
      [N, `a sanction may not be triggered by grade B, which holds the base score 500 in layer l: ${why}`],
    ]);
    // Local grades that put the national base score in a band called B.
    const regraded = local("m", "grades:\n  - { id: A, min: 1500 }\n  - { id: B, min: 0 }\n", { regions: ["33"] });
    const grandchild = local("g", "", { parent: "m", regions: ["3301"] });
    expect(lint([N, text], ["m.yaml", regraded], ["g.yaml", grandchild]).map((p) => p.message)).toEqual([
      `a sanction may not be triggered by grade B, which holds the base score 1000 in layers m, g: ${why}`,
    ]);
  });

  it("does not look at layers outside the measure's, nor at grades a layer below renames", () => {
    const sanction = `grades:\n  - { id: GOOD, min: 1000 }\n  - { id: POOR, min: 0 }\n${gradeSanction("POOR")}`;
    const a = local("a", sanction, { regions: ["32"] });
    const sibling = local("b", "scoring: { base: 10, min: 0, max: 2000 }\ngrades:\n  - { id: POOR, min: 0 }\n", { regions: ["33"] });
    const below = local("c", "grades:\n  - { id: X, min: 0 }\n", { parent: "a", regions: ["3201"] });
    expect(lint([N, NATIONAL], ["a.yaml", a], ["b.yaml", sibling], ["c.yaml", below])).toEqual([]);
  });

  it("leaves the shipped grade-triggered measure alone: Rongcheng's AAA priority services are a reward", () => {
    const ruleset = build(...shippedSet());
    expect(ruleset.measures.get("rongcheng-priority-services")).toMatchObject({ kind: "reward", trigger: { grades: ["AAA"] } });
  });
});

describe("the longest term any rulebook may set", () => {
  const cap = "exceeds the longest term any rulebook may set (P5Y)";

  it("is five years: the debtors' list, two years plus three years' extension", () => {
    expect(MAX_TERM).toMatchObject({ years: 5, months: 0, days: 0, text: "P5Y" });
  });

  it("refuses points for longer", () => {
    const text = withRule(`  - id: long-points
    category: court.judgment.unfulfilled
    effects:
      - points: -10
        duration: P5Y1D
    legalBasis: Test Law, Art. 5
`);
    expect(lint([N, text])).toEqual([
      { file: N, line: lineOf(text, "duration: P5Y1D"), column: 9, item: "rule long-points", message: `an effect of P5Y1D ${cap}` },
    ]);
    expect(lint([N, edit(text, "P5Y1D", "P60M")])).toEqual([]);
    expect(lint([N, edit(text, "P5Y1D", "P61M")]).map((p) => p.message)).toEqual([`an effect of P61M ${cap}`]);
  });

  it("refuses a list's maxTerm, and an entry with its extension, longer than five years", () => {
    const text = edit(
      edit(NATIONAL, "maxTerm: P5Y", "maxTerm: P10Y"),
      "        key: record.attributes.caseNumber\n    legalBasis",
      "        key: record.attributes.caseNumber\n        extension: { years: '1', maxYears: 4 }\n    legalBasis",
    );
    expect(lint([N, text])).toEqual([
      { file: N, line: lineOf(text, "maxTerm: P10Y"), column: 5, item: "list debtors", message: `maxTerm P10Y ${cap}` },
      { file: N, line: lineOf(text, "duration: P2Y"), column: 9, item: "rule debtor-entry", message: `an entry of P2Y plus up to 4 years ${cap}` },
    ]);
  });

  it("refuses a restoration's minimum period longer than five years", () => {
    const text = edit(NATIONAL, "    legalBasis: Test Law, Art. 2\nmeasures:", "    restoration: { allowed: true, minimumPeriod: P6Y }\n    legalBasis: Test Law, Art. 2\nmeasures:");
    expect(lint([N, text])).toEqual([
      expect.objectContaining({ line: lineOf(text, "minimumPeriod: P6Y"), item: "list debtors", message: `restoration.minimumPeriod P6Y ${cap}` }),
    ]);
  });
});

describe("protected characteristics in names, values and hidden literals", () => {
  it("refuses an enum value naming one, but not a description explaining what is excluded", () => {
    const text = edit(NATIONAL, "          note: { type: string }\n", "          note: { type: string, enum: [civil, religious-dispute], description: No religious or political cases }\n");
    expect(lint([N, text])).toEqual([
      expect.objectContaining({
        line: lineOf(text, "religious-dispute"),
        item: "source court",
        message: `value "religious-dispute" of attribute note of court.judgment.unfulfilled: "religious" names religion, which no rulebook may condition on ${PROTECTED_LIST}`,
      }),
    ]);
    const described = edit(NATIONAL, "          note: { type: string }\n", "          note: { type: string, enum: [civil, administrative], description: No religious or political cases }\n");
    expect(lint([N, described])).toEqual([]);
  });

  it("refuses measure names, list names, enforcers and source names naming one", () => {
    const measure = edit(NATIONAL, "    name: No flights\n", "    name: No flights for the debtor's children\n");
    expect(lint([N, measure])).toEqual([
      expect.objectContaining({
        line: lineOf(measure, "name: No flights for"),
        item: "measure no-flights",
        message: expect.stringContaining(`measure name "No flights for the debtor's children": "children" names relations`) as unknown,
      }),
    ]);
    const list = edit(NATIONAL, "    name: Debtors\n", "    name: Debtors and their spouses\n");
    expect(lint([N, list]).map((p) => p.message)).toEqual([expect.stringContaining('list name "Debtors and their spouses": "spouses"') as unknown]);
    const enforcer = edit(NATIONAL, "enforcers: [airline]", "enforcers: [airline, religious-affairs-bureau]");
    expect(lint([N, enforcer])).toEqual([
      expect.objectContaining({ line: lineOf(enforcer, "enforcers:"), item: "measure no-flights", message: expect.stringContaining('enforcer religious-affairs-bureau: "religious" names religion') as unknown }),
    ]);
    const source = edit(NATIONAL, "  - id: court\n", "  - id: court\n    name: Court of political loyalty\n");
    expect(lint([N, source]).map((p) => p.message)).toEqual([expect.stringContaining('source name "Court of political loyalty": "political" names political opinion') as unknown]);
  });

  it("refuses matches(), in both spellings, since a regular expression hides what it compares with", () => {
    const message = "condition uses matches(): a regular expression hides what it compares with; use == or in with literal values";
    for (const when of ['record.attributes.note.matches("^rel.g")', 'matches(record.attributes.note, "p.t.t.on")']) {
      const text = withRule(ruleWhen("pattern", when));
      expect(lint([N, text]), when).toEqual([
        { file: N, line: lineOf(text, "matches"), column: 5, item: "rule pattern", message },
      ]);
    }
  });

  it("refuses + on a text literal, which would hide the whole literal", () => {
    const message = "condition joins a text literal with +: write every literal whole, so that reviewers and the linter can read it";
    for (const when of ['record.attributes.note == "reli" + "gion"', 'record.attributes.note == record.attributes.caseNumber + "-2"', '"x" + record.attributes.note == "xy"']) {
      expect(lint([N, withRule(ruleWhen("joined", when))]).map((p) => p.message), when).toEqual([message]);
    }
    // Arithmetic, and joining two attributes, hide no literal.
    expect(lint([N, withRule(ruleWhen("sum", "record.attributes.ground + 1 >= 3"))])).toEqual([]);
    expect(lint([N, withRule(ruleWhen("pair", 'record.attributes.note + record.attributes.caseNumber != ""'))])).toEqual([]);
  });

  it("refuses relations named by the widened vocabulary, and still lets party alone through", () => {
    for (const [word, when] of [
      ["father", 'record.attributes.note == "father in default"'],
      ["shareholders", 'record.attributes.note in ["shareholders", "none"]'],
      ["married", 'record.attributes.note == "married"'],
      ["nationality", 'record.attributes.note != "nationality:uyghur"'],
      ["representative", 'record.attributes.note == "legal representative"'],
    ] as const) {
      expect(lint([N, withRule(ruleWhen("x", when))]).map((p) => p.message), word).toEqual([expect.stringContaining(`"${word}" names`) as unknown]);
    }
    expect(lint([N, withRule(ruleWhen("y", 'record.attributes.note == "party to the case"'))])).toEqual([]);
  });
});

describe("attributes named like properties of every object", () => {
  it.each(["constructor", "hasOwnProperty", "toString"])("refuses record.attributes.%s, which no category declares", (name) => {
    const text = withRule(ruleWhen("proto", `record.attributes.${name} != ""`));
    expect(lint([N, text]).map((p) => p.message)).toEqual([
      `condition uses record.attributes.${name}, which category court.judgment.unfulfilled does not declare`,
    ]);
  });
});

describe("jurisdictions", () => {
  it("are built once per layer: every region of a layer gets the same one", () => {
    const ruleset = build(...shippedSet());
    expect(ruleset.jurisdictionFor("320102")).toBe(ruleset.jurisdictionFor("320205"));
    expect(ruleset.jurisdictionFor("440101")).toBe(ruleset.jurisdictionFor("371002"));
    expect(ruleset.jurisdictionFor("320102")).not.toBe(ruleset.jurisdictionFor("440101"));
    expect(ruleset.jurisdictionFor("320102")).toBe(ruleset.jurisdictionFor("320102"));
  });

  it("take scoring and grades as the linter sees them: grades sorted from the highest band down", () => {
    const ruleset = build(...shippedSet());
    expect(ruleset.jurisdictionFor("371082").grades.map((g) => g.min)).toEqual([1050, 1030, 960, 850, 600, 0]);
  });
});

describe("tiers", () => {
  /** NATIONAL with the debtors list's `tier: moderate` line replaced by `lines` (each indented as a list field). */
  const debtorsWith = (...lines: string[]) => edit(NATIONAL, "    tier: moderate\n", lines.map((l) => `    ${l}\n`).join(""));
  const messages = (...layers: [string, string][]) => lint(...layers).map((p) => p.message);

  it("refuses a blacklist or watchlist without a tier, at the list", () => {
    const text = debtorsWith();
    expect(lint([N, text])).toEqual([
      {
        file: N,
        line: lineOf(text, "  - id: debtors"),
        column: 5,
        item: "list debtors",
        message: "a blacklist needs a tier (minor, moderate or serious): it sets how long entries are published and when restoration may be asked",
      },
    ]);
    expect(messages([N, edit(text, "kind: blacklist", "kind: watchlist")])).toEqual([
      "a watchlist needs a tier (minor, moderate or serious): it sets how long entries are published and when restoration may be asked",
    ]);
  });

  it("refuses a tier on a redlist, and accepts a redlist without one", () => {
    const text = edit(debtorsWith("tier: serious"), "kind: blacklist", "kind: redlist");
    expect(lint([N, text])).toEqual([
      expect.objectContaining({ line: lineOf(text, "tier: serious"), item: "list debtors", message: "a redlist takes no tier: tiers grade dishonesty, not rewards" }),
    ]);
    const ruleset = build([N, edit(debtorsWith(), "kind: blacklist", "kind: redlist")]);
    expect(ruleset.lists.get("debtors")).toMatchObject({ kind: "redlist", tier: null, public: true, signOff: false });
  });

  it("refuses an unknown tier in the schema", () => {
    const r = parseLayer(N, debtorsWith("tier: grave"));
    expect(r.problems).toEqual([expect.objectContaining({ line: lineOf(debtorsWith("tier: grave"), "tier: grave"), message: expect.stringMatching(/tier must be minor, moderate or serious$/) })]);
  });

  it("refuses a minor list whose maxTerm is longer than three months, and accepts exactly three", () => {
    const text = edit(debtorsWith("tier: minor"), "maxTerm: P5Y", "maxTerm: P4M");
    const minorEntry = (t: string) => edit(t, "duration: P2Y", "duration: P1M");
    expect(lint([N, minorEntry(text)])).toEqual([
      expect.objectContaining({ line: lineOf(text, "maxTerm: P4M"), item: "list debtors", message: "maxTerm P4M is longer than a minor entry may last (P3M): minor items end by themselves" }),
    ]);
    expect(lint([N, minorEntry(edit(text, "maxTerm: P4M", "maxTerm: P3M"))])).toEqual([]);
    expect(messages([N, minorEntry(edit(text, "maxTerm: P4M", "maxTerm: P92D"))])).toEqual([
      "maxTerm P92D is longer than a minor entry may last (P3M): minor items end by themselves",
    ]);
  });

  /** NATIONAL with a minor debtors list of maxTerm P3M (and an entry that fits), plus the given list fields. */
  const minorDebtors = (...lines: string[]) => edit(edit(debtorsWith("tier: minor", ...lines), "maxTerm: P5Y", "maxTerm: P3M"), "duration: P2Y", "duration: P3M");

  it("never publishes minor items: refuses public: true and a publication period, compiles them unpublished", () => {
    const pub = minorDebtors("public: true");
    expect(lint([N, pub])).toEqual([expect.objectContaining({ line: lineOf(pub, "public: true"), item: "list debtors", message: "minor items are never published: remove public: true" })]);
    expect(messages([N, minorDebtors("publication: P1M")])).toEqual(["minor items are never published: remove publication"]);
    expect(lint([N, minorDebtors("public: false")])).toEqual([]);
    expect(build([N, minorDebtors()]).lists.get("debtors")).toMatchObject({ tier: "minor", public: false, restoration: null });
  });

  it("refuses a publication period outside the tier's bounds, and accepts its bounds themselves", () => {
    const moderate = (p: string) => debtorsWith("tier: moderate", `publication: ${p}`);
    const serious = (p: string) => debtorsWith("tier: serious", `publication: ${p}`);
    expect(lint([N, moderate("P2M")])).toEqual([
      expect.objectContaining({ line: lineOf(moderate("P2M"), "publication: P2M"), item: "list debtors", message: "a moderate entry is published from P3M to P1Y, not P2M" }),
    ]);
    expect(messages([N, moderate("P13M")])).toEqual(["a moderate entry is published from P3M to P1Y, not P13M"]);
    expect(messages([N, serious("P11M")])).toEqual(["a serious entry is published from P1Y to P3Y, not P11M"]);
    expect(messages([N, serious("P3Y1D")])).toEqual(["a serious entry is published from P1Y to P3Y, not P3Y1D"]);
    for (const ok of ["P3M", "P1Y", "P6M"]) expect(lint([N, moderate(ok)]), ok).toEqual([]);
    for (const ok of ["P1Y", "P3Y", "P36M"]) expect(lint([N, serious(ok)]), ok).toEqual([]);
    expect(build([N, serious("P2Y")]).lists.get("debtors")?.publication.text).toBe("P2Y");
  });

  it("publishes by default for as long as the tier allows, never longer than the list's maximum term", () => {
    const publication = (tier: string, maxTerm: string) =>
      build([N, edit(edit(debtorsWith(`tier: ${tier}`), "maxTerm: P5Y", `maxTerm: ${maxTerm}`), "duration: P2Y", "duration: P3M")]).lists.get("debtors");
    expect(publication("moderate", "P5Y")).toMatchObject({ public: true, publication: { text: "P1Y" } });
    expect(publication("moderate", "P6M")).toMatchObject({ public: true, publication: { text: "P6M" } });
    expect(publication("serious", "P5Y")).toMatchObject({ public: true, publication: { text: "P3Y" } });
    expect(publication("serious", "P2Y")).toMatchObject({ public: true, publication: { text: "P2Y" } });
    // A list may still keep itself out of the published lists.
    expect(build([N, debtorsWith("tier: serious", "public: false")]).lists.get("debtors")?.public).toBe(false);
  });

  it("refuses restoration on a minor list: its items end by themselves", () => {
    const text = minorDebtors("restoration: { allowed: true }");
    expect(lint([N, text])).toEqual([
      expect.objectContaining({ line: lineOf(text, "restoration: { allowed: true }"), item: "list debtors", message: "minor entries end by themselves within P3M: they take no restoration" }),
    ]);
    expect(lint([N, minorDebtors("restoration: { allowed: false }")])).toEqual([]);
  });

  it("refuses a restoration minimum period below the tier's floor, and defaults it to the floor", () => {
    const restoring = (tier: string, period?: string) =>
      debtorsWith(`tier: ${tier}`, `restoration: { allowed: true${period ? `, minimumPeriod: ${period}` : ""} }`);
    const text = restoring("serious", "P6M");
    expect(lint([N, text])).toEqual([
      expect.objectContaining({ line: lineOf(text, "minimumPeriod: P6M"), item: "list debtors", message: expect.stringMatching(/^a serious entry may be restored after P1Y at the earliest; P6M asks for less$/) }),
    ]);
    expect(messages([N, restoring("moderate", "P2M")])).toEqual(["a moderate entry may be restored after P3M at the earliest; P2M asks for less"]);
    expect(lint([N, restoring("serious", "P1Y")])).toEqual([]);
    expect(build([N, restoring("serious", "P18M")]).lists.get("debtors")?.restoration).toMatchObject({ minimumPeriod: { text: "P18M" } });
    expect(build([N, restoring("serious")]).lists.get("debtors")?.restoration).toEqual({
      minimumPeriod: expect.objectContaining({ text: "P1Y" }),
      commitment: false,
      records: [],
      conditions: [],
      // The list's own basis when the restoration cites none.
      legalBasis: "Test Law, Art. 2",
    });
    expect(build([N, restoring("moderate")]).lists.get("debtors")?.restoration?.minimumPeriod.text).toBe("P3M");
    // An untiered redlist has no floor: restoration may be asked at once.
    const redlist = edit(debtorsWith("restoration: { allowed: true }"), "kind: blacklist", "kind: redlist");
    expect(build([N, redlist]).lists.get("debtors")?.restoration?.minimumPeriod).toEqual({ years: 0, months: 0, days: 0, text: "P0D" });
  });

  it("checks a restoration's required records like conditions: a granted category, known attributes", () => {
    const text = debtorsWith("tier: moderate", "restoration:", "  allowed: true", "  records:", "    - { category: court.judgment.fulfilled, when: record.attributes.amount > 0 }", "    - { category: training.done }");
    expect(messages([N, text])).toEqual([
      "condition uses record.attributes.amount, which category court.judgment.fulfilled does not declare",
      "category training.done is not granted to any source in this layer or its parents",
    ]);
    const ok = debtorsWith("tier: moderate", "restoration:", "  allowed: true", "  commitment: true", "  records:", "    - { category: court.judgment.fulfilled, description: the judgment paid }");
    expect(build([N, ok]).lists.get("debtors")?.restoration).toMatchObject({ commitment: true, records: [{ category: "court.judgment.fulfilled", description: "the judgment paid" }] });
  });

  it("gives a list-triggered measure its list's tier, and refuses a different one declared on it", () => {
    expect(build([N, NATIONAL]).measures.get("no-flights")?.tier).toBe("moderate");
    expect(lint([N, edit(NATIONAL, "    trigger: { list: debtors }\n", "    trigger: { list: debtors }\n    tier: moderate\n")])).toEqual([]);
    const text = edit(NATIONAL, "    trigger: { list: debtors }\n", "    trigger: { list: debtors }\n    tier: serious\n");
    expect(lint([N, text])).toEqual([
      expect.objectContaining({
        line: lineOf(text, "tier: serious"),
        item: "measure no-flights",
        message: "measure no-flights is triggered by list debtors of tier moderate: its tier is the list's; remove tier or make it moderate",
      }),
    ]);
  });

  it("requires a tier on a sanction triggered by grades, not on a reward", () => {
    const byGrade = (kind: string, tier = "") =>
      edit(NATIONAL, "    trigger: { list: debtors }\n", `    trigger: { grades: [B] }\n${tier ? `    tier: ${tier}\n` : ""}`).replace("kind: sanction", `kind: ${kind}`);
    const text = byGrade("sanction");
    expect(lint([N, text])).toEqual([
      expect.objectContaining({ line: lineOf(text, "  - id: no-flights"), item: "measure no-flights", message: "a sanction triggered by grades needs a tier (minor, moderate or serious)" }),
    ]);
    expect(build([N, byGrade("sanction", "serious")]).measures.get("no-flights")?.tier).toBe("serious");
    expect(build([N, byGrade("reward")]).measures.get("no-flights")?.tier).toBeNull();
  });

  it("makes entries wait for sign-off where a layer of the list's chain names its tier, and nowhere else", () => {
    const signing = edit(NATIONAL, "scoring:", "signOff: [serious]\nscoring:");
    const serious = edit(signing, "    tier: moderate\n", "    tier: serious\n");
    expect(build([N, serious]).lists.get("debtors")?.signOff).toBe(true);
    expect(build([N, signing]).lists.get("debtors")?.signOff).toBe(false);
    // A local list inherits the national sign-off of its tier; a local sign-off binds that layer's lists.
    const localList = (id: string, tier: string) => `lists:
  - id: ${id}
    name: Local ${id}
    kind: watchlist
    tier: ${tier}
    maxTerm: P1Y
    legalBasis: Test Regulation, Art. ${id.length}
`;
    const a = local("a", localList("a-serious", "serious") + localList("a-moderate", "moderate").replace("lists:\n", ""), { regions: ["32"] });
    const b = local("b", `signOff: [moderate]\n${localList("b-moderate", "moderate")}`, { regions: ["33"] });
    const r = build([N, serious], ["a.yaml", a], ["b.yaml", b]);
    expect(Object.fromEntries([...r.lists.values()].map((l) => [l.id, l.signOff]))).toEqual({
      debtors: true,
      "a-serious": true,
      "a-moderate": false,
      "b-moderate": true,
    });
    expect(parseLayer(N, edit(NATIONAL, "scoring:", "signOff: [grave]\nscoring:")).problems.map((p) => p.message)).toEqual([expect.stringMatching(/tier must be minor, moderate or serious$/)]);
  });

  it("compiles the shipped tiers: serious debtors and exit control, a minor Jiangsu watchlist, untiered redlists", () => {
    const r = build(...shippedSet());
    const tiers = Object.fromEntries([...r.lists.values()].map((l) => [l.id, [l.kind, l.tier, l.signOff, l.public]]));
    expect(tiers).toMatchObject({
      "dishonest-judgment-debtors": ["blacklist", "serious", true, true],
      "tax-exit-control": ["watchlist", "serious", true, false],
      "beijing-serious-dishonest-enterprises": ["blacklist", "serious", true, true],
      "jiangsu-late-tax-filers": ["watchlist", "minor", false, false],
    });
    for (const l of r.lists.values()) expect(l.tier === null, l.id).toBe(l.kind === "redlist");
    expect(r.measures.get("jiangsu-no-tax-fast-track")?.tier).toBe("minor");
    expect(r.lists.get("dishonest-judgment-debtors")?.restoration).toMatchObject({ minimumPeriod: { text: "P1Y" }, commitment: true });
  });
});
