// Request and response shapes of due process and publication: sign-offs, objections, restorations, notices, the subject's file, public lists.
import { z } from "zod";
import { NOTICE_KINDS } from "../../core/notices.js";
import { TIERS } from "../../core/tiers.js";
import { AccessEntry, DecisionId, StoredRecord, SubjectStatus } from "./schemas.js";

const When = z.string().describe("ISO 8601 instant");
const Tier = z.enum(TIERS).nullable();

export const SignOff = z
  .object({
    entry: z.string().describe("The sign-off id"),
    subject: z.string(),
    list: z.string(),
    tier: Tier,
    record: z.string(),
    rule: z.string(),
    requestedAt: When,
    state: z.enum(["pending", "approved", "rejected", "lapsed"]),
    decidedAt: When.nullable(),
    decidedBy: z.string().nullable(),
    reasons: z.string().nullable(),
  })
  .meta({ id: "SignOff" });

export const Objection = z
  .object({
    id: z.uuid(),
    subject: z.string(),
    record: z.string(),
    statement: z.string(),
    evidenceRef: z.string().nullable(),
    filedAt: When,
    dueAt: When.describe("When a reviewer must have decided"),
    overdue: z.boolean().describe("Open and past its deadline"),
    state: z.enum(["open", "upheld", "dismissed"]),
    decidedAt: When.nullable(),
    decidedBy: z.string().nullable(),
    reasons: z.string().nullable(),
    outcome: z.enum(["retracted", "corrected"]).nullable(),
  })
  .meta({ id: "Objection" });

export const Restoration = z
  .object({
    id: z.uuid(),
    subject: z.string(),
    list: z.string(),
    commitment: z.string().nullable(),
    statement: z.string().nullable(),
    requestedAt: When,
    state: z.enum(["pending", "granted", "denied"]),
    decidedAt: When.nullable(),
    decidedBy: z.string().nullable(),
    reasons: z.string().nullable(),
    legalBasis: z.string(),
  })
  .meta({ id: "Restoration" });

export const Notice = z
  .object({
    seq: z.number().int().describe("The notice's number: receivers deduplicate redeliveries by it"),
    subject: z.string(),
    recipient: z.union([z.object({ subject: z.string() }), z.object({ source: z.string() })]),
    kind: z.enum(NOTICE_KINDS),
    at: When,
    summary: z.string(),
    reason: z.string(),
    records: z.array(z.string()),
    legalBasis: z.array(z.string()),
    deadline: When.nullable().describe("The last day to object, or the day a reviewer must decide by"),
    howToObject: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()),
  })
  .meta({ id: "Notice" });

export const SubjectFile = z
  .object({
    decisionId: DecisionId,
    subject: z.string(),
    generatedAt: When,
    status: SubjectStatus.omit({ decisionId: true }),
    records: z.array(StoredRecord.extend({ history: z.array(z.object({ revision: z.number().int(), op: z.string(), at: When, content: z.unknown(), reason: z.string().optional() })) })),
    notices: z.array(Notice),
    objections: z.array(Objection),
    restorations: z.array(Restoration),
    signOffs: z.array(SignOff),
    accessLog: z.array(AccessEntry),
  })
  .meta({ id: "SubjectFile" });

export const ReviewPage = z.strictObject({
  subject: z.string().optional().describe("Only this subject's"),
  after: z.string().optional().describe("Continue after this id (the last id of the previous page)"),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const Reasons = z.string().max(10_000).optional().describe("Why: required to reject, dismiss or deny; shown to the subject");

const PublishedList = {
  list: z.string(),
  name: z.string(),
  kind: z.string(),
  tier: Tier,
  legalBasis: z.string(),
  publication: z.string().describe("How long an entry stays published (ISO 8601 duration)"),
};

export const PublicListPage = z
  .object({
    ...PublishedList,
    at: When,
    offset: z.number().int(),
    limit: z.number().int(),
    entries: z.array(z.object({ name: z.string().nullable(), id: z.string().describe("Person IDs masked like 1101**********0034; enterprise codes whole"), since: When, until: When.describe("When the entry ends at the latest"), publishedUntil: When.describe("When it leaves the published list") })),
  })
  .meta({ id: "PublicListPage" });

export const PublicStatistics = z
  .object({
    at: When,
    lists: z.array(z.object({ ...PublishedList, members: z.number().int(), entries: z.number().int(), exits: z.number().int() })),
    objections: z.object({ open: z.number().int(), overdue: z.number().int(), upheld: z.number().int(), dismissed: z.number().int(), medianDaysToDecision: z.number().nullable() }),
  })
  .meta({ id: "PublicStatistics" });
