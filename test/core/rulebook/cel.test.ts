// Tests for compiling CEL conditions: what an expression refers to (paths, literals, functions, joined literals) and running it.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileCel, type CelReferences } from "../../../src/core/rulebook/cel.js";

function refs(text: string): CelReferences {
  const compiled = compileCel(text);
  if ("error" in compiled) throw new Error(compiled.error);
  return compiled.refs;
}

describe("compileCel references", () => {
  it("lists field paths, also by index, string literals and unknown names", () => {
    const r = refs('record.attributes["note"] == "x" && subject.age >= 18 && other > 1');
    expect(r.paths).toEqual([["record", "attributes", "note"], ["subject", "age"]]);
    expect(r.strings).toEqual(["x"]);
    expect(r.unknownNames).toEqual(["other"]);
  });

  it("lists each function and operator called once, matches in both spellings", () => {
    expect(refs('record.attributes.note.matches("^a") || matches(record.source, "b")').functions).toEqual(
      expect.arrayContaining(["_||_", "matches"]),
    );
    expect(refs('record.attributes.note.matches("^a") || matches(record.source, "b")').functions.filter((f) => f === "matches")).toHaveLength(1);
    expect(refs("size(record.attributes.note) > 2").functions).toEqual(expect.arrayContaining(["size", "_>_"]));
    expect(refs("record.attributes.ground == 1").functions).not.toContain("matches");
  });

  it("flags + with a string literal operand, and only that", () => {
    expect(refs('record.attributes.note == "reli" + "gion"').stringConcatenation).toBe(true);
    expect(refs('"x" + record.attributes.note == "xy"').stringConcatenation).toBe(true);
    expect(refs('(record.attributes.a + "b") + record.attributes.c == ""').stringConcatenation).toBe(true);
    expect(refs("record.attributes.ground + 1 >= 3").stringConcatenation).toBe(false);
    expect(refs('record.attributes.a + record.attributes.b == "ab"').stringConcatenation).toBe(false);
    expect(refs('[record.attributes.a] + ["b"] == ["a", "b"]').stringConcatenation).toBe(false);
    expect(refs('record.attributes.list.map(x, x + 1) == [2]').stringConcatenation).toBe(false);
  });
});

describe("compileCel shortcuts", () => {
  // The same expression wrapped so that no shortcut applies: what the interpreter alone answers.
  const interpreted = (text: string, comparison: boolean) => compileCel(comparison ? `true && (${text})` : `[${text}][0]`);
  const valueArb = fc.oneof(
    fc.integer({ min: -1000, max: 1000 }),
    fc.double({ noNaN: true, min: -1e6, max: 1e6 }),
    fc.constantFrom(0, -0, 10, 10.0, 9.999999, 1e300, Number.MAX_SAFE_INTEGER),
    fc.string({ maxLength: 4 }),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.integer(), { maxLength: 2 }),
    fc.constant(undefined),
  );
  const literalArb = fc.oneof(fc.integer({ min: -1000, max: 1000 }).map(String), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map((d) => (Number.isInteger(d) ? `${d}.0` : String(d))), fc.constantFrom("10", "10.0", "0", "-1", "2.5"));

  it("answer what the interpreter answers, whatever the attribute holds or lacks", () => {
    fc.assert(
      fc.property(fc.constantFrom("==", "!=", "<", "<=", ">", ">=", "", "has"), literalArb, valueArb, (op, literal, value) => {
        const text = op === "" ? "record.attributes.x" : op === "has" ? "has(record.attributes.x)" : `record.attributes.x ${op} ${literal}`;
        const quick = compileCel(text);
        const slow = interpreted(text, op !== "");
        if ("error" in quick || "error" in slow) throw new Error(`${text} did not compile`);
        const input = { record: { source: "s", category: "c", occurredAt: "2026-01-01T00:00:00.000Z", attributes: value === undefined ? {} : { x: value } }, subject: { kind: "person", age: 30 } };
        const a = quick.program.run(input);
        const b = slow.program.run(input);
        // Values the interpreter hands back as its own objects (lists, null) are compared by what a rule makes of them.
        if (typeof b === "object" && b !== null) expect(typeof a).toBe("object");
        else expect(a).toEqual(b);
      }),
      { numRuns: 3000 },
    );
  });
});
