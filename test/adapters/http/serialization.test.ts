// The answer serializer writes what zod's schema describes, exactly as JSON.stringify would write zod's output of it.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { CheckDecision, KeyInfo, Problem } from "../../../src/adapters/http/schemas.js";
import { plainJsonSchema, serializer } from "../../../src/adapters/http/serialization.js";

const compile = (schema: z.ZodType, httpStatus = "200", contentType?: string) =>
  serializer({ schema, method: "GET", url: "/x", httpStatus, ...(contentType === undefined ? {} : { contentType }) });

const Batch = z.object({ decisions: z.array(CheckDecision) });

/** Any string, lone surrogates, quotes, backslashes and control characters included. */
const text = fc.string({ unit: "binary", maxLength: 60 });
/** Members no schema names, which zod's parse strips. */
const extra = fc.dictionary(fc.constantFrom("score", "records", "secret", "__proto__"), fc.jsonValue(), { maxKeys: 2 });
const withExtra = <T extends object>(value: fc.Arbitrary<T>) => fc.tuple(value, extra).map(([v, e]) => Object.assign(Object.create(null), e, v) as T);

const reason = withExtra(
  fc.record({ code: text, since: fc.option(text, { nil: null }), until: fc.option(text, { nil: null }), disputed: fc.boolean(), legalBasis: fc.array(text, { maxLength: 4 }) }),
);
const decision = withExtra(fc.record({ decisionId: fc.uuid(), subject: text, measure: text, applies: fc.boolean(), at: text, reasons: fc.array(reason, { maxLength: 3 }) }));

describe("serializer", () => {
  it("compiles a writer for plain schemas only", () => {
    expect(plainJsonSchema(CheckDecision)).toBeDefined();
    expect(plainJsonSchema(Batch)).toBeDefined();
    expect(plainJsonSchema(z.object({ n: z.number().int().nullable(), s: z.literal("ready"), e: z.enum(["a", "b"]), o: z.string().optional() }))).toBeDefined();
    // A nullable array, a record, a union, a loose object, a transform: JSON.stringify writes these.
    expect(plainJsonSchema(KeyInfo)).toBeUndefined();
    expect(plainJsonSchema(z.object({ detail: z.record(z.string(), z.unknown()) }))).toBeUndefined();
    expect(plainJsonSchema(z.union([z.string(), z.number()]))).toBeUndefined();
    expect(plainJsonSchema(z.looseObject({ a: z.string() }))).toBeUndefined();
    expect(plainJsonSchema(z.string().transform((s) => s.length))).toBeUndefined();
  });

  it("writes a check's decision and a batch's as JSON.stringify writes zod's output of them", () => {
    const single = compile(CheckDecision);
    const batch = compile(Batch);
    fc.assert(
      fc.property(decision, fc.array(decision, { maxLength: 5 }), (d, ds) => {
        expect(JSON.parse(single(d))).toEqual(JSON.parse(JSON.stringify(CheckDecision.parse(d))));
        expect(JSON.parse(batch({ decisions: ds }))).toEqual(JSON.parse(JSON.stringify(Batch.parse({ decisions: ds }))));
      }),
      { numRuns: 300 },
    );
  });

  it("writes numbers, nullable and optional members, enums, literals and nested objects as JSON.stringify writes zod's output", () => {
    const Shape = z.object({
      n: z.number(),
      i: z.number().int().nullable(),
      s: z.literal("ready"),
      e: z.enum(["a", "b"]),
      o: z.string().optional(),
      rows: z.array(z.object({ x: z.number(), flag: z.boolean().nullable(), tag: z.string().optional() })),
    });
    expect(plainJsonSchema(Shape)).toBeDefined();
    const write = compile(Shape);
    const row = withExtra(fc.record({ x: fc.double({ noNaN: true, noDefaultInfinity: true }), flag: fc.option(fc.boolean(), { nil: null }), tag: fc.option(text, { nil: undefined }) }));
    const value = withExtra(
      fc.record({
        n: fc.double({ noNaN: true, noDefaultInfinity: true }),
        i: fc.option(fc.integer(), { nil: null }),
        s: fc.constant("ready" as const),
        e: fc.constantFrom("a" as const, "b" as const),
        o: fc.option(text, { nil: undefined }),
        rows: fc.array(row, { maxLength: 4 }),
      }),
    );
    fc.assert(
      fc.property(value, (v) => {
        expect(JSON.parse(write(v))).toEqual(JSON.parse(JSON.stringify(Shape.parse(v))));
      }),
      { numRuns: 300 },
    );
  });

  it("writes the members in the schema's order, byte for byte what JSON.stringify writes of an object built in it", () => {
    const single = compile(CheckDecision);
    const d = { decisionId: "0b6c3a53-8c55-4f6c-9d3e-2a1f4f1b2c3d", subject: "110101199003070014", measure: "restrict-air-travel", applies: true, at: "2026-11-24T16:33:33.808Z", reasons: [{ code: "list:dishonest-judgment-debtors", since: "2025-12-28T16:00:00.000Z", until: null, disputed: false, legalBasis: ['SPC "Fa Shi" [2017] No. 7\\Art. 1', "最高人民法院"] }] };
    expect(single(d)).toBe(JSON.stringify(d));
  });

  it("leaves problems and answers of other content types to JSON.stringify, unknown members and all", () => {
    const problem = { type: "urn:x", title: "Conflict", status: 409, detail: "too early", possibleFrom: "2027-01-01", retryInS: 5 };
    expect(compile(Problem, "409", "application/problem+json")(problem)).toBe(JSON.stringify(problem));
    expect(compile(z.object({ a: z.string() }), "200", "application/yaml")({ a: "x", b: 1 })).toBe(JSON.stringify({ a: "x", b: 1 }));
  });
});
