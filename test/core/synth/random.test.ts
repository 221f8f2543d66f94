// The seeded randomness: reproducible, independent streams, and distributions with the means they promise.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mix32, Random, seedOf, Weighted } from "../../../src/core/synth/random.js";

const draws = (r: Random, n: number) => Array.from({ length: n }, () => r.uint32());

describe("Random", () => {
  it("gives the same sequence for the same seed and stream, and different ones otherwise", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (seed) => {
        expect(draws(new Random(seed), 8)).toEqual(draws(new Random(seed), 8));
        expect(draws(new Random(seed, 1), 8)).not.toEqual(draws(new Random(seed), 8));
        expect(draws(new Random(seed + 1), 8)).not.toEqual(draws(new Random(seed), 8));
      }),
      { numRuns: 50 },
    );
  });

  it("float is in [0, 1) and int(n) in [0, n)", () => {
    const r = new Random(7);
    for (let i = 0; i < 10_000; i++) {
      const f = r.float();
      expect(f >= 0 && f < 1).toBe(true);
      const k = r.int(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
    }
  });

  it("poisson, exponential and lognormal have the means and medians they are asked for", () => {
    const r = new Random(11);
    const n = 50_000;
    for (const mean of [0.01, 0.5, 3, 80]) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += r.poisson(mean);
      expect(sum / n).toBeCloseTo(mean, mean < 1 ? 2 : 0);
    }
    let e = 0;
    for (let i = 0; i < n; i++) e += r.exponential(9);
    expect(e / n).toBeGreaterThan(8.7);
    expect(e / n).toBeLessThan(9.3);
    const l = Array.from({ length: n }, () => r.lognormal(300, 1)).sort((a, b) => a - b);
    expect(l[n / 2]).toBeGreaterThan(285);
    expect(l[n / 2]).toBeLessThan(315);
  });

  it("a draw costs well under a microsecond", () => {
    const r = new Random(3);
    const n = 1_000_000;
    const t = performance.now();
    let acc = 0;
    for (let i = 0; i < n; i++) acc += r.float();
    const perDrawUs = ((performance.now() - t) * 1000) / n;
    expect(acc).toBeGreaterThan(0);
    expect(perDrawUs).toBeLessThan(0.2);
  });
});

describe("Weighted", () => {
  it("samples each entry in proportion to its weight", () => {
    const w = new Weighted([["a", 1], ["b", 3], ["c", 0], ["d", 6]] as const);
    const r = new Random(5);
    const counts = { a: 0, b: 0, c: 0, d: 0 };
    const n = 100_000;
    for (let i = 0; i < n; i++) counts[w.sample(r)]++;
    expect(counts.c).toBe(0);
    expect(counts.a / n).toBeCloseTo(0.1, 2);
    expect(counts.b / n).toBeCloseTo(0.3, 2);
    expect(counts.d / n).toBeCloseTo(0.6, 2);
    expect(w.probability(1)).toBeCloseTo(0.3, 10);
  });

  it("refuses empty and all-zero tables", () => {
    expect(() => new Weighted([])).toThrow(RangeError);
    expect(() => new Weighted([["a", 0]])).toThrow(RangeError);
    expect(() => new Weighted([["a", -1]])).toThrow(RangeError);
  });
});

describe("seedOf and mix32", () => {
  it("uses whole numbers as they are and hashes any other text", () => {
    expect(seedOf("42")).toBe(42);
    expect(seedOf("4294967295")).toBe(4294967295);
    expect(seedOf("4294967296")).not.toBe(0);
    expect(seedOf("beijing-2026")).toBe(seedOf("beijing-2026"));
    expect(seedOf("beijing-2026")).not.toBe(seedOf("beijing-2027"));
  });

  it("mix32 is a stable unsigned 32-bit hash", () => {
    expect(mix32(1, 2, 3)).toBe(mix32(1, 2, 3));
    expect(mix32(1, 2, 3)).not.toBe(mix32(1, 2, 4));
    expect(mix32(0) >>> 0).toBe(mix32(0));
  });
});
