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

  it("gives canonicalize's bytes for values built with their keys in canonical order, as the audit log's are", () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" }));
    // Keys inserted in sorted order, so that every object takes the one-call way unless a key is an array index
    // (listed first by JavaScript whatever the order) or a string holds a lone surrogate.
    const sorted = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: "small" }, fc.constant(null), fc.boolean(), fc.double(), fc.integer(), text, fc.array(tie("node")), fc.dictionary(text, tie("node")).map(sorted)),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        expect(ours(v)).toBe(reference(v));
      }),
      { numRuns: 3000 },
    );
    const lone = { a: 1, b: ["x", "\uD800"] };
    expect(() => canonicalJson(lone)).toThrow();
    const looksLikeOne = { a: "\\ud800 is six characters", b: [true, 2] };
    expect(canonicalJson(looksLikeOne)).toBe(reference(looksLikeOne));
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
