// Enforcers ask whether a measure applies to a person in front of them: one at a time, or a whole passenger list at once.
import { z } from "zod";
import { checkMany, type Audited } from "../../../app/statuses.js";
import type { CheckDecision as Decision } from "../../../core/check.js";
import { actorOf, mayCheck } from "../../../core/roles.js";
import { KEYED, type Api, type Deps } from "../api.js";
import { forbidden, requireRole } from "../auth.js";
import { CheckBatch, CheckDecision, errorResponses, MeasureId, SubjectId } from "../schemas.js";

/** The enforcer's view of a decision: the outcome and reason codes with their period and law, never the score or the records. */
const enforcerView = (d: Audited<Decision>) => ({
  decisionId: d.decisionId,
  subject: d.subject,
  measure: d.measure,
  applies: d.applies,
  at: d.at,
  reasons: d.reasons.map((r) => ({ code: r.code, since: r.since, until: r.until, disputed: r.disputed.length > 0, legalBasis: r.legalBasis })),
});

export function checkRoutes(app: Api, { ctx, metrics }: Deps): void {
  app.get(
    "/v1/checks/:subject/:measure",
    {
      schema: {
        operationId: "check",
        summary: "Does a measure apply to a subject now?",
        description: "For enforcer keys scoped to the measure. The answer carries reason codes (list or grade), their period and legal basis, and a decision id; it is audited.",
        tags: ["checks"],
        security: KEYED,
        params: z.strictObject({ subject: SubjectId, measure: MeasureId }),
        response: { 200: CheckDecision, ...errorResponses(403, 409) },
      },
    },
    async (request) => {
      const enforcer = requireRole(request, "enforcer");
      const { subject, measure } = request.params;
      if (!mayCheck(enforcer, measure)) throw forbidden(`this key may check only ${enforcer.measures.join(", ")}`, [{ pointer: "/measure", detail: `${measure} is not in this key's scope` }]);
      const [d] = await checkMany(ctx, actorOf(enforcer), [{ subject, measure }], () => "");
      const decision = d as Audited<Decision>;
      metrics.checked([decision]);
      return enforcerView(decision);
    },
  );

  app.post(
    "/v1/checks",
    {
      schema: {
        operationId: "checkBatch",
        summary: "Check up to 1,000 subject/measure pairs at one instant",
        description: "All pairs are validated first; one invalid pair or measure outside the key's scope refuses the batch, naming it. Each decision is audited with its own decision id.",
        tags: ["checks"],
        security: KEYED,
        body: CheckBatch,
        response: { 200: z.object({ decisions: z.array(CheckDecision) }), ...errorResponses(403, 409, 413, 415, 422) },
      },
    },
    async (request) => {
      const enforcer = requireRole(request, "enforcer");
      const { checks } = request.body;
      const outside = checks.flatMap((c, i) => (mayCheck(enforcer, c.measure) ? [] : [{ pointer: `/checks/${i}/measure`, detail: `${c.measure} is not in this key's scope` }]));
      if (outside.length > 0) throw forbidden(`this key may check only ${enforcer.measures.join(", ")}`, outside);
      const decisions = await checkMany(ctx, actorOf(enforcer), checks, (i) => `/checks/${i}`);
      metrics.checked(decisions);
      return { decisions: decisions.map(enforcerView) };
    },
  );
}
