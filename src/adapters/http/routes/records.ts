// Agencies submit records (a JSON array or NDJSON) and read back their own; the receipt says what became of each.
import { z } from "zod";
import { submitRecords, type Submission } from "../../../app/ingest.js";
import { readRecord } from "../../../app/statuses.js";
import { aRole } from "../../../core/roles.js";
import { formatInstant } from "../../../core/time.js";
import type { StoredRecord as Stored } from "../../../storage/store.js";
import { KEYED, type Api, type Deps } from "../api.js";
import { refuse, requireRole } from "../auth.js";
import { HttpProblem } from "../problems.js";
import { DecisionId, errorResponses, Receipt, RecordInput, StoredRecord } from "../schemas.js";

/** A stored record with its instants as ISO 8601 text. */
export const recordOut = (r: Stored) => ({ ...r, occurredAt: formatInstant(r.occurredAt), receivedAt: formatInstant(r.receivedAt) });

/** The records of a request body: each array item, or each non-blank NDJSON line with its line number. */
function submissionsOf(body: unknown): Submission[] {
  if (typeof body === "string") {
    const out: Submission[] = [];
    body.split(/\r?\n/).forEach((text, i) => {
      if (text.trim() === "") return;
      try {
        out.push({ line: i + 1, ndjson: true, value: JSON.parse(text) as unknown });
      } catch (e) {
        out.push({ line: i + 1, ndjson: true, error: `not valid JSON: ${(e as Error).message}` });
      }
    });
    return out;
  }
  if (!Array.isArray(body)) throw new HttpProblem(400, "invalid-request", "the body must be a JSON array of records (or NDJSON with Content-Type application/x-ndjson)");
  return body.map((value, i) => ({ line: i + 1, ndjson: false, value }));
}

export function recordRoutes(app: Api, { ctx, metrics }: Deps): void {
  app.addContentTypeParser("application/x-ndjson", { parseAs: "string" }, (_req, body, done) => done(null, body));

  app.post(
    "/v1/records",
    {
      schema: {
        operationId: "submitRecords",
        summary: "Submit records for the key's source",
        description:
          "A JSON array of records, or NDJSON (one record per line, Content-Type application/x-ndjson). Every record is validated first: if any is invalid the request is refused with 422 naming each one, and nothing is written. Valid records are written in one transaction with their audit entries; resubmissions are duplicates, and a conflicting resubmission is rejected in the receipt.",
        tags: ["records"],
        security: KEYED,
        consumes: ["application/json", "application/x-ndjson"],
        body: z.array(RecordInput).max(100_000),
        response: { 200: Receipt, ...errorResponses(403, 409, 413, 415, 422) },
      },
      // Each record is validated by the domain, which names the record and field; the schema above documents the shape.
      validatorCompiler: () => (data: unknown) => ({ value: data }),
    },
    async (request) => {
      const agency = requireRole(request, "agency");
      const submissions = submissionsOf(request.body);
      if (submissions.length === 0) throw new HttpProblem(400, "invalid-request", "the body holds no records");
      const receipt = await submitRecords(ctx, `key:${agency.keyId}`, agency.source, submissions);
      for (const [outcome, n] of [["accepted", receipt.accepted], ["duplicate", receipt.duplicates], ["corrected", receipt.corrected], ["retracted", receipt.retracted], ["rejected", receipt.rejected.length]] as const) {
        if (n > 0) metrics.records.inc({ source: agency.source, outcome }, n);
      }
      return receipt;
    },
  );

  app.get(
    "/v1/records/:id",
    {
      schema: {
        operationId: "getRecord",
        summary: "One record and its history",
        description: "Agencies read only their own source's records; a subject reads the records about them; reviewers read any.",
        tags: ["records"],
        security: KEYED,
        params: z.strictObject({ id: z.string().min(3).max(300).describe("source:externalId") }),
        response: {
          200: z.object({
            decisionId: DecisionId,
            record: StoredRecord,
            history: z.array(z.object({ revision: z.number().int(), op: z.enum(["submit", "correct", "retract"]), at: z.string(), reason: z.string().optional() })),
          }),
          ...errorResponses(403, 404),
        },
      },
    },
    async (request) => {
      const id = request.identity;
      if (id.role === "public") throw refuse(request, "records are read with an agency, subject or reviewer key");
      const visible = (r: Stored) =>
        id.role === "reviewer" || (id.role === "agency" && r.source === id.source) || (id.role === "subject" && r.subject === id.subject);
      if (id.role !== "reviewer" && id.role !== "agency" && id.role !== "subject") throw refuse(request, `${aRole(id.role)} key does not read records`);
      const found = await readRecord(ctx, `key:${id.keyId}`, request.params.id, visible);
      return {
        decisionId: found.decisionId,
        record: recordOut(found.record),
        history: found.history.map((h) => ({ revision: h.revision, op: h.op, at: formatInstant(h.at), ...(h.reason ? { reason: h.reason } : {}) })),
      };
    },
  );
}
