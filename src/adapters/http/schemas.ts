// The API's request and response shapes: validated on the way in, and the source of the OpenAPI document.
import { z } from "zod";
import { ROLES } from "../../core/roles.js";
import { TIERS } from "../../core/tiers.js";

/** RFC 9457 problem details, with the input problems named one by one. */
export const Problem = z
  .object({
    type: z.string().describe("A URI naming the kind of problem"),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().describe("What went wrong and what to change"),
    instance: z.string().optional().describe("The request path"),
    errors: z
      .array(
        z.object({
          pointer: z.string().optional().describe("JSON pointer into the request body or parameters"),
          line: z.number().int().optional().describe("Line of an NDJSON body"),
          detail: z.string(),
        }),
      )
      .optional(),
    possibleFrom: z.string().optional().describe("For a request refused as too early: the instant from which it may be made"),
  })
  .meta({ id: "Problem" });

/** A documented problem+json response. */
export const problemResponse = (description: string) => ({ description, content: { "application/problem+json": { schema: Problem } } });

/** The error responses a route can give, by status code, for its OpenAPI entry. */
export function errorResponses(...codes: (400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429)[]) {
  const text: Record<number, string> = {
    400: "Malformed request: bad JSON, wrong type or unknown field",
    401: "No valid API key was presented",
    403: "The key's role or scope does not allow this",
    404: "No such resource",
    409: "The request conflicts with the system's state",
    413: "The body is larger than the server accepts",
    415: "Unsupported content type",
    422: "Well-formed, but the content is invalid; every problem is named",
    429: "Too many requests for this key; retry after the time in Retry-After",
  };
  return Object.fromEntries([...new Set([400, 401, 429, ...codes])].map((c) => [c, problemResponse(text[c] as string)]));
}

export const SubjectId = z.string().min(1).max(32).describe("Resident ID (GB 11643) or unified social credit code (GB 32100)");
export const MeasureId = z.string().min(1).max(100).describe("Measure id, e.g. restrict-air-travel");

export const DecisionId = z.uuid().describe("The id of the audit entry that recorded this decision; quote it in objections");

export const Receipt = z
  .object({
    decisionId: DecisionId,
    accepted: z.number().int(),
    duplicates: z.number().int(),
    corrected: z.number().int(),
    retracted: z.number().int(),
    rejected: z.array(z.object({ line: z.number().int().describe("1-based position of the record in the request"), reason: z.string() })),
  })
  .meta({ id: "Receipt" });

export const RecordInput = z
  .object({
    op: z.enum(["submit", "correct", "retract"]).optional(),
    source: z.string().optional().describe("Defaults to the key's source; any other source is refused"),
    externalId: z.string(),
    subject: SubjectId.optional(),
    category: z.string().optional(),
    occurredAt: z.string().optional().describe("ISO 8601 instant or date (China Standard Time)"),
    attributes: z.record(z.string(), z.unknown()).optional(),
    legalRef: z.string().optional(),
    evidenceRef: z.string().optional(),
    reason: z.string().optional().describe("Required for retractions"),
  })
  .strict()
  .meta({ id: "RecordSubmission" });

export const StoredRecord = z
  .object({
    id: z.string(),
    source: z.string(),
    externalId: z.string(),
    subject: z.string(),
    category: z.string(),
    occurredAt: z.string(),
    attributes: z.record(z.string(), z.unknown()),
    legalRef: z.string(),
    evidenceRef: z.string().optional(),
    revision: z.number().int(),
    state: z.enum(["active", "retracted"]),
    receivedAt: z.string(),
  })
  .meta({ id: "StoredRecord" });

const Reason = z.object({
  code: z.string().describe('A stable code: "list:<list>" or "grade:<grade>"'),
  since: z.string().nullable(),
  until: z.string().nullable(),
  disputed: z.boolean().describe("The subject has objected to a record behind this reason and a reviewer has not yet decided"),
  legalBasis: z.array(z.string()),
});

/** What an enforcer sees: the decision and its reason codes, never the score or the records. */
export const CheckDecision = z
  .object({
    decisionId: DecisionId,
    subject: z.string(),
    measure: z.string(),
    applies: z.boolean(),
    at: z.string(),
    reasons: z.array(Reason),
  })
  .meta({ id: "CheckDecision" });

export const CheckBatch = z.strictObject({
  checks: z.array(z.strictObject({ subject: SubjectId, measure: MeasureId })).min(1).max(1000).describe("Up to 1,000 subject/measure pairs, e.g. a flight's passenger list"),
});

const TierField = z.enum(TIERS).nullable();
const Membership = z.object({
  list: z.string(),
  name: z.string(),
  kind: z.string(),
  tier: TierField,
  since: z.string(),
  until: z.string(),
  records: z.array(z.string()),
  disputed: z.array(z.string()).optional(),
  legalBasis: z.array(z.string()),
});
const Application = z.object({
  measure: z.string(),
  name: z.string(),
  kind: z.enum(["sanction", "reward"]),
  tier: TierField,
  trigger: z.union([z.object({ list: z.string() }), z.object({ grade: z.string() })]),
  since: z.string().nullable(),
  until: z.string().nullable(),
  records: z.array(z.string()),
  disputed: z.array(z.string()).optional(),
  legalBasis: z.array(z.string()),
});

export const AwaitingSignOff = z
  .object({
    entry: z.string().describe("The sign-off id a reviewer decides"),
    list: z.string(),
    tier: TierField,
    record: z.string(),
    rule: z.string(),
    from: z.string(),
    until: z.string(),
    legalBasis: z.array(z.string()),
  })
  .meta({ id: "AwaitingSignOff" });

export const SubjectStatus = z
  .object({
    decisionId: DecisionId,
    subject: z.string(),
    kind: z.enum(["person", "enterprise"]),
    region: z.string(),
    jurisdiction: z.string(),
    at: z.string(),
    rulesetHash: z.string(),
    minor: z.boolean(),
    score: z.number(),
    grade: z.string().nullable(),
    lists: z.array(Membership),
    measures: z.array(Application),
    awaitingSignOff: z.array(AwaitingSignOff).describe("List entries that apply only once a reviewer approves them"),
    nextChangeAt: z.string().nullable(),
    effects: z
      .array(
        z.object({
          record: z.string(),
          category: z.string(),
          occurredAt: z.string(),
          rule: z.string(),
          kind: z.enum(["points", "list"]),
          points: z.number().optional(),
          list: z.string().optional(),
          from: z.string(),
          until: z.string(),
          state: z.enum(["in-force", "ended", "pending", "awaiting-sign-off", "rejected"]),
          endedBy: z.union([z.object({ record: z.string(), legalBasis: z.string() }), z.object({ restoration: z.string(), legalBasis: z.string() })]).optional(),
          disputed: z.literal(true).optional().describe("The subject objected to this record; a reviewer has not yet decided"),
          legalBasis: z.array(z.string()),
        }),
      )
      .describe("Every effect behind the status: record, rule, points or list, legal basis, until"),
    excluded: z.array(z.object({ record: z.string(), reason: z.string() })),
  })
  .meta({ id: "SubjectStatus" });

export const AccessEntry = z
  .object({
    seq: z.number().int(),
    at: z.string(),
    action: z.string(),
    decisionId: z.string(),
    actor: z.object({ id: z.string(), role: z.string(), label: z.string().nullable(), source: z.string().nullable() }),
    detail: z.record(z.string(), z.unknown()),
  })
  .meta({ id: "AccessEntry" });

export const AuditEntry = z
  .object({
    seq: z.number().int(),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    subject: z.string().nullable(),
    decisionId: z.string(),
    detail: z.record(z.string(), z.unknown()),
    prev: z.string(),
    hash: z.string(),
  })
  .meta({ id: "AuditEntry" });

export const Checkpoint = z.object({ seq: z.number().int(), hash: z.string(), at: z.string(), signature: z.string() }).meta({ id: "Checkpoint" });

export const Page = (after: string) =>
  z.strictObject({
    after: z.coerce.number().int().min(0).optional().describe(after),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  });

export const KeySpec = z
  .strictObject({
    role: z.enum(ROLES),
    source: z.string().optional().describe("agency keys: the one source they report for"),
    measures: z.array(MeasureId).optional().describe("enforcer keys: the measures they may check"),
    subject: SubjectId.optional().describe("subject keys: the citizen's own ID"),
    label: z.string().max(200).optional().describe("Who holds the key, shown to subjects in their access log"),
  })
  .meta({ id: "KeySpec" });

export const KeyInfo = z
  .object({
    id: z.string(),
    role: z.enum(ROLES),
    source: z.string().nullable(),
    measures: z.array(z.string()).nullable(),
    subject: z.string().nullable(),
    label: z.string().nullable(),
    createdAt: z.string(),
    createdBy: z.string(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: "KeyInfo" });

export const RulebookFiles = z
  .strictObject({
    files: z.array(z.strictObject({ file: z.string().min(1).max(200), text: z.string().max(1_000_000) })).min(1).max(50),
  })
  .meta({ id: "RulebookFiles" });

export const RulebookProblem = z.object({ file: z.string(), line: z.number().int().optional(), column: z.number().int().optional(), item: z.string().optional(), message: z.string() });
