// The record streams of a synthetic city: per category, how often it happens (yearly rates), to whom, and with which attributes.
import { z } from "zod";
import type { AttributeDecl } from "../rulebook/schema.js";
import type { CategoryInfo, Ruleset } from "../rulebook/ruleset.js";
import type { SubjectKind } from "../subject-id.js";
import { provinceAbbreviation, type Place } from "./places.js";
import { hashText, mix32, Weighted, type Random } from "./random.js";

/** A record as an agency would send it: one line of an import file. */
export interface RecordInput {
  source: string;
  externalId: string;
  subject: string;
  category: string;
  occurredAt: string;
  attributes: Record<string, unknown>;
  legalRef: string;
}

/** How often a category happens, per subject and year. */
export interface CategoryRate {
  /** Records per person-year of an adult (within the category's ages). */
  person: number;
  /** Records per enterprise-year. */
  enterprise: number;
  /** Multiplies the person rate while the person is under 18 (within the category's ages). */
  minor: number;
  /** Share of records later resolved by their follow-up category (fulfilment, settlement, remedy), if it has one. */
  resolved: number;
  /** Generate the category even where the subject's rulebook does nothing with it. */
  everywhere: boolean;
}

/** Sequence numbers for document numbers, one series per court, office and year: case numbers are unique, as the store requires. */
export class Numbering {
  private readonly next = new Map<string, number>();

  /** The next number of a series; a series starts somewhere in 1-400 (a court's year has begun before our cases). */
  take(series: string): number {
    const n = this.next.get(series) ?? 1 + (mix32(hashText(series)) % 400);
    this.next.set(series, n + 1);
    return n;
  }
}

/** What a model is given to make one record. */
export interface Draw {
  r: Random;
  kind: SubjectKind;
  place: Place;
  /** The record's day (day number) and its calendar year. */
  day: number;
  year: number;
  numbers: Numbering;
}

/** The varying part of a record a model makes; `key` is what a follow-up record names (a case number). */
export interface Made {
  externalId: string;
  attributes: Record<string, unknown>;
  legalRef: string;
  key?: string;
}

type AttributeShape = { type: AttributeDecl["type"]; values?: readonly (string | number)[]; always: boolean };

/** How one category of the shipped rulebooks is generated. */
interface Model {
  category: string;
  /** Defaults; documented in docs/synthetic-city.md with their calibration. */
  rate: CategoryRate;
  /** Ages (whole years, at the record's date) at which a person can have the record; both included. */
  ages: readonly [number, number];
  /** The attributes the model makes: a declaration must accept them, or the category is generated generically. */
  attributes: Readonly<Record<string, AttributeShape>>;
  followUp?: FollowUp;
  make(d: Draw): Made;
}

/** A later record that resolves an earlier one, keyed by the same document number. */
interface FollowUp {
  category: string;
  keyAttribute: string;
  suffix: string;
  /** Delay after the first record, in days: log-normal with this median and shape. */
  medianDays: number;
  sigma: number;
  legalRef: string;
}

const rate = (r: Partial<CategoryRate>): CategoryRate => ({ person: 0, enterprise: 0, minor: 0, resolved: 0, everywhere: false, ...r });
const roundYuan = (x: number) => Math.max(1, Math.round(x));

/** The grounds of SPC Fa Shi [2017] No. 7, Art. 1: refusing despite ability and breaching the property report dominate. */
const GROUNDS = new Weighted<number>([[1, 55], [2, 4], [3, 8], [4, 25], [5, 4], [6, 4]]);

const courtCode = (place: Place) => provinceAbbreviation(place.code) + place.code.slice(2, 6);

const VOLUNTEER_ORGS = ["市志愿者协会", "市青年志愿者协会", "市红十字会", "图书馆志愿服务队", "社区志愿服务站", "市文明办志愿服务中心"] as const;

/** Hours of one service record: mostly a few hours, some tens, a few long programmes of a hundred hours or more. */
function volunteerHours(r: Random): number {
  const u = r.float();
  const h = u < 0.7 ? r.lognormal(4, 0.5) : u < 0.98 ? 10 + r.float() * 50 : 100 + r.float() * 200;
  return Math.max(0.5, Math.round(h * 2) / 2);
}

export const MODELS: readonly Model[] = [
  {
    category: "court.judgment.unfulfilled",
    rate: rate({ person: 0.003, enterprise: 0.01, minor: 0.01, resolved: 0.3 }),
    ages: [0, 120],
    attributes: {
      caseNumber: { type: "string", always: true },
      ground: { type: "integer", values: [1, 2, 3, 4, 5, 6], always: true },
      amountYuan: { type: "number", always: true },
      extensionYears: { type: "integer", values: [1, 2, 3], always: false },
    },
    followUp: { category: "court.judgment.fulfilled", keyAttribute: "caseNumber", suffix: "-fulfilled", medianDays: 300, sigma: 1, legalRef: "SPC Fa Shi [2017] No. 7, Art. 10(1)" },
    make({ r, kind, place, year, numbers }) {
      const court = courtCode(place);
      const caseNumber = `(${year})${court}执${numbers.take(`${year}${court}执`)}号`;
      const ground = GROUNDS.sample(r);
      const amountYuan = roundYuan(kind === "person" ? r.lognormal(60_000, 1.2) : r.lognormal(600_000, 1.4));
      // Art. 2 para. 2: one to three more years for serious obstruction or repeated dishonesty, on grounds 2-6 only.
      const attributes: Record<string, unknown> =
        ground >= 2 && r.chance(0.1) ? { caseNumber, ground, amountYuan, extensionYears: r.between(1, 3) } : { caseNumber, ground, amountYuan };
      return { externalId: caseNumber, attributes, legalRef: `SPC Fa Shi [2017] No. 7, Art. 1(${ground})`, key: caseNumber };
    },
  },
  {
    category: "tax.arrears.exit-control",
    // Persons only: stopping an enterprise's legal representative for its taxes is liability for another (docs/safeguards.md).
    rate: rate({ person: 1.2e-7, resolved: 0.7 }),
    ages: [18, 120],
    attributes: { noticeNumber: { type: "string", always: true }, amountYuan: { type: "number", always: true } },
    followUp: { category: "tax.arrears.settled", keyAttribute: "noticeNumber", suffix: "-settled", medianDays: 90, sigma: 0.8, legalRef: "Tax Collection and Administration Law, Art. 44" },
    make({ r, place, year, numbers }) {
      const office = `${provinceAbbreviation(place.code)}税阻`;
      const noticeNumber = `${office}〔${year}〕${numbers.take(office + year)}号`;
      return { externalId: noticeNumber, attributes: { noticeNumber, amountYuan: roundYuan(r.lognormal(300_000, 1)) }, legalRef: "Tax Collection and Administration Law, Art. 44", key: noticeNumber };
    },
  },
  {
    category: "tax.return.late",
    // Jiangsu's minor watchlist: a return filed after the deadline and an order to correct it (Tax Collection and
    // Administration Law, Art. 62). Assumed rates, see docs/synthetic-city.md: mostly small enterprises, few persons.
    rate: rate({ person: 0.002, enterprise: 0.05 }),
    ages: [18, 120],
    attributes: { noticeNumber: { type: "string", always: true } },
    make({ place, year, numbers }) {
      const office = `${provinceAbbreviation(place.code)}税限改`;
      const noticeNumber = `${office}〔${year}〕${numbers.take(office + year)}号`;
      return { externalId: noticeNumber, attributes: { noticeNumber }, legalRef: "Tax Collection and Administration Law, Art. 62" };
    },
  },
  {
    category: "market.serious-violation",
    rate: rate({ enterprise: 0.003, resolved: 0.3 }),
    ages: [18, 120],
    attributes: { decisionNumber: { type: "string", always: true } },
    followUp: {
      category: "market.serious-violation.remedied",
      keyAttribute: "decisionNumber",
      suffix: "-remedied",
      medianDays: 400,
      sigma: 0.7,
      legalRef: "Regulations on the Publicity of Enterprise Information (State Council Order No. 654), Art. 17",
    },
    make({ place, year, numbers }) {
      const office = `${provinceAbbreviation(place.code)}市监严`;
      const decisionNumber = `${office}〔${year}〕${numbers.take(office + year)}号`;
      return { externalId: decisionNumber, attributes: { decisionNumber }, legalRef: "Regulations on the Publicity of Enterprise Information (State Council Order No. 654), Art. 17", key: decisionNumber };
    },
  },
  {
    category: "market.counterfeit-goods",
    rate: rate({ person: 1e-4, enterprise: 0.002 }),
    ages: [18, 120],
    attributes: { decisionNumber: { type: "string", always: true } },
    make({ r, place, year, numbers }) {
      const office = `${provinceAbbreviation(place.code)}市监罚`;
      const decisionNumber = `${office}〔${year}〕${numbers.take(office + year)}号`;
      return { externalId: decisionNumber, attributes: { decisionNumber }, legalRef: r.chance(0.5) ? "Product Quality Law, Art. 5" : "Trademark Law, Art. 60" };
    },
  },
  {
    category: "court.judgment.online-defamation",
    rate: rate({ person: 1e-5, minor: 0.1 }),
    ages: [14, 120],
    attributes: { caseNumber: { type: "string", always: true }, proceeding: { type: "string", values: ["civil", "private-prosecution"], always: true } },
    make({ r, place, year, numbers }) {
      const civil = r.chance(0.85);
      const series = `${year}${courtCode(place)}${civil ? "民初" : "刑初"}`;
      const caseNumber = `(${year})${series.slice(4)}${numbers.take(series)}号`;
      return { externalId: caseNumber, attributes: { caseNumber, proceeding: civil ? "civil" : "private-prosecution" }, legalRef: civil ? "Civil Code, Art. 1024" : "Criminal Law, Art. 246" };
    },
  },
  {
    category: "civic.volunteering",
    // Secondary-school pupils volunteer too (from 14, with a guardian's consent), less often than adults.
    rate: rate({ person: 0.15, minor: 0.5 }),
    ages: [14, 80],
    attributes: { hours: { type: "number", always: true }, organisation: { type: "string", always: false } },
    make({ r, place, year, numbers }) {
      const series = `V${place.code}${year}`;
      const externalId = `${series}${String(numbers.take(series)).padStart(7, "0")}`;
      const hours = volunteerHours(r);
      const attributes: Record<string, unknown> = r.chance(0.9) ? { hours, organisation: place.city + r.pick(VOLUNTEER_ORGS) } : { hours };
      return { externalId, attributes, legalRef: "Regulations on Volunteer Service (State Council Order No. 685), Art. 19" };
    },
  },
  {
    category: "civic.blood-donation",
    // Donors are 18 to 60 (Blood Donation Law, Art. 2, and the national donor health standard).
    rate: rate({ person: 0.02 }),
    ages: [18, 60],
    attributes: { donationNumber: { type: "string", always: true } },
    make({ place, year, numbers }) {
      const series = `${place.code.slice(0, 4)}${year}`;
      const donationNumber = `${series}${String(numbers.take(series)).padStart(7, "0")}`;
      return { externalId: donationNumber, attributes: { donationNumber }, legalRef: "Blood Donation Law, Art. 17" };
    },
  },
  {
    category: "traffic.drunk-driving",
    rate: rate({ person: 5e-4 }),
    ages: [18, 75],
    attributes: { decisionNumber: { type: "string", always: true } },
    make({ place, year, numbers }) {
      const office = `${provinceAbbreviation(place.code)}公交决字`;
      const decisionNumber = `${office}〔${year}〕第${numbers.take(office + year)}号`;
      return { externalId: decisionNumber, attributes: { decisionNumber }, legalRef: "Road Traffic Safety Law, Art. 91" };
    },
  },
];

const MODEL_BY_CATEGORY: ReadonlyMap<string, Model> = new Map(MODELS.map((m) => [m.category, m] as const));
const FOLLOW_UP_OF: ReadonlyMap<string, string> = new Map(MODELS.flatMap((m) => (m.followUp ? [[m.followUp.category, m.category] as const] : [])));

/** The default yearly rates of the categories the generator knows, by category. */
export function defaultRates(): Record<string, CategoryRate> {
  return Object.fromEntries(MODELS.map((m) => [m.category, { ...m.rate }]));
}

/** True when a declaration accepts every attribute the model makes, and the model makes every attribute it requires. */
function fits(model: Model, declared: Readonly<Record<string, AttributeDecl>>): boolean {
  for (const [name, shape] of Object.entries(model.attributes)) {
    const d = declared[name];
    if (!d || d.type !== shape.type) return false;
    if (d.enum && !(shape.values ?? []).every((v) => d.enum?.includes(v))) return false;
    if (d.enum && !shape.values) return false;
  }
  return Object.entries(declared).every(([name, d]) => !d.required || model.attributes[name]?.always === true);
}

/** A model for a category the generator does not know (or whose declaration changed): attributes from the declaration alone. */
function genericModel(info: CategoryInfo, legalRef: string): Model {
  const declared = Object.entries(info.attributes);
  return {
    category: info.id,
    rate: rate({}),
    ages: [0, 120],
    attributes: {},
    make({ r, year, numbers }) {
      const series = `${info.id}#${year}`;
      const externalId = `${series}-${numbers.take(series)}`;
      const attributes: Record<string, unknown> = {};
      for (const [name, d] of declared) {
        if (!d.required && r.chance(0.5)) continue;
        if (d.enum && d.enum.length > 0) attributes[name] = r.pick(d.enum);
        else if (d.type === "string") attributes[name] = `${externalId}/${name}`;
        else if (d.type === "integer") attributes[name] = r.between(0, 10);
        else if (d.type === "number") attributes[name] = Math.round(r.lognormal(10, 1.2) * 10) / 10;
        else attributes[name] = r.chance(0.5);
      }
      return { externalId, attributes, legalRef };
    },
  };
}

/** Rates as a rates file gives them: per category, a number (the person rate) or any of the fields of CategoryRate. */
export type RateOverrides = Record<string, number | Partial<CategoryRate>>;

const nonNegative = z.number().finite().nonnegative();
const overridesSchema = z.record(
  z.string(),
  z.union([
    nonNegative,
    z.strictObject({
      person: nonNegative.optional(),
      enterprise: nonNegative.optional(),
      minor: nonNegative.optional(),
      resolved: z.number().min(0).max(1).optional(),
      everywhere: z.boolean().optional(),
    }),
  ]),
);

/** Checks a parsed rates file against the active ruleset; the message names the category and field at fault. */
export function parseRates(raw: unknown, ruleset: Ruleset): RateOverrides | string {
  const parsed = overridesSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    const where = issue.path.map(String).join(".") || "rates";
    return `${where}: ${issue.code === "unrecognized_keys" ? `unknown field ${issue.keys.join(", ")} (fields: person, enterprise, minor, resolved, everywhere)` : issue.message}`;
  }
  for (const category of Object.keys(parsed.data)) {
    if (!ruleset.categories.has(category)) {
      return `${category}: not a category of the active rulebook (categories: ${[...ruleset.categories.keys()].sort().join(", ")})`;
    }
    const parent = FOLLOW_UP_OF.get(category);
    if (parent) return `${category}: generated only as the follow-up of ${parent}; set "resolved" of ${parent} instead`;
  }
  return parsed.data;
}

/** One category as generated in one place: the model, the source that reports it, and the rates in force. */
export interface Stream {
  category: string;
  source: string;
  model: Model;
  rate: CategoryRate;
  /** The follow-up category and its source, when the ruleset declares it. */
  followUp?: FollowUp & { source: string };
}

/** Everything the generator needs from the ruleset and the options, worked out once. */
export interface CityPlan {
  places: readonly Place[];
  /** Per place (same index): the streams of persons and of enterprises. */
  personStreams: readonly (readonly Stream[])[];
  enterpriseStreams: readonly (readonly Stream[])[];
  /** The rates in force for every category of the ruleset that may be generated. */
  rates: Readonly<Record<string, CategoryRate>>;
  /** Categories of the ruleset the generator knows no model for (or whose declaration no longer fits its model): generated from their declaration alone, at rate 0 unless a rates file says otherwise. */
  generic: readonly string[];
}

/** The legal basis a rule or list exit gives for a category, as a generic record's legalRef. */
function legalRefOf(ruleset: Ruleset, places: readonly Place[], category: string, layer: string): string {
  for (const p of places) {
    const j = ruleset.jurisdictionFor(p.code);
    const basis = j.rulesByCategory.get(category)?.[0]?.legalBasis ?? j.exitsByCategory.get(category)?.[0]?.legalBasis;
    if (basis) return basis;
  }
  return `as declared by the ${layer} rulebook`;
}

/**
 * Plans the streams of a city: for each place, the categories the active ruleset grants whose rules or list exits
 * apply there (or that a rates file marks `everywhere`), with the rates in force. Records nobody's rulebook uses in a
 * place are not generated there: agencies send only what the rulebook needs, and it keeps the volume down.
 */
export function planCity(ruleset: Ruleset, places: readonly Place[], overrides: RateOverrides = {}): CityPlan {
  const rates: Record<string, CategoryRate> = {};
  const generic: string[] = [];
  const streams: Stream[] = [];
  for (const info of [...ruleset.categories.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    if (FOLLOW_UP_OF.has(info.id) && ruleset.categories.has(FOLLOW_UP_OF.get(info.id) as string)) continue;
    if (!ruleset.grants.get(info.source)?.has(info.id)) continue;
    const known = MODEL_BY_CATEGORY.get(info.id);
    const model = known && fits(known, info.attributes) ? known : genericModel(info, legalRefOf(ruleset, places, info.id, info.layer));
    if (model !== known) generic.push(info.id);
    const o = overrides[info.id];
    const r: CategoryRate = { ...model.rate, ...(typeof o === "number" ? { person: o } : (o ?? {})) };
    rates[info.id] = r;
    const f = model.followUp;
    const followInfo = f ? ruleset.categories.get(f.category) : undefined;
    const followOk = followInfo && ruleset.grants.get(followInfo.source)?.has(followInfo.id) && followInfo.attributes[(f as FollowUp).keyAttribute]?.type === "string";
    streams.push({ category: info.id, source: info.source, model, rate: r, ...(f && followOk ? { followUp: { ...f, source: followInfo.source } } : {}) });
  }
  const applies = (s: Stream, place: Place) => {
    if (s.rate.everywhere) return true;
    const j = ruleset.jurisdictionFor(place.code);
    const used = (c: string) => j.rulesByCategory.has(c) || j.exitsByCategory.has(c);
    return used(s.category) || (s.followUp !== undefined && used(s.followUp.category));
  };
  return {
    places,
    personStreams: places.map((p) => streams.filter((s) => s.rate.person > 0 && applies(s, p))),
    enterpriseStreams: places.map((p) => streams.filter((s) => s.rate.enterprise > 0 && applies(s, p))),
    rates,
    generic,
  };
}
