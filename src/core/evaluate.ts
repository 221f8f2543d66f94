// The pure evaluation of one subject: its records under the ruleset, at an instant, into a status with its explanation.
import type { CelInput } from "./rulebook/cel.js";
import type { CompiledList, Jurisdiction, Ruleset } from "./rulebook/ruleset.js";
import type { RecordFact } from "./record.js";
import { sha256 } from "./sha256.js";
import type { Subject } from "./subject-id.js";
import type { Tier } from "./tiers.js";
import { addDuration, anniversary, chinaDay, formatInstant, type Instant } from "./time.js";

/**
 * What reviewers decided about a subject. Like records, these are inputs of the evaluation, never its side effects,
 * so a status is still a pure function of what is stored.
 */
export interface CaseFacts {
  /** Decided sign-offs, by entry id: approved entries apply from the approval on; rejected ones never. */
  signOffs: ReadonlyMap<string, { approved: boolean; at: Instant }>;
  /** Granted restorations: every entry of the list in force at `at` ends there. */
  restorations: readonly { id: string; list: string; at: Instant; legalBasis: string }[];
  /** Records under an objection not yet decided. */
  disputed: ReadonlySet<string>;
}

/** No decisions at all: a subject nobody reviewed. */
export const NO_CASE: CaseFacts = { signOffs: new Map(), restorations: [], disputed: new Set() };

/** The stable id of one list entry a rule gives a record: what a reviewer signs off. */
export function entryId(record: string, rule: string, list: string): string {
  return sha256(`${record}\n${rule}\n${list}`).slice(0, 24);
}

export const AGE_OF_MAJORITY = 18;

/** One effect a rule gave a record, and where it stands at the evaluation instant. */
export interface EffectExplanation {
  record: string;
  category: string;
  occurredAt: string;
  rule: string;
  kind: "points" | "list";
  points?: number;
  list?: string;
  from: string;
  until: string;
  /** pending: starts later; awaiting-sign-off: waits for a reviewer; rejected: a reviewer refused it. */
  state: "in-force" | "ended" | "pending" | "awaiting-sign-off" | "rejected";
  /** What ended a list entry early: a record meeting an exit condition, or a granted restoration. */
  endedBy?: { record: string; legalBasis: string } | { restoration: string; legalBasis: string };
  /** The record is under an objection not yet decided. */
  disputed?: true;
  legalBasis: string[];
}

/** A list entry that applies only once a reviewer approves it. */
export interface AwaitingSignOff {
  entry: string;
  list: string;
  tier: Tier | null;
  record: string;
  rule: string;
  from: string;
  until: string;
  legalBasis: string[];
}

export interface ListMembership {
  list: string;
  name: string;
  kind: string;
  tier: Tier | null;
  since: string;
  until: string;
  /** Until when the entry is shown in the published list; null when the list is never published. */
  publishedUntil: string | null;
  records: string[];
  /** Those of `records` under an objection not yet decided. */
  disputed?: string[];
  legalBasis: string[];
}

export interface MeasureApplication {
  measure: string;
  name: string;
  kind: "sanction" | "reward";
  tier: Tier | null;
  trigger: { list: string } | { grade: string };
  since: string | null;
  until: string | null;
  records: string[];
  /** Those of `records` under an objection not yet decided. */
  disputed?: string[];
  legalBasis: string[];
}

/** The materialised result for one subject at one instant. */
export interface Status {
  subject: string;
  kind: Subject["kind"];
  region: string;
  jurisdiction: string;
  at: string;
  rulesetHash: string;
  /** Persons under 18: no grade, lists or measures, whatever their records. */
  minor: boolean;
  score: number;
  grade: string | null;
  lists: ListMembership[];
  measures: MeasureApplication[];
  /** List entries that wait for a reviewer's approval and would be in force now. */
  awaitingSignOff: AwaitingSignOff[];
  /** When the status next changes by itself (an effect starts or ends, a person comes of age); null if never. */
  nextChangeAt: string | null;
  effects: EffectExplanation[];
  /** Records that gave no effect because they date from before the person turned 18. */
  excluded: { record: string; reason: string }[];
}

/** A status plus the interval of instants over which it holds unchanged. */
export interface Evaluation {
  status: Status;
  validFrom: Instant | null;
  validUntil: Instant | null;
}

interface Effect {
  record: RecordFact;
  rule: string;
  ruleBasis: string;
  kind: "points" | "list";
  points: number;
  list?: CompiledList;
  key: string | null;
  from: Instant;
  until: Instant;
  endedBy?: EffectExplanation["endedBy"];
  /** Set when the entry waits for sign-off or was refused it: it gives nothing. */
  held?: "awaiting-sign-off" | "rejected";
  entry?: string;
  /** When a reviewer approved the entry: it starts there, once exits and restorations have cut its term. */
  approvedAt?: Instant;
}

/** How much of a status to work out. */
export interface EvaluateOptions {
  /**
   * false leaves `effects` empty: for statuses on their way to storage, which keeps no explanation and re-derives it
   * on read. Explaining every effect is a good part of an evaluation's cost.
   */
  explain?: boolean;
}

/** Evaluates one subject's current records at an instant. Pure: same inputs, same status. */
export function evaluate(ruleset: Ruleset, subject: Subject, records: readonly RecordFact[], at: Instant, facts: CaseFacts = NO_CASE, options: EvaluateOptions = {}): Evaluation {
  const j = ruleset.jurisdictionFor(subject.region);
  const adultFrom = subject.kind === "person" && subject.birthDate ? anniversary(subject.birthDate, AGE_OF_MAJORITY) : null;
  // Sorting makes every later step independent of the order records arrived in.
  const sorted = [...records].sort((a, b) => a.occurredAt - b.occurredAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  const effects: Effect[] = [];
  const exits: { at: Instant; list: string; key: string | null; record: string; legalBasis: string }[] = [];
  const excluded: Status["excluded"] = [];
  for (const r of sorted) {
    if (adultFrom !== null && r.occurredAt < adultFrom) {
      excluded.push({ record: r.id, reason: "the subject was under 18 when it occurred; records of minors never give effects" });
      continue;
    }
    const rules = j.rulesByCategory.get(r.category);
    const exitConditions = j.exitsByCategory.get(r.category);
    if (!rules && !exitConditions) continue;
    const input = celInput(r, subject);
    for (const rule of rules ?? []) {
      if (rule.when && rule.when.run(input) !== true) continue;
      for (const e of rule.effects) {
        if (e.kind === "points") {
          effects.push({ record: r, rule: rule.id, ruleBasis: rule.legalBasis, kind: "points", points: e.points, key: null, from: r.occurredAt, until: addDuration(r.occurredAt, e.duration) });
          continue;
        }
        const list = j.lists.get(e.list) as CompiledList;
        const extra = e.extension ? clampYears(e.extension.years.run(input), e.extension.maxYears) : 0;
        const until = Math.min(
          addDuration(r.occurredAt, { ...e.duration, years: e.duration.years + extra }),
          addDuration(r.occurredAt, list.maxTerm),
        );
        const effect: Effect = { record: r, rule: rule.id, ruleBasis: rule.legalBasis, kind: "list", points: 0, list, key: keyOf(e.key?.run(input)), from: r.occurredAt, until };
        if (list.signOff) signOff(effect, facts);
        effects.push(effect);
      }
    }
    for (const exit of exitConditions ?? []) {
      if (exit.when && exit.when.run(input) !== true) continue;
      const key = exit.key ? keyOf(exit.key.run(input)) : null;
      // A keyed exit without a key value names no entry; it must not end them all.
      if (exit.key && key === null) continue;
      exits.push({ at: r.occurredAt, list: exit.list, key, record: r.id, legalBasis: exit.legalBasis });
    }
  }
  // An exit ends the entries of its list that had begun and not yet ended, with the same key when it has one.
  for (const x of exits) {
    for (const e of effects) {
      if (e.kind === "list" && e.held !== "rejected" && e.list?.id === x.list && e.from <= x.at && x.at < e.until && (x.key === null || x.key === e.key)) {
        e.until = x.at;
        e.endedBy = { record: x.record, legalBasis: x.legalBasis };
      }
    }
  }
  // A granted restoration ends at once every entry of its list then in force, whatever its key.
  for (const r of facts.restorations) {
    for (const e of effects) {
      if (e.kind === "list" && e.held !== "rejected" && e.list?.id === r.list && e.from <= r.at && r.at < e.until) {
        e.until = r.at;
        e.endedBy = { restoration: r.id, legalBasis: r.legalBasis };
      }
    }
  }
  // Exits and restorations cut the term the record gave, whether or not a reviewer had approved the entry by then;
  // only now does an approval move the start. So a later approval never keeps anyone on a list an earlier one would not.
  for (const e of effects) if (e.approvedAt !== undefined) e.from = Math.min(Math.max(e.from, e.approvedAt), e.until);

  const waiting = effects.filter((e) => e.held === "awaiting-sign-off");
  const awaitingSignOff: AwaitingSignOff[] = waiting
    .filter((e) => e.from <= at && at < e.until && (adultFrom === null || at >= adultFrom))
    .map((e) => ({
      entry: e.entry as string,
      list: e.list?.id as string,
      tier: e.list?.tier ?? null,
      record: e.record.id,
      rule: e.rule,
      from: formatInstant(e.from),
      until: formatInstant(e.until),
      legalBasis: unique([e.ruleBasis, (e.list as CompiledList).legalBasis]),
    }));
  const live = effects.filter((e) => !e.held);
  // Entries awaiting sign-off count as boundaries too: the status changes when one starts or lapses.
  const boundaries = boundaryInstants([...live, ...waiting], adultFrom);
  const isMinorAt = (t: Instant) => adultFrom !== null && t < adultFrom;
  const scoreAt = (t: Instant) => {
    let s = j.scoring.base;
    for (const e of live) if (e.kind === "points" && e.from <= t && t < e.until) s += e.points;
    return Math.min(j.scoring.max, Math.max(j.scoring.min, s));
  };
  const gradeAt = (t: Instant) => (isMinorAt(t) ? null : gradeOf(j, scoreAt(t)));

  const minor = isMinorAt(at);
  const score = scoreAt(at);
  const grade = gradeAt(at);
  const lists = minor ? [] : memberships(live, at, facts.disputed);
  const pointsInForce = live.filter((e) => e.kind === "points" && e.from <= at && at < e.until);
  const measures = minor ? [] : applications(j, subject, lists, grade, pointsInForce, at, boundaries, gradeAt, facts.disputed);
  const validFrom = lastAtOrBefore(boundaries, at);
  const validUntil = firstAfter(boundaries, at);

  const status: Status = {
    subject: subject.id,
    kind: subject.kind,
    region: subject.region,
    jurisdiction: j.id,
    at: formatInstant(at),
    rulesetHash: ruleset.hash,
    minor,
    score,
    grade,
    lists,
    measures,
    awaitingSignOff,
    nextChangeAt: validUntil === null ? null : formatInstant(validUntil),
    effects: options.explain === false ? [] : effects.map((e) => explain(e, at, facts.disputed)),
    excluded,
  };
  return { status, validFrom, validUntil };
}

/** Holds a list entry that needs sign-off until it is approved; an approved one starts at the approval (applied later), never ends later. */
function signOff(e: Effect, facts: CaseFacts): void {
  e.entry = entryId(e.record.id, e.rule, (e.list as CompiledList).id);
  const decision = facts.signOffs.get(e.entry);
  if (!decision) e.held = "awaiting-sign-off";
  else if (!decision.approved) e.held = "rejected";
  // The term still counts from the record: waiting for a reviewer never lengthens anyone's stay.
  else e.approvedAt = decision.at;
}

/** What a rule's condition sees of a record and its subject. */
export function celInput(r: RecordFact, subject: Subject): CelInput {
  return {
    record: { source: r.source, category: r.category, occurredAt: formatInstant(r.occurredAt), attributes: r.attributes },
    subject: { kind: subject.kind, age: subject.birthDate ? ageAt(subject.birthDate, r.occurredAt) : 0 },
  };
}

/**
 * Whole years of age at an instant, on China Standard Time's calendar: the years between the birth date and that day,
 * less one until this year's birthday. Comparing "MM-DD" strings puts a 29 February birthday on 1 March in common
 * years, as `anniversary` does, without computing an instant for every record.
 */
export function ageAt(birthDate: string, at: Instant): number {
  const day = chinaDay(at);
  const age = Number(day.slice(0, 4)) - Number(birthDate.slice(0, 4)) - (day.slice(5) < birthDate.slice(5) ? 1 : 0);
  return Math.max(0, age);
}

function keyOf(value: unknown): string | null {
  return typeof value === "string" || typeof value === "number" ? String(value) : null;
}

function clampYears(value: unknown, max: number): number {
  const n = typeof value === "number" ? Math.floor(value) : 0;
  return Number.isFinite(n) ? Math.min(max, Math.max(0, n)) : 0;
}

function gradeOf(j: Jurisdiction, score: number): string | null {
  for (const g of j.grades) if (score >= g.min) return g.id;
  return null;
}

function boundaryInstants(effects: readonly Effect[], adultFrom: Instant | null): Instant[] {
  const set = new Set<Instant>();
  for (const e of effects) {
    // An entry ended at its own start still turns from pending to ended there.
    set.add(e.from);
    if (e.until > e.from) set.add(e.until);
  }
  if (adultFrom !== null) set.add(adultFrom);
  return [...set].sort((a, b) => a - b);
}

function lastAtOrBefore(sorted: readonly Instant[], t: Instant): Instant | null {
  let found: Instant | null = null;
  for (const b of sorted) {
    if (b > t) break;
    found = b;
  }
  return found;
}

function firstAfter(sorted: readonly Instant[], t: Instant): Instant | null {
  for (const b of sorted) if (b > t) return b;
  return null;
}

/** The lists the subject is on at `at`, each with the span of overlapping entries around it. */
function memberships(effects: readonly Effect[], at: Instant, disputed: ReadonlySet<string>): ListMembership[] {
  const byList = new Map<string, Effect[]>();
  for (const e of effects) {
    if (e.kind !== "list" || !e.list || e.until <= e.from) continue;
    const l = byList.get(e.list.id) ?? [];
    l.push(e);
    byList.set(e.list.id, l);
  }
  const out: ListMembership[] = [];
  for (const [id, entries] of [...byList].sort(([a], [b]) => a.localeCompare(b))) {
    const current = entries.filter((e) => e.from <= at && at < e.until);
    if (current.length === 0) continue;
    // Extend backwards and forwards over entries that touch or overlap, so since/until describe one continuous stay.
    let since = Math.min(...current.map((e) => e.from));
    let until = Math.max(...current.map((e) => e.until));
    let grown = true;
    const span = new Set(current);
    while (grown) {
      grown = false;
      for (const e of entries) {
        if (!span.has(e) && e.from <= until && e.until >= since) {
          span.add(e);
          since = Math.min(since, e.from);
          until = Math.max(until, e.until);
          grown = true;
        }
      }
    }
    const list = current[0]?.list as CompiledList;
    const records = unique(current.map((e) => e.record.id));
    out.push({
      list: id,
      name: list.name,
      kind: list.kind,
      tier: list.tier,
      since: formatInstant(since),
      until: formatInstant(until),
      publishedUntil: list.public ? formatInstant(Math.min(until, addDuration(since, list.publication))) : null,
      records,
      ...disputedOf(records, disputed),
      legalBasis: unique([list.legalBasis, ...current.map((e) => e.ruleBasis)]),
    });
  }
  return out;
}

/** The disputed ones among some records, as an optional field: absent when none is. */
function disputedOf(records: readonly string[], disputed: ReadonlySet<string>): { disputed?: string[] } {
  if (disputed.size === 0) return {};
  const d = records.filter((r) => disputed.has(r));
  return d.length > 0 ? { disputed: d } : {};
}

function applications(
  j: Jurisdiction,
  subject: Subject,
  lists: readonly ListMembership[],
  grade: string | null,
  pointsInForce: readonly Effect[],
  at: Instant,
  boundaries: readonly Instant[],
  gradeAt: (t: Instant) => string | null,
  disputed: ReadonlySet<string>,
): MeasureApplication[] {
  const out: MeasureApplication[] = [];
  for (const m of j.measures.values()) {
    if (!m.subjects.includes(subject.kind)) continue;
    const base = { measure: m.id, name: m.name, kind: m.kind, tier: m.tier };
    if ("list" in m.trigger) {
      const listId = m.trigger.list;
      const membership = lists.find((l) => l.list === listId);
      if (!membership) continue;
      out.push({
        ...base,
        trigger: { list: listId },
        since: membership.since,
        until: membership.until,
        records: membership.records,
        ...(membership.disputed ? { disputed: membership.disputed } : {}),
        legalBasis: unique([m.legalBasis, ...membership.legalBasis]),
      });
    } else if (grade !== null && m.trigger.grades.includes(grade)) {
      const bands = new Set(m.trigger.grades);
      const span = gradeSpan(boundaries, at, (t) => {
        const g = gradeAt(t);
        return g !== null && bands.has(g);
      });
      // A grade is the work of every points effect in force: those records and rules are the reasons.
      const records = unique(pointsInForce.map((e) => e.record.id));
      out.push({
        ...base,
        trigger: { grade },
        since: span.since === null ? null : formatInstant(span.since),
        until: span.until === null ? null : formatInstant(span.until),
        records,
        ...disputedOf(records, disputed),
        legalBasis: unique([m.legalBasis, ...pointsInForce.map((e) => e.ruleBasis)]),
      });
    }
  }
  return out.sort((a, b) => a.measure.localeCompare(b.measure));
}

/** The stretch of time around `at` during which `holds` stays true, from segment to segment between boundaries. */
function gradeSpan(boundaries: readonly Instant[], at: Instant, holds: (t: Instant) => boolean): { since: Instant | null; until: Instant | null } {
  let i = -1;
  for (let k = 0; k < boundaries.length && (boundaries[k] as Instant) <= at; k++) i = k;
  let since: Instant | null = i >= 0 ? (boundaries[i] as Instant) : null;
  for (let k = i - 1; k >= -1 && since !== null; k--) {
    const segmentStart = k >= 0 ? (boundaries[k] as Instant) : Number.NEGATIVE_INFINITY;
    if (!holds(k >= 0 ? segmentStart : (boundaries[0] as Instant) - 1)) break;
    since = k >= 0 ? segmentStart : null;
  }
  let until: Instant | null = null;
  for (let k = i + 1; k < boundaries.length; k++) {
    const b = boundaries[k] as Instant;
    if (!holds(b)) {
      until = b;
      break;
    }
  }
  return { since, until };
}

function explain(e: Effect, at: Instant, disputed: ReadonlySet<string>): EffectExplanation {
  const state = e.held ?? (at < e.from ? "pending" : at < e.until ? "in-force" : "ended");
  return {
    record: e.record.id,
    category: e.record.category,
    occurredAt: formatInstant(e.record.occurredAt),
    rule: e.rule,
    kind: e.kind,
    ...(e.kind === "points" ? { points: e.points } : { list: e.list?.id }),
    from: formatInstant(e.from),
    until: formatInstant(e.until),
    state,
    ...(e.endedBy ? { endedBy: e.endedBy } : {}),
    ...(disputed.has(e.record.id) ? { disputed: true as const } : {}),
    legalBasis: e.kind === "list" && e.list ? unique([e.ruleBasis, e.list.legalBasis]) : [e.ruleBasis],
  };
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}
