// The rulebook is public; admins lint and activate new versions, each activation audited and followed by a background re-evaluation.
import { z } from "zod";
import { activateRulebooks, lintRulebooks } from "../../../app/rulebooks.js";
import { UserError } from "../../../app/errors.js";
import { OPEN, KEYED, type Api, type Deps } from "../api.js";
import { requireRole } from "../auth.js";
import { errorResponses, RulebookFiles, RulebookProblem } from "../schemas.js";

const Layer = z.object({ id: z.string(), version: z.string(), sha256: z.string() });

export function rulebookRoutes(app: Api, { ctx, sweepSoon }: Deps): void {
  app.get(
    "/v1/rulebooks",
    {
      schema: {
        operationId: "getRulebook",
        summary: "The active rulebook: layers, lists, measures and which source reports what",
        tags: ["rulebooks"],
        security: OPEN,
        response: {
          200: z.object({
            rulesetHash: z.string(),
            layers: z.array(z.record(z.string(), z.unknown())),
            lists: z.array(z.record(z.string(), z.unknown())),
            measures: z.array(z.record(z.string(), z.unknown())),
            sources: z.record(z.string(), z.array(z.string())),
          }),
          ...errorResponses(409),
        },
      },
    },
    async () => {
      const ruleset = await ctx.requireRuleset();
      return {
        rulesetHash: ruleset.hash,
        layers: ruleset.layers.map((l) => ({ ...l })),
        lists: [...ruleset.lists.values()].map(({ exits: _x, maxTerm, ...l }) => ({ ...l, maxTerm: maxTerm.text })),
        measures: [...ruleset.measures.values()].map((m) => ({ ...m })),
        sources: Object.fromEntries([...ruleset.grants].map(([s, c]) => [s, [...c].sort()])),
      };
    },
  );

  app.get(
    "/v1/rulebooks/layers/:layer",
    {
      schema: {
        operationId: "getRulebookLayer",
        summary: "The text of one active layer, as activated",
        tags: ["rulebooks"],
        security: OPEN,
        params: z.strictObject({ layer: z.string().min(1).max(100) }),
        response: { 200: { description: "The layer's YAML", content: { "application/yaml": { schema: z.string() } } }, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const layer = (await ctx.store.activeLayers()).find((l) => l.id === request.params.layer);
      if (!layer) throw new UserError(`no active layer ${request.params.layer}`, [], "not-found");
      return reply.type("application/yaml; charset=utf-8").send(layer.text);
    },
  );

  app.post(
    "/v1/rulebooks/lint",
    {
      schema: {
        operationId: "lintRulebook",
        summary: "Check rulebook layers as activating them would, changing nothing",
        tags: ["rulebooks"],
        security: KEYED,
        body: RulebookFiles,
        response: { 200: z.object({ ok: z.boolean(), problems: z.array(RulebookProblem) }), ...errorResponses(403, 413, 415) },
      },
    },
    async (request) => {
      requireRole(request, "admin");
      const { problems } = await lintRulebooks(ctx, request.body.files);
      return { ok: problems.length === 0, problems };
    },
  );

  app.post(
    "/v1/rulebooks/activate",
    {
      schema: {
        operationId: "activateRulebook",
        summary: "Activate rulebook layers; each replaces the active layer of the same id",
        description: "Refused whole (422, every problem named) if the resulting rulebook has any problem. Statuses are re-evaluated in the background and on read.",
        tags: ["rulebooks"],
        security: KEYED,
        body: RulebookFiles,
        response: {
          200: z.object({ decisionId: z.string(), rulesetHash: z.string(), changed: z.boolean(), layers: z.array(Layer) }),
          ...errorResponses(403, 413, 415, 422),
        },
      },
    },
    async (request) => {
      const admin = requireRole(request, "admin");
      try {
        const { ruleset, changed, decisionId } = await activateRulebooks(ctx, `key:${admin.keyId}`, request.body.files);
        if (changed) sweepSoon();
        return { decisionId, rulesetHash: ruleset.hash, changed, layers: ruleset.layers.map((l) => ({ id: l.id, version: l.version, sha256: l.sha256 })) };
      } catch (e) {
        // The rulebook's problems, each with file, line and item, as the problem's errors.
        if (e instanceof UserError && e.problems.length === 0 && e.details.length > 0) {
          throw new UserError(e.message, e.details, "invalid", e.details.map((d) => ({ detail: d })));
        }
        throw e;
      }
    },
  );
}
