// The audit chain's hashes depend on canonical JSON being exactly RFC 8785 as the canonicalize library writes it.
import canonicalize from "canonicalize";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/core/canonical-json.js";

/** canonicalize's answer, or the fact that it refuses the value. */
function reference(v: unknown): string | "throws" {
  try {
    return canonicalize(v) ?? "throws";
  } catch {
    return "throws";
  }
}

function ours(v: unknown): string | "throws" {
  try {
    return canonicalJson(v);
  } catch {
    return "throws";
  }
}

describe("canonicalJson", () => {
  it("gives canonicalize's bytes for any JSON value, whatever its strings hold", () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" }));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: "small" }, fc.constant(null), fc.boolean(), fc.double(), fc.integer(), text, fc.array(tie("node")), fc.dictionary(text, tie("node"))),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        expect(ours(v)).toBe(reference(v));
      }),
      { numRuns: 3000 },
    );
  });

  it("treats what JSON drops as canonicalize does: undefined members left out, undefined items as null", () => {
    const v = { b: undefined, a: [1, undefined, "x"], c: { z: 1, y: undefined } };
    expect(canonicalJson(v)).toBe(reference(v));
    expect(canonicalJson(v)).toBe('{"a":[1,null,"x"],"c":{"z":1}}');
  });

  it("refuses what RFC 8785 refuses: NaN, infinities, lone surrogates", () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, "\uD800", { k: "\uDC00x" }, { ["\uD801"]: 1 }]) expect(() => canonicalJson(bad)).toThrow();
  });

  it("hands values with their own JSON form to the library", () => {
    const d = new Date(0);
    expect(canonicalJson({ when: d })).toBe(reference({ when: d }));
  });
});
