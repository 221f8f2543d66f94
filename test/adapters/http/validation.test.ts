// The request validator answers exactly as zod does, whether or not it takes its quick way through.
import fc from "fast-check";
import { validatorCompiler } from "fastify-type-provider-zod";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { CheckBatch, MeasureId, SubjectId } from "../../../src/adapters/http/schemas.js";
import { acceptor, validator } from "../../../src/adapters/http/validation.js";

const route = (schema: z.ZodType, httpPart = "params") => ({ schema, method: "GET", url: "/x", httpPart });

/** Params as a router might hand them over, and everything else a caller or a bug could put there. */
const anyParams = fc.oneof(
  fc.record({ subject: fc.string({ maxLength: 40 }), measure: fc.string({ maxLength: 110 }) }),
  fc.record({ subject: fc.string({ maxLength: 40 }), measure: fc.string({ maxLength: 110 }) }, { requiredKeys: [] }),
  fc.record({ subject: fc.anything(), measure: fc.anything(), extra: fc.anything() }, { requiredKeys: ["subject", "measure"] }),
  fc.dictionary(fc.constantFrom("subject", "measure", "other", "__proto__", "constructor"), fc.oneof(fc.string(), fc.integer())),
  fc.anything(),
);

/** Batch bodies as a client might send them, mostly right, sometimes wrong in one place. */
const pair = fc.oneof(
  { weight: 8, arbitrary: fc.record({ subject: fc.string({ minLength: 1, maxLength: 32 }), measure: fc.string({ minLength: 1, maxLength: 100 }) }) },
  { weight: 1, arbitrary: fc.record({ subject: fc.string({ maxLength: 34 }), measure: fc.anything() }, { requiredKeys: ["subject"] }) },
  { weight: 1, arbitrary: fc.anything() },
);
const anyBody = fc.oneof(
  fc.record({ checks: fc.array(pair, { maxLength: 30 }) }),
  fc.record({ checks: fc.array(pair, { maxLength: 5 }), more: fc.anything() }),
  fc.record({ checks: fc.anything() }),
  fc.anything(),
);

describe("validator", () => {
  it("takes a check's params and a batch the quick way, and not a schema with any other kind of check or field", () => {
    expect(acceptor(z.strictObject({ subject: SubjectId, measure: MeasureId }))).toBeDefined();
    expect(acceptor(CheckBatch)).toBeDefined();
    expect(acceptor(z.object({ subject: SubjectId }))).toBeUndefined();
    expect(acceptor(z.strictObject({ subject: SubjectId.optional() }))).toBeUndefined();
    expect(acceptor(z.strictObject({ id: z.string().regex(/^[0-9a-f]{16}$/) }))).toBeUndefined();
    expect(acceptor(z.strictObject({ n: z.coerce.number() }))).toBeUndefined();
    expect(acceptor(z.array(z.string().trim()))).toBeUndefined();
  });

  it("accepts and refuses exactly what zod does, with zod's value and zod's error", () => {
    const schemas = [z.strictObject({ subject: SubjectId, measure: MeasureId }), z.strictObject({ list: z.string().min(1).max(100) }), z.strictObject({ id: z.string().regex(/^[0-9a-f]{16}$/) })];
    for (const schema of schemas) {
      const ours = validator(route(schema));
      const zods = validatorCompiler(route(schema));
      fc.assert(
        fc.property(anyParams, (data) => {
          expect(ours(data)).toEqual(zods(data));
        }),
        { numRuns: 2000 },
      );
    }
    const ours = validator(route(CheckBatch, "body"));
    const zods = validatorCompiler(route(CheckBatch, "body"));
    fc.assert(
      fc.property(anyBody, (data) => {
        expect(ours(data)).toEqual(zods(data));
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses a batch of 1,001 pairs or of none, and takes one of 1,000", () => {
    const ours = validator(route(CheckBatch, "body"));
    const pairs = (n: number) => ({ checks: Array.from({ length: n }, () => ({ subject: "110101199003077777", measure: "restrict-air-travel" })) });
    expect((ours(pairs(1001)) as { error?: unknown }).error).toBeDefined();
    expect((ours(pairs(0)) as { error?: unknown }).error).toBeDefined();
    expect(ours(pairs(1000))).toEqual({ value: pairs(1000) });
  });

  it("refuses a subject one character too long, an unknown field and a missing one, naming the field as zod does", () => {
    const ours = validator(route(z.strictObject({ subject: SubjectId, measure: MeasureId })));
    const refused = (data: unknown) => (ours(data) as { error?: unknown }).error;
    expect(refused({ subject: "1".repeat(33), measure: "m" })).toBeDefined();
    expect(refused({ subject: "1", measure: "m", more: "x" })).toBeDefined();
    expect(refused({ subject: "1" })).toBeDefined();
    expect(refused({ subject: "", measure: "m" })).toBeDefined();
    expect(ours({ subject: "1".repeat(32), measure: "m" })).toEqual({ value: { subject: "1".repeat(32), measure: "m" } });
  });
});
