// RFC 8785 canonical JSON for plain data, written out directly: the audit chain hashes every entry with it.
import canonicalize from "canonicalize";

// A high surrogate not followed by a low one, or a low one not preceded by a high one: not text, refused by RFC 8785.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// Cheap to test first: almost no string has a surrogate at all.
const ANY_SURROGATE = /[\uD800-\uDFFF]/;

/**
 * The same bytes as the `canonicalize` library for the same value (a property test holds them equal), several
 * times faster on the plain objects, arrays, strings, numbers and booleans the audit log holds; anything else (objects
 * with toJSON, class instances) goes to the library.
 */
export function canonicalJson(value: unknown): string {
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
      const parts: string[] = [];
      for (const key of Object.keys(record).sort()) {
        const v = record[key];
        if (v === undefined || typeof v === "symbol") continue;
        parts.push(`${canonicalJson(key)}:${canonicalJson(v)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      break;
  }
  const text = canonicalize(value);
  if (text === undefined) throw new Error(`${typeof value} has no JSON form`);
  return text;
}
