// Auditors read the hash-chained log and its signed checkpoints; their reading is itself audited.
import { z } from "zod";
import { readAudit } from "../../../app/audit.js";
import { requireSubject } from "../../../app/statuses.js";
import { formatInstant } from "../../../core/time.js";
import { KEYED, type Api, type Deps } from "../api.js";
import { requireRole } from "../auth.js";
import { AuditEntry, Checkpoint, errorResponses, Page, SubjectId } from "../schemas.js";

export function auditRoutes(app: Api, { ctx }: Deps): void {
  app.get(
    "/v1/audit",
    {
      schema: {
        operationId: "readAudit",
        summary: "Audit log entries, oldest first, filtered by subject, actor or action",
        tags: ["audit"],
        security: KEYED,
        querystring: Page("Return entries after this sequence number").extend({
          subject: SubjectId.optional(),
          actor: z.string().max(100).optional().describe('e.g. "key:3f9a0c1d2e4b5a6f" or "cli:alice"'),
          action: z.string().max(100).optional().describe('e.g. "check", "subject.read", "record.accepted"'),
        }),
        response: { 200: z.object({ entries: z.array(AuditEntry), next: z.number().int().nullable() }), ...errorResponses(403) },
      },
    },
    async (request) => {
      const auditor = requireRole(request, "auditor");
      const { after, limit, subject, actor, action } = request.query;
      const entries = await readAudit(ctx, `key:${auditor.keyId}`, {
        limit,
        ...(after !== undefined ? { afterSeq: after } : {}),
        ...(subject !== undefined ? { subject: requireSubject(subject).id } : {}),
        ...(actor !== undefined ? { actor } : {}),
        ...(action !== undefined ? { action } : {}),
      });
      return { entries: entries.map((e) => ({ ...e, at: formatInstant(e.at) })), next: entries.length === limit ? (entries.at(-1)?.seq ?? null) : null };
    },
  );

  app.get(
    "/v1/audit/checkpoints",
    {
      schema: {
        operationId: "listCheckpoints",
        summary: "The signed checkpoints of the log's head (Ed25519), for keeping copies elsewhere",
        tags: ["audit"],
        security: KEYED,
        response: { 200: z.object({ checkpoints: z.array(Checkpoint) }), ...errorResponses(403) },
      },
    },
    async (request) => {
      requireRole(request, "auditor");
      return { checkpoints: (await ctx.store.checkpoints()).map((c) => ({ ...c, at: formatInstant(c.at) })) };
    },
  );
}
