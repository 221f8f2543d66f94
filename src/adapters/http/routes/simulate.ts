// What-if runs of draft rulebooks over HTTP: admin only, nothing changed but one audit entry, the report as JSON.
import { z } from "zod";
import { AGE_BANDS, simulate } from "../../../app/simulate.js";
import { parseInstant } from "../../../core/time.js";
import { KEYED, type Api, type Deps } from "../api.js";
import { requireRole } from "../auth.js";
import { DecisionId, errorResponses } from "../schemas.js";

const RulebookFile = z.strictObject({ file: z.string().min(1).max(200), text: z.string().max(1_000_000) });

export const SimulationRequest = z
  .strictObject({
    files: z.array(RulebookFile).min(1).max(50).describe("The draft: each layer replaces the layer of the same id"),
    against: z
      .array(RulebookFile)
      .min(1)
      .max(50)
      .optional()
      .describe("Compare with these layers in place of the active ones of the same id, instead of the active rulebook alone; the draft then replaces layers of this set"),
    at: z
      .string()
      .refine((s) => typeof parseInstant(s) === "number", { message: "must be an ISO 8601 date (YYYY-MM-DD, China Standard Time) or date-time with an offset" })
      .optional()
      .describe("The instant both rulebooks are evaluated at; now by default"),
  })
  .meta({ id: "SimulationRequest" });

const Layer = z.object({ id: z.string(), version: z.string(), sha256: z.string() });
const Membership = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.string(),
  before: z.number().int().describe("Subjects holding it under the rulebook in force"),
  after: z.number().int().describe("Subjects holding it under the draft"),
  entered: z.number().int(),
  left: z.number().int(),
});
const Row = { evaluated: z.number().int(), changed: z.number().int(), scoreUp: z.number().int(), scoreDown: z.number().int() };
const Base = z.object({ score: z.number(), grade: z.string().nullable(), measures: z.array(z.string()) });

export const WhatIfReport = z
  .object({
    decisionId: DecisionId,
    at: z.string().describe("The instant both rulebooks were evaluated at"),
    draft: z.array(Layer).describe("The draft's layers"),
    against: z.array(Layer).nullable().describe("The layers compared against; null for the active rulebook alone"),
    before: z.object({ rulesetHash: z.string(), layers: z.array(Layer) }),
    after: z.object({ rulesetHash: z.string(), layers: z.array(Layer) }),
    subjects: z.object({
      evaluated: z.number().int().describe("Every subject the store holds records about"),
      changed: z.number().int().describe("Score, grade, lists or measures differ"),
      unchanged: z.number().int(),
      periodsOnly: z.number().int().describe("Unchanged, but a list's or measure's since or until differs"),
      allRetracted: z.number().int().describe("Every record retracted: as if never reported, not evaluated"),
    }),
    score: z.object({ meanBefore: z.number().nullable(), meanAfter: z.number().nullable(), up: z.number().int(), down: z.number().int() }),
    grades: z
      .object({ labels: z.array(z.string()), matrix: z.array(z.array(z.number().int())) })
      .describe('Transition matrix: matrix[i][j] subjects had grade labels[i] before and labels[j] after; "none" for no grade'),
    lists: z.array(Membership),
    measures: z.array(Membership),
    breakdown: z.object({
      region: z.array(z.object({ code: z.string(), name: z.string().nullable(), ...Row })),
      ageBand: z.array(z.object({ band: z.enum(AGE_BANDS), ...Row })),
      kind: z.array(z.object({ kind: z.enum(["person", "enterprise"]), ...Row })),
    }),
    top: z
      .array(
        z.object({
          subject: z.string().describe("Person IDs masked (1101**********123X); enterprise codes whole"),
          kind: z.enum(["person", "enterprise"]),
          region: z.string(),
          regionName: z.string().nullable(),
          ageBand: z.enum(AGE_BANDS),
          score: z.object({ before: z.number(), after: z.number(), change: z.number() }),
          grade: z.object({ before: z.string().nullable(), after: z.string().nullable() }),
          lists: z.object({ entered: z.array(z.string()), left: z.array(z.string()) }),
          measures: z.object({ entered: z.array(z.string()), left: z.array(z.string()) }),
        }),
      )
      .describe("The subjects who change most: by absolute score change, then by lists and measures entered or left"),
    unreported: z
      .object({
        note: z.string(),
        changes: z.number().int(),
        bases: z.array(
          z.object({
            regions: z.string(),
            regionName: z.string().nullable(),
            kind: z.enum(["adult", "enterprise"]),
            jurisdiction: z.object({ before: z.string(), after: z.string() }),
            before: Base,
            after: Base,
            changed: z.boolean(),
          }),
        ),
      })
      .describe("Subjects nobody reported on are not stored: the status they hold in each part of the country, before and after"),
    elapsedMs: z.number().int(),
  })
  .meta({ id: "WhatIfReport" });

export function simulateRoutes(app: Api, { ctx }: Deps): void {
  app.post(
    "/v1/rulebooks/simulate",
    {
      schema: {
        operationId: "simulateRulebook",
        summary: "What a draft rulebook would do to every subject, changing nothing",
        description:
          "Evaluates every subject with records under the rulebook in force (or `against` merged into it) and under the draft merged the same way, at one instant, and reports the grade transitions, list and measure sizes, changes by region, age band and kind, and the subjects who change most with their IDs masked. Nothing is written but one audit entry (rulebook.simulated). A draft with any problem is refused (422, every problem with file, line and item). See docs/what-if.md.",
        tags: ["rulebooks"],
        security: KEYED,
        body: SimulationRequest,
        response: { 200: WhatIfReport, ...errorResponses(403, 409, 413, 415, 422) },
      },
    },
    async (request) => {
      const admin = requireRole(request, "admin");
      const { files, against, at } = request.body;
      const { report } = await simulate(ctx, `key:${admin.keyId}`, files, { ...(against ? { against } : {}), ...(at !== undefined ? { at: parseInstant(at) as number } : {}) });
      return report;
    },
  );
}
