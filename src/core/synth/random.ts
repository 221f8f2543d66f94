// Seeded randomness for synthetic populations: one xoroshiro128+ stream per purpose, and the few distributions the generator draws from.
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import type { JumpableRandomGenerator } from "pure-rand/types/JumpableRandomGenerator";

const TWO_POW_MINUS_32 = 2 ** -32;

/**
 * A seeded source of random numbers. Every draw advances one xoroshiro128+ state in place (no allocation), so a draw
 * costs a few nanoseconds; the same seed and stream always give the same sequence.
 */
export class Random {
  private readonly g: JumpableRandomGenerator;

  /** `stream` picks one of 2^64 non-overlapping subsequences of the seed's sequence (by xoroshiro's jump). */
  constructor(seed: number, stream = 0) {
    this.g = xoroshiro128plus(seed >>> 0);
    for (let i = 0; i < stream; i++) this.g.jump();
    // The first outputs of a xoroshiro state seeded from a small number are poorly mixed.
    for (let i = 0; i < 16; i++) this.g.next();
  }

  /** Uniform in [0, 1), with 32 bits of resolution: plenty for sampling a population. */
  float(): number {
    return (this.g.next() >>> 0) * TWO_POW_MINUS_32;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi], both included. */
  between(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)] as T;
  }

  /** Exponentially distributed, with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  /** Standard normal (Box-Muller, one value of the pair). */
  normal(): number {
    const u = 1 - this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  /** Log-normally distributed with the given median and shape (the standard deviation of its logarithm). */
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /**
   * Poisson-distributed count with the given mean. Most calls have a mean far below 1 (a person's expected records of
   * one kind over a few years), where inversion returns after a single draw in the common case of zero.
   */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    let p = Math.exp(-mean);
    let cumulative = p;
    const u = this.float();
    let k = 0;
    while (u > cumulative && k < 200) {
      k++;
      p *= mean / k;
      cumulative += p;
    }
    return k;
  }

  /** 32 random bits as an unsigned integer. */
  uint32(): number {
    return this.g.next() >>> 0;
  }
}

/** A fixed discrete distribution, sampled by binary search over cumulative weights. */
export class Weighted<T> {
  readonly items: readonly T[];
  private readonly cumulative: Float64Array;

  constructor(entries: readonly (readonly [T, number])[]) {
    if (entries.length === 0) throw new RangeError("Weighted needs at least one entry");
    this.items = entries.map(([item]) => item);
    this.cumulative = new Float64Array(entries.length);
    let total = 0;
    entries.forEach(([, w], i) => {
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`Weighted: weight ${w} is not a finite non-negative number`);
      total += w;
      this.cumulative[i] = total;
    });
    if (total <= 0) throw new RangeError("Weighted: the weights sum to zero");
    for (let i = 0; i < entries.length; i++) this.cumulative[i] = (this.cumulative[i] as number) / total;
    this.cumulative[entries.length - 1] = 1;
  }

  /** The index of a sampled entry. */
  index(r: Random): number {
    const u = r.float();
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (u < (this.cumulative[mid] as number)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  sample(r: Random): T {
    return this.items[this.index(r)] as T;
  }

  /** The probability of the entry at an index. */
  probability(i: number): number {
    return (this.cumulative[i] as number) - (i === 0 ? 0 : (this.cumulative[i - 1] as number));
  }
}

/**
 * A 32-bit seed from what the user typed: a whole number from 0 to 4294967295 is used as it is, any other text is
 * hashed (FNV-1a over its UTF-16 units), so `--seed beijing-2026` is as reproducible as `--seed 42`.
 */
export function seedOf(text: string): number {
  if (/^\d{1,10}$/.test(text) && Number(text) <= 0xffffffff) return Number(text);
  return hashText(text);
}

/** FNV-1a over a text's UTF-16 units: a stable 32-bit number for a name. */
export function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A well-mixed 32-bit hash of up to three integers (murmur3's finaliser over each): for per-bucket offsets that cost no draw. */
export function mix32(a: number, b = 0, c = 0): number {
  let h = 0x9e3779b9;
  h = fmix(h ^ a);
  h = fmix(h ^ b);
  h = fmix(h ^ c);
  return h >>> 0;
}

function fmix(x: number): number {
  let h = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}
