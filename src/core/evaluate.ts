// The pure evaluation of one subject: its records under the ruleset, at an instant, into a status with its explanation.
import type { CelInput } from "./rulebook/cel.js";
import type { CompiledList, Jurisdiction, Ruleset } from "./rulebook/ruleset.js";
import type { RecordFact } from "./record.js";
import type { Subject } from "./subject-id.js";
import { addDuration, anniversary, chinaDay, formatInstant, type Instant } from "./time.js";

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
  state: "in-force" | "ended" | "pending";
  /** The record whose exit condition ended a list entry early. */
  endedBy?: { record: string; legalBasis: string };
  legalBasis: string[];
}

export interface ListMembership {
  list: string;
  name: string;
  kind: string;
  since: string;
  until: string;
  records: string[];
  legalBasis: string[];
}

export interface MeasureApplication {
  measure: string;
  name: string;
  kind: "sanction" | "reward";
  trigger: { list: string } | { grade: string };
  since: string | null;
  until: string | null;
  records: string[];
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
  endedBy?: { record: string; legalBasis: string };
}

/** Evaluates one subject's current records at an instant. Pure: same inputs, same status. */
export function evaluate(ruleset: Ruleset, subject: Subject, records: readonly RecordFact[], at: Instant): Evaluation {
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
        effects.push({ record: r, rule: rule.id, ruleBasis: rule.legalBasis, kind: "list", points: 0, list, key: keyOf(e.key?.run(input)), from: r.occurredAt, until });
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
      if (e.kind === "list" && e.list?.id === x.list && e.from <= x.at && x.at < e.until && (x.key === null || x.key === e.key)) {
        e.until = x.at;
        e.endedBy = { record: x.record, legalBasis: x.legalBasis };
      }
    }
  }

  const boundaries = boundaryInstants(effects, adultFrom);
  const isMinorAt = (t: Instant) => adultFrom !== null && t < adultFrom;
  const scoreAt = (t: Instant) => {
    let s = j.scoring.base;
    for (const e of effects) if (e.kind === "points" && e.from <= t && t < e.until) s += e.points;
    return Math.min(j.scoring.max, Math.max(j.scoring.min, s));
  };
  const gradeAt = (t: Instant) => (isMinorAt(t) ? null : gradeOf(j, scoreAt(t)));

  const minor = isMinorAt(at);
  const score = scoreAt(at);
  const grade = gradeAt(at);
  const lists = minor ? [] : memberships(effects, at);
  const pointsInForce = effects.filter((e) => e.kind === "points" && e.from <= at && at < e.until);
  const measures = minor ? [] : applications(j, subject, lists, grade, pointsInForce, at, boundaries, gradeAt);
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
    nextChangeAt: validUntil === null ? null : formatInstant(validUntil),
    effects: effects.map((e) => explain(e, at)),
    excluded,
  };
  return { status, validFrom, validUntil };
}

function celInput(r: RecordFact, subject: Subject): CelInput {
  return {
    record: { source: r.source, category: r.category, occurredAt: formatInstant(r.occurredAt), attributes: r.attributes },
    subject: { kind: subject.kind, age: subject.birthDate ? ageAt(subject.birthDate, r.occurredAt) : 0 },
  };
}

/** Whole years of age at an instant. */
export function ageAt(birthDate: string, at: Instant): number {
  const born = Number(birthDate.slice(0, 4));
  let age = Number(chinaDay(at).slice(0, 4)) - born;
  if (anniversary(birthDate, age) > at) age -= 1;
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
function memberships(effects: readonly Effect[], at: Instant): ListMembership[] {
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
    out.push({
      list: id,
      name: list.name,
      kind: list.kind,
      since: formatInstant(since),
      until: formatInstant(until),
      records: unique(current.map((e) => e.record.id)),
      legalBasis: unique([list.legalBasis, ...current.map((e) => e.ruleBasis)]),
    });
  }
  return out;
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
): MeasureApplication[] {
  const out: MeasureApplication[] = [];
  for (const m of j.measures.values()) {
    if (!m.subjects.includes(subject.kind)) continue;
    const base = { measure: m.id, name: m.name, kind: m.kind };
    if ("list" in m.trigger) {
      const listId = m.trigger.list;
      const membership = lists.find((l) => l.list === listId);
      if (!membership) continue;
      out.push({ ...base, trigger: { list: listId }, since: membership.since, until: membership.until, records: membership.records, legalBasis: unique([m.legalBasis, ...membership.legalBasis]) });
    } else if (grade !== null && m.trigger.grades.includes(grade)) {
      const bands = new Set(m.trigger.grades);
      const span = gradeSpan(boundaries, at, (t) => {
        const g = gradeAt(t);
        return g !== null && bands.has(g);
      });
      // A grade is the work of every points effect in force: those records and rules are the reasons.
      out.push({
        ...base,
        trigger: { grade },
        since: span.since === null ? null : formatInstant(span.since),
        until: span.until === null ? null : formatInstant(span.until),
        records: unique(pointsInForce.map((e) => e.record.id)),
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

function explain(e: Effect, at: Instant): EffectExplanation {
  const state = at < e.from ? "pending" : at < e.until ? "in-force" : "ended";
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
    legalBasis: e.kind === "list" && e.list ? unique([e.ruleBasis, e.list.legalBasis]) : [e.ruleBasis],
  };
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}
