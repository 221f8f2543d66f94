// What-if runs: evaluates a draft rulebook over the whole population beside the rulebook in force, changing nothing, and reports the difference.
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { ageAt, evaluate, type Status } from "../core/evaluate.js";
import { maskSubjectId } from "../core/mask.js";
import { PROVINCE_CODES, provinceName, regionName } from "../core/regions.js";
import { formatProblem, parseLayer, type ParsedLayer, type RulebookProblem } from "../core/rulebook/load.js";
import { buildRuleset, type Ruleset } from "../core/rulebook/ruleset.js";
import { parseSubjectId, type Subject, type SubjectKind } from "../core/subject-id.js";
import { chinaDay, formatInstant, type Instant } from "../core/time.js";
import type { AppContext } from "./context.js";
import { UserError, type FieldProblem } from "./errors.js";
import type { RulebookFile } from "./rulebooks.js";
import { newDecisionId, type Progress } from "./statuses.js";

/** How many of the subjects who change most a report names (IDs masked). */
export const DEFAULT_TOP = 20;

/** Subjects read and evaluated per page; memory holds one page of IDs at a time. */
const PAGE = 1000;

/** The age bands of the breakdown, persons first; enterprises have no age. */
export const AGE_BANDS = ["under 18", "18-29", "30-44", "45-59", "60+", "enterprise"] as const;
export type AgeBand = (typeof AGE_BANDS)[number];

/** The grade of a subject without one (a minor, or a jurisdiction without grades), in the transition matrix. */
export const NO_GRADE = "none";

export interface SimulateOptions {
  /** Layers to compare against instead of the active rulebook alone: each replaces the active layer of its id. */
  against?: readonly RulebookFile[];
  /** The instant both rulebooks are evaluated at; the clock's now by default. */
  at?: Instant;
  /** How many subjects who change most to name; 20 by default. */
  top?: number;
  /** Also return the IDs of every subject that changes (unmasked; memory grows with their number). */
  collectChanged?: boolean;
  progress?: Progress;
  /** Subjects per page (tests use small pages to cross page boundaries). */
  pageSize?: number;
}

/** A layer of one side of the comparison. */
export interface LayerSummary {
  id: string;
  version: string;
  sha256: string;
}

/** A list or a measure: how many subjects hold it before and after, and how many enter or leave it. */
export interface MembershipChange {
  id: string;
  name: string;
  kind: string;
  before: number;
  after: number;
  entered: number;
  left: number;
}

/** One row of a breakdown of the population. */
export interface BreakdownRow {
  evaluated: number;
  changed: number;
  /** Changed subjects whose score went up, and down. */
  scoreUp: number;
  scoreDown: number;
}

/** One of the subjects who change most, masked. */
export interface TopChange {
  /** Masked for persons (1101**********123X); enterprises whole. */
  subject: string;
  kind: SubjectKind;
  region: string;
  regionName: string | null;
  ageBand: AgeBand;
  score: { before: number; after: number; change: number };
  grade: { before: string | null; after: string | null };
  lists: { entered: string[]; left: string[] };
  measures: { entered: string[]; left: string[] };
}

/** The status anyone without records has in one part of the country, before and after. */
export interface BaseStatusChange {
  /** The region-code prefix of a layer, or "elsewhere" for regions no local layer claims. */
  regions: string;
  regionName: string | null;
  kind: "adult" | "enterprise";
  jurisdiction: { before: string; after: string };
  before: { score: number; grade: string | null; measures: string[] };
  after: { score: number; grade: string | null; measures: string[] };
  changed: boolean;
}

/** What a draft rulebook would do, over every subject the store holds records about. */
export interface WhatIfReport {
  decisionId: string;
  /** The instant both rulebooks were evaluated at. */
  at: string;
  /** The layers given as the draft, as they would be activated. */
  draft: LayerSummary[];
  /** The layers given to compare against (null: the active rulebook alone). */
  against: LayerSummary[] | null;
  before: { rulesetHash: string; layers: LayerSummary[] };
  after: { rulesetHash: string; layers: LayerSummary[] };
  subjects: {
    evaluated: number;
    /** Score, grade, lists or measures differ. */
    changed: number;
    unchanged: number;
    /** Not changed, but a list's or measure's period (since or until) differs. */
    periodsOnly: number;
    /** Subjects whose every record was retracted: as if never reported, not evaluated (see `unreported`). */
    allRetracted: number;
  };
  score: { meanBefore: number | null; meanAfter: number | null; up: number; down: number };
  /** Rows are the grade before, columns the grade after; every evaluated subject is counted once. */
  grades: { labels: string[]; matrix: number[][] };
  lists: MembershipChange[];
  measures: MembershipChange[];
  breakdown: {
    region: (BreakdownRow & { code: string; name: string | null })[];
    ageBand: (BreakdownRow & { band: AgeBand })[];
    kind: (BreakdownRow & { kind: SubjectKind })[];
  };
  /** The subjects who change most: by absolute score change, then by the number of lists and measures entered or left. */
  top: TopChange[];
  /** Subjects nobody reported on are not in the store: what the draft does to the status they have. */
  unreported: { note: string; changes: number; bases: BaseStatusChange[] };
  elapsedMs: number;
}

export interface SimulationResult {
  report: WhatIfReport;
  /** Every changed subject's ID, unmasked, in ID order: only when `collectChanged` was asked for. */
  changed?: string[];
}

/** The outcome of a status that decides whether a subject changed. */
interface Outcome {
  score: number;
  grade: string | null;
  lists: string[];
  measures: string[];
}

const outcomeOf = (s: Status): Outcome => ({
  score: s.score,
  grade: s.grade,
  lists: s.lists.map((l) => l.list).sort(),
  measures: s.measures.map((m) => m.measure).sort(),
});

const sameIds = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** True when two statuses differ in score, grade, lists or measures: the definition of a change. */
export function outcomeDiffers(before: Status, after: Status): boolean {
  const b = outcomeOf(before);
  const a = outcomeOf(after);
  return b.score !== a.score || b.grade !== a.grade || !sameIds(b.lists, a.lists) || !sameIds(b.measures, a.measures);
}

const periods = (s: Status) => [...s.lists.map((l) => `l:${l.list}:${l.since}:${l.until}`), ...s.measures.map((m) => `m:${m.measure}:${m.since}:${m.until}`)].sort();

/** The age band of a subject at an instant. */
export function ageBandOf(subject: Subject, at: Instant): AgeBand {
  if (subject.kind === "enterprise" || !subject.birthDate) return "enterprise";
  const age = ageAt(subject.birthDate, at);
  if (age < 18) return "under 18";
  if (age < 30) return "18-29";
  if (age < 45) return "30-44";
  if (age < 60) return "45-59";
  return "60+";
}

const placeName = (region: string) => regionName(region) ?? provinceName(region) ?? null;

/**
 * Evaluates every subject with records under the rulebook in force (or the `against` layers merged into it) and
 * under the draft merged the same way, at one instant, and reports the difference. Nothing is written but one
 * audit entry, `rulebook.simulated`, naming the draft's layers and hashes. Memory stays flat: one page of
 * subjects, the aggregates and the top changes (plus the changed IDs, when asked for).
 */
export async function simulate(ctx: AppContext, actor: string, draft: readonly RulebookFile[], opts: SimulateOptions = {}): Promise<SimulationResult> {
  const started = performance.now();
  const { before, after, draftLayers, againstLayers } = await rulesetsOf(ctx, draft, opts.against);
  const at = opts.at ?? ctx.clock.now();
  const acc = new Accumulator(before, after, at, opts.top ?? DEFAULT_TOP, opts.collectChanged === true);

  const pageSize = opts.pageSize ?? PAGE;
  const total = opts.progress ? (await ctx.store.counts()).subjects : 0;
  opts.progress?.(0, total);
  let cursor: string | null = null;
  for (;;) {
    const page = await ctx.store.subjectsAfter(cursor, pageSize);
    if (page.length === 0) break;
    for (const id of page) {
      const parsed = parseSubjectId(id);
      if (!parsed.ok) throw new Error(`stored subject ${id} is not a valid ID: ${parsed.reason}`);
      const records = (await ctx.store.recordsOf(id)).filter((r) => r.state === "active");
      // A subject whose every record was retracted is as if never reported: the store keeps no status for it.
      if (records.length === 0) {
        acc.allRetracted++;
        continue;
      }
      // Reviewers' decisions stand under the draft as under the rulebook in force.
      const facts = await ctx.store.caseFactsOf(id);
      acc.add(parsed.subject, evaluate(before, parsed.subject, records, at, facts).status, evaluate(after, parsed.subject, records, at, facts).status);
    }
    cursor = page[page.length - 1] as string;
    opts.progress?.(acc.evaluated + acc.allRetracted, Math.max(total, acc.evaluated + acc.allRetracted));
    // The store may answer synchronously: let other work (a server's requests) run between pages.
    await yieldToEventLoop();
  }

  const decisionId = newDecisionId();
  const report = acc.report({
    decisionId,
    draft: draftLayers.map((id) => summaryOf(after, id)),
    against: againstLayers === null ? null : againstLayers.map((id) => summaryOf(before, id)),
    unreported: unreportedBases(before, after, at),
    elapsedMs: Math.round(performance.now() - started),
  });
  await ctx.store.appendAudit([
    {
      actor,
      action: "rulebook.simulated",
      subject: null,
      decisionId,
      at: ctx.clock.now(),
      detail: {
        at: report.at,
        draft: report.draft,
        against: report.against,
        rulesetHash: { before: before.hash, after: after.hash },
        evaluated: report.subjects.evaluated,
        changed: report.subjects.changed,
        changedIdsReturned: opts.collectChanged === true,
      },
    },
  ]);
  return { report, ...(opts.collectChanged ? { changed: acc.changedIds } : {}) };
}

function summaryOf(ruleset: Ruleset, id: string): LayerSummary {
  const l = ruleset.layers.find((x) => x.id === id);
  if (!l) throw new Error(`layer ${id} is missing from its ruleset`);
  return { id: l.id, version: l.version, sha256: l.sha256 };
}

const summaries = (r: Ruleset): LayerSummary[] => r.layers.map((l) => ({ id: l.id, version: l.version, sha256: l.sha256 }));

/** Parses files; problems point at the file's place in the request (`/files/2`). */
function parseGiven(files: readonly RulebookFile[], field: string): { layers: ParsedLayer[]; problems: RulebookProblem[] } {
  const layers: ParsedLayer[] = [];
  const problems: RulebookProblem[] = [];
  const seen = new Map<string, string>();
  for (const f of files) {
    const r = parseLayer(f.file, f.text);
    problems.push(...r.problems);
    if (!r.parsed) continue;
    const also = seen.get(r.parsed.layer.id);
    if (also !== undefined) {
      problems.push({ file: f.file, line: 1, column: 1, message: `layer ${r.parsed.layer.id} is given twice in ${field} (also in ${also})` });
      continue;
    }
    seen.set(r.parsed.layer.id, f.file);
    layers.push(r.parsed);
  }
  return { layers, problems };
}

/** `base` with each given layer in place of the layer of the same id, as activation would make it. */
function merged(base: readonly ParsedLayer[], given: readonly ParsedLayer[]): ParsedLayer[] {
  const byId = new Map(base.map((p) => [p.layer.id, p] as const));
  for (const g of given) byId.set(g.layer.id, g);
  return [...byId.values()];
}

function refuse(what: string, problems: readonly RulebookProblem[], files: readonly RulebookFile[], field: string): UserError {
  const details = problems.map(formatProblem);
  const fieldProblems: FieldProblem[] = problems.map((p, i) => {
    const index = files.findIndex((f) => f.file === p.file);
    return { ...(index >= 0 ? { pointer: `/${field}/${index}` } : {}), detail: details[i] as string };
  });
  return new UserError(`${what}: ${problems.length} problem${problems.length === 1 ? "" : "s"}`, details, "invalid", fieldProblems);
}

/** The rulesets before (active, or active with `against`) and after (before with the draft), each linted whole. */
async function rulesetsOf(ctx: AppContext, draft: readonly RulebookFile[], against: readonly RulebookFile[] | undefined) {
  if (draft.length === 0) throw new UserError("no draft rulebook given: name at least one layer file");
  const d = parseGiven(draft, "the draft");
  const a = against ? parseGiven(against, "the layers to compare against") : { layers: [], problems: [] };
  if (a.problems.length > 0) throw refuse("the rulebook to compare against has problems", a.problems, against ?? [], "against");
  if (d.problems.length > 0) throw refuse("draft rulebook not simulated", d.problems, draft, "files");

  const active = (await ctx.store.activeLayers()).map((l) => {
    const { parsed, problems } = parseLayer(l.file, l.text);
    if (!parsed) throw new Error(`active layer ${l.id} no longer parses: ${problems.map((x) => x.message).join("; ")}`);
    return parsed;
  });
  if (active.length === 0 && !against) {
    throw new UserError("no rulebook is active: give the rulebook to compare against (--against FILE..., or `against` over HTTP), or activate one first", [], "conflict");
  }
  const beforeLayers = merged(active, a.layers);
  const builtBefore = buildRuleset(beforeLayers);
  if (!builtBefore.ruleset) throw refuse("the rulebook to compare against has problems", builtBefore.problems, against ?? [], "against");
  const builtAfter = buildRuleset(merged(beforeLayers, d.layers));
  if (!builtAfter.ruleset) throw refuse("draft rulebook not simulated", builtAfter.problems, draft, "files");
  return {
    before: builtBefore.ruleset,
    after: builtAfter.ruleset,
    draftLayers: d.layers.map((p) => p.layer.id),
    againstLayers: against ? a.layers.map((p) => p.layer.id) : null,
  };
}

/** One representative six-digit region code for each part of the country the layers of either ruleset treat alike. */
function representativeRegions(before: Ruleset, after: Ruleset): { regions: string; code: string }[] {
  const prefixes = [...new Set([...before.layers, ...after.layers].flatMap((l) => l.regions))].sort();
  const out = prefixes.map((p) => ({ regions: p, code: p.padEnd(6, "0") }));
  const rootOf = (r: Ruleset) => r.layers.find((l) => l.parent === undefined)?.id;
  const elsewhere = PROVINCE_CODES.map((c) => `${c}0000`).find((code) => before.jurisdictionFor(code).id === rootOf(before) && after.jurisdictionFor(code).id === rootOf(after));
  if (elsewhere !== undefined) out.push({ regions: "elsewhere", code: elsewhere });
  return out;
}

/** The status of an adult and of an enterprise without any record, in each part of the country, before and after. */
function unreportedBases(before: Ruleset, after: Ruleset, at: Instant): WhatIfReport["unreported"] {
  // Forty years old at the instant: an adult in every age band the rules could distinguish without records.
  const birthDate = `${Number(chinaDay(at).slice(0, 4)) - 40}-01-01`;
  const bases: BaseStatusChange[] = [];
  for (const { regions, code } of representativeRegions(before, after)) {
    for (const kind of ["adult", "enterprise"] as const) {
      const subject: Subject = kind === "adult" ? { id: "(no records)", kind: "person", region: code, birthDate } : { id: "(no records)", kind: "enterprise", region: code };
      const b = evaluate(before, subject, [], at).status;
      const a = evaluate(after, subject, [], at).status;
      const short = (s: Status) => ({ score: s.score, grade: s.grade, measures: s.measures.map((m) => m.measure).sort() });
      bases.push({
        regions,
        regionName: regions === "elsewhere" ? null : (placeName(code) ?? null),
        kind,
        jurisdiction: { before: b.jurisdiction, after: a.jurisdiction },
        before: short(b),
        after: short(a),
        changed: outcomeDiffers(b, a),
      });
    }
  }
  const changes = bases.filter((b) => b.changed).length;
  const note =
    "Subjects nobody ever reported on are not in the store and were not counted. They hold the base status of their jurisdiction, " +
    (changes === 0
      ? "which the draft does not change: the draft changes none of them."
      : `which the draft changes in ${changes} case${changes === 1 ? "" : "s"} listed here; how many people and enterprises that touches is not known to the system.`) +
    " A minor without records has the base score and no grade, lists or measures.";
  return { note, changes, bases };
}

/** The bounded list of the subjects who change most, best first. */
class TopChanges {
  readonly items: { rank: [number, number, string]; entry: TopChange }[] = [];
  constructor(private readonly size: number) {}

  private static better(a: [number, number, string], b: [number, number, string]): boolean {
    return a[0] !== b[0] ? a[0] > b[0] : a[1] !== b[1] ? a[1] > b[1] : a[2] < b[2];
  }

  /** Offers a candidate; the entry is made only if it ranks. */
  offer(rank: [number, number, string], make: () => TopChange): void {
    if (this.size <= 0) return;
    const last = this.items[this.items.length - 1];
    if (this.items.length >= this.size && last && !TopChanges.better(rank, last.rank)) return;
    let i = this.items.length;
    while (i > 0 && TopChanges.better(rank, (this.items[i - 1] as { rank: [number, number, string] }).rank)) i--;
    this.items.splice(i, 0, { rank, entry: make() });
    if (this.items.length > this.size) this.items.pop();
  }
}

const emptyRow = (): BreakdownRow => ({ evaluated: 0, changed: 0, scoreUp: 0, scoreDown: 0 });

class Accumulator {
  evaluated = 0;
  changed = 0;
  periodsOnly = 0;
  allRetracted = 0;
  up = 0;
  down = 0;
  sumBefore = 0;
  sumAfter = 0;
  readonly changedIds: string[] = [];
  private readonly grades = new Map<string, Map<string, number>>();
  private readonly lists = new Map<string, { before: number; after: number; entered: number; left: number }>();
  private readonly measures = new Map<string, { before: number; after: number; entered: number; left: number }>();
  private readonly regions = new Map<string, BreakdownRow>();
  private readonly bands = new Map<AgeBand, BreakdownRow>(AGE_BANDS.map((b) => [b, emptyRow()]));
  private readonly kinds = new Map<SubjectKind, BreakdownRow>([
    ["person", emptyRow()],
    ["enterprise", emptyRow()],
  ]);
  private readonly top: TopChanges;

  constructor(
    private readonly before: Ruleset,
    private readonly after: Ruleset,
    private readonly at: Instant,
    top: number,
    private readonly collect: boolean,
  ) {
    this.top = new TopChanges(top);
    for (const id of new Set([...before.lists.keys(), ...after.lists.keys()])) this.lists.set(id, { before: 0, after: 0, entered: 0, left: 0 });
    for (const id of new Set([...before.measures.keys(), ...after.measures.keys()])) this.measures.set(id, { before: 0, after: 0, entered: 0, left: 0 });
  }

  add(subject: Subject, b: Status, a: Status): void {
    this.evaluated++;
    this.sumBefore += b.score;
    this.sumAfter += a.score;
    const gb = b.grade ?? NO_GRADE;
    const ga = a.grade ?? NO_GRADE;
    const row = this.grades.get(gb) ?? new Map<string, number>();
    row.set(ga, (row.get(ga) ?? 0) + 1);
    this.grades.set(gb, row);

    const ob = outcomeOf(b);
    const oa = outcomeOf(a);
    const lists = tally(this.lists, ob.lists, oa.lists);
    const measures = tally(this.measures, ob.measures, oa.measures);

    const changed = ob.score !== oa.score || ob.grade !== oa.grade || lists.moved > 0 || measures.moved > 0;
    const band = ageBandOf(subject, this.at);
    let regionRow = this.regions.get(subject.region);
    if (!regionRow) this.regions.set(subject.region, (regionRow = emptyRow()));
    const rows = [regionRow, this.bands.get(band) as BreakdownRow, this.kinds.get(subject.kind) as BreakdownRow];
    for (const r of rows) r.evaluated++;
    if (!changed) {
      if (!sameIds(periods(b), periods(a))) this.periodsOnly++;
      return;
    }
    this.changed++;
    if (this.collect) this.changedIds.push(subject.id);
    const delta = oa.score - ob.score;
    if (delta > 0) this.up++;
    if (delta < 0) this.down++;
    for (const r of rows) {
      r.changed++;
      if (delta > 0) r.scoreUp++;
      if (delta < 0) r.scoreDown++;
    }
    this.top.offer([Math.abs(delta), lists.moved + measures.moved, subject.id], () => ({
      subject: maskSubjectId(subject.id),
      kind: subject.kind,
      region: subject.region,
      regionName: placeName(subject.region),
      ageBand: band,
      score: { before: ob.score, after: oa.score, change: delta },
      grade: { before: ob.grade, after: oa.grade },
      lists: { entered: lists.entered, left: lists.left },
      measures: { entered: measures.entered, left: measures.left },
    }));
  }

  report(rest: Pick<WhatIfReport, "decisionId" | "draft" | "against" | "unreported" | "elapsedMs">): WhatIfReport {
    const labels = this.gradeLabels();
    const matrix = labels.map((from) => labels.map((to) => this.grades.get(from)?.get(to) ?? 0));
    const named = (m: Map<string, { before: number; after: number; entered: number; left: number }>, find: (id: string) => { name: string; kind: string } | undefined) =>
      [...m].map(([id, c]) => ({ id, name: find(id)?.name ?? id, kind: find(id)?.kind ?? "", ...c })).sort((x, y) => x.id.localeCompare(y.id));
    return {
      decisionId: rest.decisionId,
      at: formatInstant(this.at),
      draft: rest.draft,
      against: rest.against,
      before: { rulesetHash: this.before.hash, layers: summaries(this.before) },
      after: { rulesetHash: this.after.hash, layers: summaries(this.after) },
      subjects: { evaluated: this.evaluated, changed: this.changed, unchanged: this.evaluated - this.changed, periodsOnly: this.periodsOnly, allRetracted: this.allRetracted },
      score: {
        meanBefore: this.evaluated === 0 ? null : round2(this.sumBefore / this.evaluated),
        meanAfter: this.evaluated === 0 ? null : round2(this.sumAfter / this.evaluated),
        up: this.up,
        down: this.down,
      },
      grades: { labels, matrix },
      lists: named(this.lists, (id) => this.after.lists.get(id) ?? this.before.lists.get(id)),
      measures: named(this.measures, (id) => this.after.measures.get(id) ?? this.before.measures.get(id)),
      breakdown: {
        region: [...this.regions]
          .map(([code, r]) => ({ code, name: placeName(code), ...r }))
          .sort((x, y) => y.changed - x.changed || y.evaluated - x.evaluated || x.code.localeCompare(y.code)),
        ageBand: AGE_BANDS.map((band) => ({ band, ...(this.bands.get(band) as BreakdownRow) })),
        kind: (["person", "enterprise"] as const).map((kind) => ({ kind, ...(this.kinds.get(kind) as BreakdownRow) })),
      },
      top: this.top.items.map((t) => t.entry),
      unreported: rest.unreported,
      elapsedMs: rest.elapsedMs,
    };
  }

  /** Every grade either rulebook declares, in their order (highest first, jurisdiction by jurisdiction), then "none". */
  private gradeLabels(): string[] {
    const labels = new Set<string>();
    for (const r of [this.before, this.after]) {
      for (const { code } of representativeRegions(this.before, this.after)) for (const g of r.jurisdictionFor(code).grades) labels.add(g.id);
    }
    // A grade only a subject shows (a jurisdiction no representative region reaches) still gets its row.
    const seen = [...this.grades].flatMap(([from, row]) => [from, ...row.keys()]);
    for (const g of seen.filter((x) => x !== NO_GRADE && !labels.has(x)).sort()) labels.add(g);
    labels.add(NO_GRADE);
    return [...labels];
  }
}

/** Counts memberships before and after, and what one subject entered and left. */
function tally(counts: Map<string, { before: number; after: number; entered: number; left: number }>, before: readonly string[], after: readonly string[]) {
  const entered = after.filter((x) => !before.includes(x));
  const left = before.filter((x) => !after.includes(x));
  const at = (id: string) => {
    let c = counts.get(id);
    if (!c) counts.set(id, (c = { before: 0, after: 0, entered: 0, left: 0 }));
    return c;
  };
  for (const id of before) at(id).before++;
  for (const id of after) at(id).after++;
  for (const id of entered) at(id).entered++;
  for (const id of left) at(id).left++;
  return { entered, left, moved: entered.length + left.length };
}

const round2 = (x: number) => Math.round(x * 100) / 100;
