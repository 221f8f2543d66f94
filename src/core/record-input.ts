// Turns one submitted line (from a file, a request or a stream) into a record operation, or a message naming the field at fault.
import { z } from "zod";
import { recordId, type RecordFact } from "./record.js";
import type { ReportingRules } from "./rulebook/ruleset.js";
import { parseSubjectId } from "./subject-id.js";
import { anniversary, formatInstant, parseInstant, type Instant } from "./time.js";

/** A new record, a correction of one, or its retraction. */
export type RecordOp =
  | {
      op: "submit" | "correct";
      record: RecordFact;
      /** The hash of the record's content (see storage/record-content), when the thread that read it worked it out already. */
      contentHash?: string;
    }
  | { op: "retract"; id: string; source: string; externalId: string; reason: string };

// Agencies' clocks drift; a record stamped a few minutes ahead is still a past fact.
const CLOCK_SKEW_MS = 5 * 60_000;

const input = z.strictObject({
  op: z.enum(["submit", "correct", "retract"]).default("submit"),
  source: z.string().min(1).optional(),
  externalId: z.string().min(1).max(200),
  subject: z.string().optional(),
  category: z.string().optional(),
  occurredAt: z.string().optional(),
  attributes: z.record(z.string(), z.unknown()).optional(),
  legalRef: z.string().trim().min(1).optional(),
  evidenceRef: z.string().min(1).optional(),
  reason: z.string().trim().min(1).optional(),
});

/** What validation needs besides the line: the rules in force, the clock's reading, a source given for the whole file. */
export interface RecordContext {
  ruleset: ReportingRules;
  now: Instant;
  defaultSource?: string;
}

/** Validates one submitted record against the ruleset; the message names the field and says what is wrong. */
export function parseRecordInput(raw: unknown, ctx: RecordContext): RecordOp | { error: string } {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return { error: "a record is a JSON object" };
  const parsed = input.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    if (issue.code === "unrecognized_keys") return { error: `unknown field ${issue.keys.map((k) => `'${k}'`).join(", ")}` };
    const field = issue.path.map(String).join(".") || "record";
    return { error: `${field}: ${issue.message}` };
  }
  const v = parsed.data;
  const source = v.source ?? ctx.defaultSource;
  if (!source) return { error: "source: missing (give it in each record or for the whole file with --source)" };
  if (v.source && ctx.defaultSource && v.source !== ctx.defaultSource) {
    return { error: `source: ${v.source} differs from the file's source ${ctx.defaultSource}` };
  }
  const granted = ctx.ruleset.grants.get(source);
  if (!granted) return { error: `source: ${source} is not a source of the active rulebook` };

  if (v.op === "retract") {
    if (!v.reason) return { error: "reason: a retraction must say why" };
    return { op: "retract", id: recordId(source, v.externalId), source, externalId: v.externalId, reason: v.reason };
  }

  for (const field of ["subject", "category", "occurredAt", "legalRef"] as const) {
    if (v[field] === undefined) return { error: `${field}: missing` };
  }
  const subjectResult = parseSubjectId(v.subject as string);
  if (!subjectResult.ok) return { error: `subject: ${subjectResult.reason}` };
  const subject = subjectResult.subject;

  const category = v.category as string;
  if (!granted.has(category)) {
    return { error: `category: source ${source} may not report ${category} (it may report: ${[...granted].sort().join(", ")})` };
  }
  const occurredAt = parseInstant(v.occurredAt as string);
  if (typeof occurredAt === "string") return { error: `occurredAt: ${occurredAt}` };
  if (occurredAt > ctx.now + CLOCK_SKEW_MS) {
    return { error: `occurredAt: ${v.occurredAt} is in the future (now is ${formatInstant(ctx.now)})` };
  }
  if (subject.birthDate && occurredAt < anniversary(subject.birthDate, 0)) {
    return { error: `occurredAt: ${v.occurredAt} is before the subject was born (${subject.birthDate})` };
  }

  const attributes = v.attributes ?? {};
  const attributeError = checkAttributes(ctx.ruleset, category, attributes);
  if (attributeError) return { error: attributeError };

  const record: RecordFact = {
    id: recordId(source, v.externalId),
    source,
    externalId: v.externalId,
    subject: subject.id,
    category,
    occurredAt,
    attributes,
    legalRef: v.legalRef as string,
    ...(v.evidenceRef ? { evidenceRef: v.evidenceRef } : {}),
  };
  return { op: v.op, record };
}

/** Checks attributes against the category's declaration: only declared names, of the declared type. */
function checkAttributes(ruleset: ReportingRules, category: string, attributes: Record<string, unknown>): string | undefined {
  const declared = ruleset.categories.get(category)?.attributes ?? {};
  for (const [name, value] of Object.entries(attributes)) {
    const decl = declared[name];
    if (!decl) {
      const allowed = Object.keys(declared);
      // Data minimisation: a source may send only what the rulebook says it needs.
      return `attributes.${name}: not declared for ${category} (${allowed.length ? `declared: ${allowed.join(", ")}` : "it takes no attributes"})`;
    }
    const ok =
      decl.type === "string" ? typeof value === "string"
      : decl.type === "integer" ? Number.isInteger(value)
      : decl.type === "number" ? typeof value === "number" && Number.isFinite(value)
      : typeof value === "boolean";
    if (!ok) return `attributes.${name}: must be ${decl.type === "integer" ? "an integer" : `a ${decl.type}`}, got ${JSON.stringify(value)}`;
    if (decl.enum && !decl.enum.includes(value as string | number)) {
      return `attributes.${name}: must be one of ${decl.enum.map((e) => JSON.stringify(e)).join(", ")}, got ${JSON.stringify(value)}`;
    }
  }
  for (const [name, decl] of Object.entries(declared)) {
    if (decl.required && !(name in attributes)) return `attributes.${name}: missing (required for ${category})`;
  }
  return undefined;
}
