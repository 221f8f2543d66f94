// The request validator answers exactly as zod does, whether or not it takes its quick way through.
import fc from "fast-check";
import { validatorCompiler } from "fastify-type-provider-zod";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { MeasureId, SubjectId } from "../../../src/adapters/http/schemas.js";
import { boundedStrings, validator } from "../../../src/adapters/http/validation.js";

const route = (schema: z.ZodType) => ({ schema, method: "GET", url: "/x", httpPart: "params" });

/** Params as a router might hand them over, and everything else a caller or a bug could put there. */
const anyParams = fc.oneof(
  fc.record({ subject: fc.string({ maxLength: 40 }), measure: fc.string({ maxLength: 110 }) }),
  fc.record({ subject: fc.string({ maxLength: 40 }), measure: fc.string({ maxLength: 110 }) }, { requiredKeys: [] }),
  fc.record({ subject: fc.anything(), measure: fc.anything(), extra: fc.anything() }, { requiredKeys: ["subject", "measure"] }),
  fc.dictionary(fc.constantFrom("subject", "measure", "other", "__proto__", "constructor"), fc.oneof(fc.string(), fc.integer())),
  fc.anything(),
);

describe("validator", () => {
  it("takes the check route's params the quick way, and not a schema with any other kind of check", () => {
    expect(boundedStrings(z.strictObject({ subject: SubjectId, measure: MeasureId }))).toEqual([
      ["subject", 1, 32],
      ["measure", 1, 100],
    ]);
    expect(boundedStrings(z.object({ subject: SubjectId }))).toBeUndefined();
    expect(boundedStrings(z.strictObject({ id: z.string().regex(/^[0-9a-f]{16}$/) }))).toBeUndefined();
    expect(boundedStrings(z.strictObject({ n: z.coerce.number() }))).toBeUndefined();
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
