// A subject's file: status with explanation, records, and who acted on it. Read by the subject and by reviewers, every read audited.
import { z } from "zod";
import { accessLog } from "../../../app/audit.js";
import { readRecords, readStatus, requireSubject } from "../../../app/statuses.js";
import { mayReadFile, recordsVisibleTo } from "../../../core/roles.js";
import { formatInstant } from "../../../core/time.js";
import { KEYED, type Api, type Deps } from "../api.js";
import { refuse } from "../auth.js";
import { AccessEntry, DecisionId, errorResponses, Page, StoredRecord, SubjectId, SubjectStatus } from "../schemas.js";
import { recordOut } from "./records.js";

const Params = z.strictObject({ id: SubjectId });

export function subjectRoutes(app: Api, { ctx }: Deps): void {
  /** The subject's normalised ID, once the caller is known to be allowed to read the file. */
  const fileOf = (request: Parameters<typeof refuse>[0], raw: string): string => {
    if (request.identity.role === "public") throw refuse(request, "a subject's file is read by the subject (with their own key) or a reviewer");
    const subject = requireSubject(raw).id;
    if (!mayReadFile(request.identity, subject)) throw refuse(request, "a subject's file is read by the subject (with their own key) or a reviewer");
    return subject;
  };

  app.get(
    "/v1/subjects/:id",
    {
      schema: {
        operationId: "getSubject",
        summary: "A subject's status and its full explanation",
        description: "Score, grade, lists and measures now, with every effect behind them (record, rule, legal basis, until). Read by the subject and by reviewers; the read is audited.",
        tags: ["subjects"],
        security: KEYED,
        params: Params,
        response: { 200: SubjectStatus, ...errorResponses(403, 409) },
      },
    },
    async (request) => {
      const subject = fileOf(request, request.params.id);
      const { status, decisionId } = await readStatus(ctx, `key:${(request.identity as { keyId: string }).keyId}`, subject);
      return { decisionId, ...status };
    },
  );

  app.get(
    "/v1/subjects/:id/records",
    {
      schema: {
        operationId: "getSubjectRecords",
        summary: "The records about a subject",
        description: "Subjects and reviewers see every record (retracted ones marked); an agency sees only the records its own source submitted. The read is audited.",
        tags: ["subjects"],
        security: KEYED,
        params: Params,
        response: { 200: z.object({ decisionId: DecisionId, records: z.array(StoredRecord) }), ...errorResponses(403) },
      },
    },
    async (request) => {
      if (request.identity.role === "public") throw refuse(request, "records are read by the subject, a reviewer, or the agency that submitted them");
      const subject = requireSubject(request.params.id).id;
      const visible = recordsVisibleTo(request.identity, subject);
      if (visible === "none") throw refuse(request, "records are read by the subject, a reviewer, or the agency that submitted them");
      const { records, decisionId } = await readRecords(ctx, `key:${request.identity.keyId}`, subject, visible);
      return { decisionId, records: records.map(recordOut) };
    },
  );

  app.get(
    "/v1/subjects/:id/access-log",
    {
      schema: {
        operationId: "getAccessLog",
        summary: "Who read, checked or wrote a subject's file",
        description: "Every audited action on the subject, oldest first, with the acting key's role and label. Read by the subject and by reviewers.",
        tags: ["subjects"],
        security: KEYED,
        params: Params,
        querystring: Page("Return entries after this sequence number (the last `seq` of the previous page)"),
        response: { 200: z.object({ entries: z.array(AccessEntry), next: z.number().int().nullable() }), ...errorResponses(403) },
      },
    },
    async (request) => {
      const subject = fileOf(request, request.params.id);
      const { after = 0, limit } = request.query;
      const entries = await accessLog(ctx, `key:${(request.identity as { keyId: string }).keyId}`, subject, after, limit);
      return { entries: entries.map((e) => ({ ...e, at: formatInstant(e.at) })), next: entries.length === limit ? (entries.at(-1)?.seq ?? null) : null };
    },
  );
}
