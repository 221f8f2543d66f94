// Liveness, readiness, metrics, and who the caller is.
import { z } from "zod";
import { OPEN, type Api, type Deps } from "../api.js";
import { HttpProblem } from "../problems.js";
import { errorResponses, problemResponse } from "../schemas.js";

// Every route is rate limited, these too.
const RATE_LIMITED = { 429: problemResponse("Too many requests from this address; retry after the time in Retry-After") };

export function healthRoutes(app: Api, { ctx, metrics }: Deps): void {
  app.get(
    "/healthz",
    { schema: { operationId: "health", summary: "The process is up", tags: ["operations"], security: OPEN, response: { 200: z.object({ status: z.literal("ok") }), ...RATE_LIMITED } } },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/readyz",
    {
      schema: {
        operationId: "ready",
        summary: "The database answers and a rulebook is active",
        tags: ["operations"],
        security: OPEN,
        response: { 200: z.object({ status: z.literal("ready"), rulesetHash: z.string(), auditEntries: z.number().int() }), 503: problemResponse("No rulebook is active, or the database does not answer"), ...RATE_LIMITED },
      },
    },
    async () => {
      const ruleset = await ctx.activeRuleset();
      if (!ruleset) throw new HttpProblem(503, "not-ready", "no rulebook is active: activate one with `social-credit rulebook activate` or POST /v1/rulebooks/activate");
      return { status: "ready" as const, rulesetHash: ruleset.hash, auditEntries: (await ctx.store.auditHead())?.seq ?? 0 };
    },
  );

  app.get(
    "/metrics",
    {
      schema: {
        operationId: "metrics",
        summary: "Prometheus metrics: requests, check decisions, records received, list sizes",
        tags: ["operations"],
        security: OPEN,
        response: { 200: { description: "Prometheus text format", content: { "text/plain": { schema: z.string() } } }, ...RATE_LIMITED },
      },
    },
    async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  app.get(
    "/v1/me",
    {
      schema: {
        operationId: "whoAmI",
        summary: "The caller's role and scope",
        tags: ["operations"],
        security: OPEN,
        response: {
          200: z.object({ role: z.string(), keyId: z.string().optional(), source: z.string().optional(), measures: z.array(z.string()).optional(), subject: z.string().optional() }),
          ...errorResponses(),
        },
      },
    },
    async (request) => {
      const { measures, ...rest } = request.identity as { measures?: readonly string[]; role: string };
      return { ...rest, ...(measures ? { measures: [...measures] } : {}) };
    },
  );
}
