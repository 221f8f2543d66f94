// RFC 8785 canonical JSON for plain data, written out directly: the audit chain hashes every entry with it.
import canonicalize from "canonicalize";

// A high surrogate not followed by a low one, or a low one not preceded by a high one: not text, refused by RFC 8785.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// Cheap to test first: almost no string has a surrogate at all.
const ANY_SURROGATE = /[\uD800-\uDFFF]/;

// Keys repeat from entry to entry (every decision of a batch has the same few): each is quoted and checked once.
const QUOTED = new Map<string, string>();
const MAX_QUOTED = 10_000;

function quotedKey(key: string): string {
  let quoted = QUOTED.get(key);
  if (quoted === undefined) {
    quoted = canonicalJsonOf(key);
    if (QUOTED.size < MAX_QUOTED) QUOTED.set(key, quoted);
  }
  return quoted;
}

/** Whether keys are listed as RFC 8785 orders them (by UTF-16 code units, as `<` and Array.prototype.sort compare). */
function inCanonicalOrder(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if ((keys[i - 1] as string) > (keys[i] as string)) return false;
  return true;
}

/**
 * Whether JSON.stringify writes `value` as RFC 8785 does: plain objects and arrays whose every object lists its keys in
 * canonical order already, finite numbers, and nothing JSON.stringify would treat otherwise (functions, toJSON, class
 * instances). Lone surrogates are looked for in its output instead.
 */
function stringifiesCanonically(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
    case "undefined":
    case "symbol":
      return true;
    case "number":
      return Number.isFinite(value);
    case "object": {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (const item of value as unknown[]) if (!stringifiesCanonically(item)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if ((proto !== Object.prototype && proto !== null) || typeof (value as { toJSON?: unknown }).toJSON === "function") return false;
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      // Order first: an object out of order is found before anything inside it is walked.
      if (!inCanonicalOrder(keys)) return false;
      for (const key of keys) if (!stringifiesCanonically(record[key])) return false;
      return true;
    }
    default:
      return false;
  }
}

// How JSON.stringify escapes a lone surrogate, which RFC 8785 refuses (a literal backslash-u text only looks like one,
// and takes the slow way).
const ESCAPED_SURROGATE = /\\ud[89a-f]/;

/**
 * The same bytes as the `canonicalize` library for the same value (a property test holds them equal), several
 * times faster on the plain objects, arrays, strings, numbers and booleans the audit log holds; anything else (objects
 * with toJSON, class instances) goes to the library. An object or array already in canonical order (as the log's
 * entries are built) is written by JSON.stringify in one native call.
 */
export function canonicalJson(value: unknown): string {
  if (typeof value === "object" && value !== null && stringifiesCanonically(value)) {
    const text = JSON.stringify(value);
    if (!ESCAPED_SURROGATE.test(text)) return text;
  }
  return canonicalJsonOf(value);
}

/** A string as canonical JSON writes it: JSON.stringify's quoting, refused when it holds a lone surrogate (RFC 8785). */
export function canonicalString(s: string): string {
  const text = JSON.stringify(s);
  return ESCAPED_SURROGATE.test(text) ? canonicalJsonOf(s) : text;
}

/** A number as canonical JSON writes it; refused when not finite. */
export function canonicalNumber(n: number): string {
  return Number.isFinite(n) ? JSON.stringify(n) : canonicalJsonOf(n);
}

function canonicalJsonOf(value: unknown): string {
  switch (typeof value) {
    case "string":
      if (ANY_SURROGATE.test(value) && LONE_SURROGATE.test(value)) throw new Error("Lone surrogate is not allowed");
      return JSON.stringify(value);
    case "number":
      if (Number.isNaN(value)) throw new Error("NaN is not allowed");
      if (!Number.isFinite(value)) throw new Error("Infinity is not allowed");
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === "symbol" ? "null" : canonicalJson(v))).join(",")}]`;
      const proto = Object.getPrototypeOf(value) as unknown;
      if ((proto !== Object.prototype && proto !== null) || typeof (value as { toJSON?: unknown }).toJSON === "function") break;
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      // Objects built for the log mostly list their keys in order already: checking is cheaper than sorting.
      if (!inCanonicalOrder(keys)) keys.sort();
      let out = "{";
      for (const key of keys) {
        const v = record[key];
        if (v === undefined || typeof v === "symbol") continue;
        out += `${out.length === 1 ? "" : ","}${quotedKey(key)}:${canonicalJson(v)}`;
      }
      return `${out}}`;
    }
    default:
      break;
  }
  const text = canonicalize(value);
  if (text === undefined) throw new Error(`${typeof value} has no JSON form`);
  return text;
}
