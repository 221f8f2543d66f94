// Tests for compiling CEL conditions: what an expression refers to (paths, literals, functions, joined literals) and running it.
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
