// Generating a synthetic city into the store: names through the registry interface, records through the same import every agency file goes through.
import { evaluate, NO_CASE } from "../core/evaluate.js";
import { recordId, type RecordFact } from "../core/record.js";
import type { Ruleset } from "../core/rulebook/ruleset.js";
import { sha256 } from "../core/sha256.js";
import { parseSubjectId } from "../core/subject-id.js";
import { synthesize, type SynthSubject } from "../core/synth/city.js";
import type { Place } from "../core/synth/places.js";
import { syntheticApprovals } from "../core/synth/review.js";
import { planCity, type CategoryRate, type RateOverrides } from "../core/synth/streams.js";
import { formatInstant, parseInstant, type Instant } from "../core/time.js";
import type { AppContext } from "./context.js";
import { UserError } from "./errors.js";
import { importRecords, type InputLine, type Receipt } from "./ingest.js";
import { evaluatorAt } from "./statuses.js";

/**
 * The generation instant when none is given (`--at`): fixed, not the wall clock, so that the same command gives the
 * same database on any day. The same instant as the tour's (scripts/tour.sh).
 */
export const DEFAULT_GENERATION_INSTANT = "2026-11-23T12:00:00+08:00";

export function defaultGenerationInstant(): Instant {
  return parseInstant(DEFAULT_GENERATION_INSTANT) as Instant;
}

/** The most people or enterprises one run generates: more than any Chinese city, and within what IDs can number uniquely. */
export const MAX_SUBJECTS = 50_000_000;
export const MAX_YEARS = 50;

export interface GenerateOptions {
  people: number;
  enterprises: number;
  /** Records are dated within this many years before the clock's now. */
  years: number;
  seed: number;
  places: readonly Place[];
  /** Rates per category, over the defaults (parseRates checks them). */
  rates?: RateOverrides;
  /** Called every thousand subjects and at the end, with subjects generated so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Names written per transaction (50,000 by default: memory for them is bounded, and larger sorted batches insert faster). */
  nameBatch?: number;
}

export interface GenerateSummary {
  decisionId: string;
  seed: number;
  at: string;
  years: number;
  regions: { code: string; name: string; share: number }[];
  people: number;
  enterprises: number;
  /** People under 18 at the generation instant. */
  minors: number;
  /** Subjects with at least one record; only they have a stored status. */
  subjectsWithRecords: number;
  /** Records generated, by category. */
  records: Record<string, number>;
  /** Records generated about people who were under 18 on the record's date: kept, and ignored by the evaluator. */
  recordsOfMinors: number;
  /** The generated subjects on each list at the generation instant, people and enterprises apart. */
  lists: { people: Record<string, number>; enterprises: Record<string, number> };
  /** The generated subjects each measure applies to at the generation instant. */
  measures: Record<string, number>;
  /** Adults by grade, where the jurisdiction has grades (Rongcheng). */
  grades: Record<string, number>;
  /** The rates in force, per category. */
  rates: Record<string, CategoryRate>;
  /** Categories generated from their declaration alone (no model fits them). */
  generic: string[];
  receipt: Receipt;
  /**
   * Wall time in milliseconds: in the generator itself, writing names, evaluating the summary's standings, and in all
   * (the rest is the import: validation, storage, scoring, audit). Not reproducible, unlike the rest of the summary.
   */
  timings: { generateMs: number; namesMs: number; summaryMs: number; totalMs: number };
}

/** A decision id derived from the run's parameters: the same run gives the same audit log. */
function decisionIdOf(opts: GenerateOptions, at: Instant): string {
  const h = sha256(JSON.stringify({ seed: opts.seed, people: opts.people, enterprises: opts.enterprises, years: opts.years, at, places: opts.places.map((p) => [p.code, p.weight]), rates: opts.rates ?? {} }));
  // Shaped as a version 4 UUID, like every other decision id.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16] as string, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function check(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new UserError(`${name}: must be a whole number from ${min} to ${max}, got ${value}`);
}

const sorted = (counts: Map<string, number>): Record<string, number> => Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : 1)));
const bump = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);

/**
 * Where the generated subjects stand at the generation instant, by evaluating each one's records as the store does.
 * It reads nothing back from the store, so it counts this run alone (the database may hold other subjects) and keeps
 * nothing per subject. Subjects without records all have their jurisdiction's base status, evaluated once per region.
 */
class Standing {
  readonly lists = { person: new Map<string, number>(), enterprise: new Map<string, number>() };
  readonly measures = new Map<string, number>();
  readonly grades = new Map<string, number>();
  /** What the review office decided for generated subjects (about one in a hundred): written once the records are in. */
  readonly reviewed: { subject: string; signOffs: ReturnType<typeof syntheticApprovals> }[] = [];
  private readonly baseGrade = new Map<string, string | null>();

  constructor(
    private readonly ruleset: Ruleset,
    private readonly at: Instant,
  ) {}

  add(s: SynthSubject): void {
    if (s.records.length === 0) {
      if (s.kind === "enterprise" || s.minor) return;
      let grade = this.baseGrade.get(s.region);
      if (grade === undefined) {
        const parsed = parseSubjectId(s.id);
        grade = parsed.ok ? evaluate(this.ruleset, parsed.subject, [], this.at).status.grade : null;
        this.baseGrade.set(s.region, grade);
      }
      if (grade !== null) bump(this.grades, grade);
      return;
    }
    const parsed = parseSubjectId(s.id);
    if (!parsed.ok) return;
    const facts = s.records.map(toFact);
    let status = evaluate(this.ruleset, parsed.subject, facts, this.at).status;
    // Counted as the store will hold them once the synthetic review office has signed off.
    if (status.awaitingSignOff.length > 0) {
      const signOffs = syntheticApprovals(status);
      if (signOffs.size > 0) this.reviewed.push({ subject: s.id, signOffs });
      status = evaluate(this.ruleset, parsed.subject, facts, this.at, { ...NO_CASE, signOffs }).status;
    }
    for (const l of status.lists) bump(this.lists[s.kind], l.list);
    for (const m of status.measures) bump(this.measures, m.measure);
    if (status.grade !== null && s.kind === "person") bump(this.grades, status.grade);
  }
}

function toFact(r: SynthSubject["records"][number]): RecordFact {
  return { ...r, id: recordId(r.source, r.externalId), occurredAt: parseInstant(r.occurredAt) as Instant };
}

/** Was the subject under 18 on a record's date (YYYY-MM-DD)? Birth dates and record dates compare as text. */
function minorOn(birthDate: string, occurredAt: string): boolean {
  const adult = String(Number(birthDate.slice(0, 4)) + 18) + birthDate.slice(4);
  return occurredAt < adult;
}

/**
 * Writes the synthetic review office's decisions (core/synth/review.ts: an approval a week after each record, none
 * dated after now) as `actor`, one audit entry each, and re-evaluates those subjects. Entries of the last week stay
 * in the reviewers' queue, as in a real office.
 */
async function reviewOffice(ctx: AppContext, ruleset: Ruleset, actor: string, decisionId: string, at: Instant, reviewed: Standing["reviewed"]): Promise<number> {
  let approved = 0;
  for (let i = 0; i < reviewed.length; i += 500) {
    const page = reviewed.slice(i, i + 500);
    await ctx.store.transaction(async (tx) => {
      const audit = [];
      for (const { subject, signOffs } of page) {
        for (const [entry, d] of signOffs) {
          if (!(await tx.decideSignOff(entry, d.approved, d.at, actor, "synthetic review office"))) continue;
          audit.push({ actor, action: "sign-off.approve", subject, decisionId, at, detail: { entry, reasons: "synthetic review office" } });
          approved++;
        }
      }
      await tx.refreshStatuses(page.map((r) => r.subject), evaluatorAt(ruleset, at));
      await tx.appendAudit(audit);
    });
  }
  return approved;
}

/**
 * Generates a synthetic city at the clock's now and stores it as `actor`: every subject's name, and every record
 * through importRecords (validated, scored and audited as a file import is), in one pass with flat memory. Refuses
 * when no rulebook is active: the rulebook says which sources report which categories.
 */
export async function generatePopulation(ctx: AppContext, actor: string, opts: GenerateOptions): Promise<GenerateSummary> {
  const started = performance.now();
  check("people", opts.people, 0, MAX_SUBJECTS);
  check("enterprises", opts.enterprises, 0, MAX_SUBJECTS);
  check("years", opts.years, 1, MAX_YEARS);
  const ruleset = await ctx.activeRuleset();
  if (!ruleset) {
    throw new UserError(
      "no rulebook is active, and the rulebook says which sources report which categories: run `social-credit rulebook activate rulebooks/*.yaml` first",
      [],
      "conflict",
    );
  }
  const at = ctx.clock.now();
  if (new Date(at).getUTCFullYear() < 2000) throw new UserError(`the generation instant ${formatInstant(at)} is before 2000: the oldest people would be born before 1900`);
  const plan = planCity(ruleset, opts.places, opts.rates);
  const decisionId = decisionIdOf(opts, at);
  const total = opts.people + opts.enterprises;
  const standing = new Standing(ruleset, at);
  const subjects = synthesize(plan, { people: opts.people, enterprises: opts.enterprises, years: opts.years, seed: opts.seed, at });

  const records: Record<string, number> = {};
  let minors = 0;
  let withRecords = 0;
  let recordsOfMinors = 0;
  let generateMs = 0;
  let namesMs = 0;
  let summaryMs = 0;
  let done = 0;
  const nameBatch = opts.nameBatch ?? 50_000;
  let names: { subject: string; name: string }[] = [];
  const flushNames = async () => {
    if (names.length === 0) return;
    // In key order, a batch's inserts walk the names index from page to page instead of jumping: three times faster.
    const batch = names.sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
    names = [];
    const t = performance.now();
    await ctx.store.putNames(batch);
    namesMs += performance.now() - t;
  };

  async function* lines(): AsyncGenerator<InputLine> {
    let line = 0;
    for (;;) {
      const t = performance.now();
      const next = subjects.next();
      generateMs += performance.now() - t;
      if (next.done) break;
      const s: SynthSubject = next.value;
      names.push({ subject: s.id, name: s.name });
      if (names.length >= nameBatch) await flushNames();
      if (s.minor) minors++;
      if (s.records.length > 0) {
        withRecords++;
        const t0 = performance.now();
        standing.add(s);
        summaryMs += performance.now() - t0;
      } else standing.add(s);
      for (const r of s.records) {
        records[r.category] = (records[r.category] ?? 0) + 1;
        if (s.birthDate !== undefined && minorOn(s.birthDate, r.occurredAt)) recordsOfMinors++;
        yield { line: ++line, value: r, raw: "" };
      }
      if (++done % 1000 === 0) opts.onProgress?.(done, total);
    }
    await flushNames();
  }

  const receipt = await importRecords(ctx, actor, lines(), { decisionId });
  opts.onProgress?.(done, total);
  const approved = await reviewOffice(ctx, ruleset, actor, decisionId, at, standing.reviewed);
  // Names are a change to the stored data like any other: one audit entry says where they came from.
  await ctx.store.appendAudit([
    {
      actor,
      action: "population.generated",
      subject: null,
      decisionId,
      at,
      detail: { seed: opts.seed, people: opts.people, enterprises: opts.enterprises, years: opts.years, regions: opts.places.map((p) => p.code), names: done, records: receipt.accepted, signOffs: approved },
    },
  ]);
  return {
    decisionId,
    seed: opts.seed,
    at: formatInstant(at),
    years: opts.years,
    regions: opts.places.map((p) => ({ code: p.code, name: p.name, share: p.weight })),
    people: opts.people,
    enterprises: opts.enterprises,
    minors,
    subjectsWithRecords: withRecords,
    records: Object.fromEntries(Object.entries(records).sort(([a], [b]) => (a < b ? -1 : 1))),
    recordsOfMinors,
    lists: { people: sorted(standing.lists.person), enterprises: sorted(standing.lists.enterprise) },
    measures: sorted(standing.measures),
    grades: sorted(standing.grades),
    rates: plan.rates as Record<string, CategoryRate>,
    generic: [...plan.generic],
    receipt,
    timings: { generateMs: Math.round(generateMs), namesMs: Math.round(namesMs), summaryMs: Math.round(summaryMs), totalMs: Math.round(performance.now() - started) },
  };
}
