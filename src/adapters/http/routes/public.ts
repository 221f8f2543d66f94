// Open data: the public lists (names kept, person IDs masked), searchable and paged, and the statistics of due process.
import { z } from "zod";
import { publicLists, readPublicList, statistics } from "../../../app/publication.js";
import { OPEN, type Api, type Deps } from "../api.js";
import { errorResponses } from "../schemas.js";
import { PublicListPage, PublicStatistics } from "../due-process-schemas.js";

export function publicRoutes(app: Api, { ctx }: Deps): void {
  app.get(
    "/v1/public/lists",
    {
      schema: {
        operationId: "listPublicLists",
        summary: "The lists anyone may read",
        tags: ["public"],
        security: OPEN,
        response: { 200: z.object({ lists: z.array(z.object({ list: z.string(), name: z.string(), kind: z.string(), tier: z.string().nullable() })) }), ...errorResponses(409) },
      },
    },
    async () => {
      const ruleset = await ctx.requireRuleset();
      return { lists: publicLists(ruleset.lists.values()).map((l) => ({ list: l.id, name: l.name, kind: l.kind, tier: l.tier })) };
    },
  );

  app.get(
    "/v1/public/lists/:list",
    {
      schema: {
        operationId: "getPublicList",
        summary: "One public list, paged and searchable",
        description: "Entries within their publication period. `q` is part of a name, or an ID: masked (1101**********0034) or whole; person IDs are always shown masked.",
        tags: ["public"],
        security: OPEN,
        params: z.strictObject({ list: z.string().min(1).max(100) }),
        querystring: z.strictObject({
          q: z.string().max(100).optional(),
          offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
        response: { 200: PublicListPage, ...errorResponses(404, 409) },
      },
    },
    async (request) => {
      const { q, offset, limit } = request.query;
      return readPublicList(ctx, request.params.list, { ...(q !== undefined ? { q } : {}), offset, limit });
    },
  );

  app.get(
    "/v1/public/statistics",
    {
      schema: {
        operationId: "getPublicStatistics",
        summary: "Entries, exits and members of each public list; objections upheld, dismissed, overdue, and the median time to decision",
        tags: ["public"],
        security: OPEN,
        response: { 200: PublicStatistics, ...errorResponses(409) },
      },
    },
    async () => statistics(ctx),
  );
}
