// The rulebook language: the shape of one YAML layer, as a zod schema that also yields the published JSON Schema.
import { z } from "zod";
import { TIERS } from "../tiers.js";

const ID = /^[a-z0-9][a-z0-9-]*$/;
const CATEGORY = /^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$/;
const DURATION = /^P(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?$/;

const id = (what: string) =>
  z
    .string({ error: `${what} id is required` })
    .regex(ID, `${what} id must be lower-case letters, digits and hyphens`);

const categoryId = z
  .string({ error: "category is required" })
  .regex(CATEGORY, "category must be dotted lower-case words, such as court.judgment.unfulfilled");

/** Every rule, list, measure and exit condition must say which law allows it. */
const legalBasis = z
  .string({
    error: (issue) =>
      issue.input === undefined
        ? "legalBasis is missing: every rule, list and measure must cite its legal basis"
        : "legalBasis must be a text citing the law",
  })
  .trim()
  .min(1, "legalBasis is empty: every rule, list and measure must cite its legal basis");

const duration = (what: string) =>
  z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? `${what} is missing: every effect ends by itself, so it needs a finite ISO 8601 duration such as P2Y`
          : `${what} must be an ISO 8601 duration such as P2Y, P6M or P30D`,
    })
    .regex(DURATION, `${what} must be a finite ISO 8601 duration such as P2Y, P6M or P30D`);

const cel = z.string().min(1, "a CEL expression may not be empty");

const attributeType = z.enum(["string", "integer", "number", "boolean"]);

const attributeDecl = z.strictObject({
  type: attributeType,
  required: z.boolean().default(false),
  enum: z.array(z.union([z.string(), z.number()])).optional(),
  description: z.string().optional(),
});

const categoryDecl = z.strictObject({
  id: categoryId,
  description: z.string().optional(),
  attributes: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]*$/), attributeDecl).default({}),
});

const sourceDecl = z.strictObject({
  id: id("source"),
  name: z.string().optional(),
  categories: z.array(categoryDecl).min(1, "a source must be granted at least one category"),
});

// One shape for both kinds of effect, so a missing duration is reported as such; the linter
// then requires exactly one of points and list.
const effect = z.strictObject({
  points: z.number().int("points must be a whole number").optional(),
  list: id("list").optional(),
  duration: duration("duration"),
  key: cel.optional(),
  extension: z
    .strictObject({
      years: cel,
      maxYears: z.number().int().min(1).max(10),
    })
    .optional(),
});

const rule = z.strictObject({
  id: id("rule"),
  description: z.string().optional(),
  category: categoryId,
  when: cel.optional(),
  effects: z.array(effect).min(1, "a rule needs at least one effect"),
  legalBasis,
});

const exitCondition = z.strictObject({
  category: categoryId,
  when: cel.optional(),
  key: cel.optional(),
  legalBasis,
});

const tier = z.enum(TIERS, { error: "tier must be minor, moderate or serious" });

/** A record the subject must have (after entering the list) before restoration may be asked, such as a completed training. */
const requiredRecord = z.strictObject({
  category: categoryId,
  when: cel.optional(),
  description: z.string().optional(),
});

const list = z.strictObject({
  id: id("list"),
  name: z.string().min(1),
  kind: z.enum(["blacklist", "redlist", "watchlist"]),
  tier: tier.optional(),
  maxTerm: duration("maxTerm"),
  /** How long an entry stays on the published list; defaults to the longest its tier allows. */
  publication: duration("publication").optional(),
  exit: z.array(exitCondition).default([]),
  restoration: z
    .strictObject({
      allowed: z.boolean(),
      minimumPeriod: duration("minimumPeriod").optional(),
      commitment: z.boolean().default(false),
      records: z.array(requiredRecord).default([]),
      conditions: z.array(z.string()).default([]),
      legalBasis: legalBasis.optional(),
    })
    .optional(),
  public: z.boolean().optional(),
  legalBasis,
});

const trigger = z.union([
  z.strictObject({ list: id("list") }),
  z.strictObject({ grades: z.array(z.string().min(1)).min(1) }),
]);

const measure = z.strictObject({
  id: id("measure"),
  name: z.string().min(1),
  kind: z.enum(["sanction", "reward"]),
  trigger,
  // Any other value is refused by the linter with the reason, so the schema accepts a string here.
  target: z.string({ error: "target is missing: a measure binds only its subject, write target: subject" }),
  subjects: z.array(z.enum(["person", "enterprise"])).min(1).default(["person", "enterprise"]),
  enforcers: z.array(id("enforcer")).min(1, "a measure names the kinds of enforcer that apply it"),
  tier: tier.optional(),
  legalBasis,
});

const grade = z.strictObject({
  id: z.string().regex(/^[A-Z][A-Z+-]*$/, "grade ids are upper-case letters such as AAA or B"),
  min: z.number().int(),
});

const scoring = z.strictObject({
  base: z.number().int(),
  min: z.number().int(),
  max: z.number().int(),
});

/** One layer of a rulebook: the national layer, or a local layer with a parent and region-code prefixes. */
export const rulebookLayerSchema = z.strictObject({
  id: id("rulebook"),
  title: z.string().min(1),
  version: z.union([z.string(), z.number()]).transform(String),
  parent: id("rulebook").optional(),
  regions: z.array(z.string().regex(/^\d{2,6}$/, "a region is a 2- to 6-digit region-code prefix")).default([]),
  legalBasis,
  /** Tiers whose list entries wait for a reviewer's approval before they apply, in this layer's jurisdictions. */
  signOff: z.array(tier).default([]),
  scoring: scoring.optional(),
  grades: z.array(grade).optional(),
  sources: z.array(sourceDecl).default([]),
  rules: z.array(rule).default([]),
  lists: z.array(list).default([]),
  measures: z.array(measure).default([]),
});

export type RulebookLayer = z.output<typeof rulebookLayerSchema>;
export type RuleDecl = RulebookLayer["rules"][number];
export type ListDecl = RulebookLayer["lists"][number];
export type MeasureDecl = RulebookLayer["measures"][number];
export type SourceDecl = RulebookLayer["sources"][number];
export type CategoryDecl = SourceDecl["categories"][number];
export type AttributeDecl = CategoryDecl["attributes"][string];
export type EffectDecl = RuleDecl["effects"][number];
export type GradeDecl = NonNullable<RulebookLayer["grades"]>[number];
export type ScoringDecl = NonNullable<RulebookLayer["scoring"]>;

/** The JSON Schema of a rulebook layer, as published in docs/. */
export function rulebookJsonSchema(): unknown {
  return z.toJSONSchema(rulebookLayerSchema, { io: "input", target: "draft-2020-12" });
}
