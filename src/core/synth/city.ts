// The synthetic city itself: people and enterprises with their records, yielded one subject at a time so memory stays flat.
import type { SubjectKind } from "../subject-id.js";
import type { Instant } from "../time.js";
import { Calendar, dayOf } from "./calendar.js";
import { creditCode, ResidentIds } from "./ids.js";
import { enterpriseName, personName } from "./names.js";
import { MALE_SHARE, MAX_AGE_DAYS, sampleAgeDays } from "./population.js";
import { Random, Weighted, mix32 } from "./random.js";
import { Numbering, type CityPlan, type Draw, type RecordInput, type Stream } from "./streams.js";
import type { Place } from "./places.js";

/** One generated subject: who it is, what its registry calls it, and the records agencies report about it. */
export interface SynthSubject {
  kind: SubjectKind;
  id: string;
  name: string;
  region: string;
  /** Persons: YYYY-MM-DD. */
  birthDate?: string;
  /** Persons under 18 at the generation instant. */
  minor: boolean;
  /** The subject's records, in date order; shared and empty for most subjects, never to be modified. */
  records: readonly RecordInput[];
}

export interface CityOptions {
  people: number;
  enterprises: number;
  /** Records are dated within this many years before `at`. */
  years: number;
  seed: number;
  /** The generation instant: nothing is dated after it. */
  at: Instant;
}

const DAYS_PER_YEAR = 365.2425;
const NO_RECORDS: readonly RecordInput[] = Object.freeze([]);
/** Enterprises' ages: exponential with this mean, in years, at most ENTERPRISE_MAX_AGE. */
const ENTERPRISE_MEAN_AGE = 9;
const ENTERPRISE_MAX_AGE = 40;
/** Codes were unified on 1 October 2015 (Guo Fa [2015] No. 33); enterprises registered since carry "MA" organisation codes. */
const UNIFIED_CODES_FROM = dayOf(Date.parse("2015-10-01T00:00:00+08:00"));

/** Independent random streams: changing the rates changes records, never who lives in the city. */
const StreamId = { People: 0, Enterprises: 1, PersonRecords: 2, EnterpriseRecords: 3 } as const;

/**
 * Generates a city lazily: each `next()` makes one subject (people first, then enterprises) and nothing is kept of it
 * afterwards, so a city of 22 million takes the memory of a city of a thousand. The same plan, options and seed give
 * the same subjects, names and records in the same order.
 */
export function* synthesize(plan: CityPlan, opts: CityOptions): Generator<SynthSubject, void, undefined> {
  const calendar = new Calendar();
  const today = dayOf(opts.at);
  const startDay = calendar.anniversaryDay(today, -opts.years);
  const numbers = new Numbering();
  const placeTable = new Weighted<number>(plan.places.map((p, i) => [i, p.weight] as const));
  const compact = (d: number) => calendar.compactDate(d);

  // A margin of a year before the oldest birth day leaves room for over-full days to move back.
  const ids = new ResidentIds(plan.places.map((p) => p.code), today - MAX_AGE_DAYS - 366, today);
  const who = new Random(opts.seed, StreamId.People);
  const what = new Random(opts.seed, StreamId.PersonRecords);
  for (let i = 0; i < opts.people; i++) {
    const placeIndex = placeTable.index(who);
    const place = plan.places[placeIndex] as Place;
    const male = who.chance(MALE_SHARE);
    const wanted = today - sampleAgeDays(who);
    const { id, birthDay } = ids.allocate(placeIndex, wanted, male, compact);
    const name = personName(who, male);
    const adultDay = calendar.anniversaryDay(birthDay, 18);
    const streams = plan.personStreams[placeIndex] as readonly Stream[];
    let records: RecordInput[] | undefined;
    for (const s of streams) {
      const [minAge, maxAge] = s.model.ages;
      const from = Math.max(startDay, minAge === 0 ? birthDay : calendar.anniversaryDay(birthDay, minAge));
      const to = maxAge >= 100 ? today : Math.min(today, calendar.anniversaryDay(birthDay, maxAge + 1) - 1);
      if (from > to) continue;
      // Under 18 at the minor rate, then at the adult rate.
      if (from < adultDay && s.rate.minor > 0) records = occurrences(what, s, s.rate.person * s.rate.minor, from, Math.min(to, adultDay - 1), "person", id, place, today, calendar, numbers, records);
      if (to >= adultDay) records = occurrences(what, s, s.rate.person, Math.max(from, adultDay), to, "person", id, place, today, calendar, numbers, records);
    }
    if (records && records.length > 1) records.sort(byDate);
    yield { kind: "person", id, name, region: place.code, birthDate: calendar.isoDate(birthDay), minor: adultDay > today, records: records ?? NO_RECORDS };
  }

  const firms = new Random(opts.seed, StreamId.Enterprises);
  const dealings = new Random(opts.seed, StreamId.EnterpriseRecords);
  const salt = mix32(opts.seed, 0x5eed);
  for (let i = 0; i < opts.enterprises; i++) {
    const placeIndex = placeTable.index(firms);
    const place = plan.places[placeIndex] as Place;
    const registered = today - Math.floor(Math.min(firms.exponential(ENTERPRISE_MEAN_AGE), ENTERPRISE_MAX_AGE) * DAYS_PER_YEAR);
    const id = creditCode(i, place.code, registered >= UNIFIED_CODES_FROM, salt);
    const name = enterpriseName(firms, place.city);
    let records: RecordInput[] | undefined;
    for (const s of plan.enterpriseStreams[placeIndex] as readonly Stream[]) {
      records = occurrences(dealings, s, s.rate.enterprise, Math.max(startDay, registered), today, "enterprise", id, place, today, calendar, numbers, records);
    }
    if (records && records.length > 1) records.sort(byDate);
    yield { kind: "enterprise", id, name, region: place.code, minor: false, records: records ?? NO_RECORDS };
  }
}

const byDate = (a: RecordInput, b: RecordInput) => (a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0);

/** Draws a stream's records over the days from..to (both included) at a yearly rate, with their follow-ups, into `out`. */
function occurrences(
  r: Random,
  s: Stream,
  yearly: number,
  from: number,
  to: number,
  kind: SubjectKind,
  subject: string,
  place: Place,
  today: number,
  calendar: Calendar,
  numbers: Numbering,
  out: RecordInput[] | undefined,
): RecordInput[] | undefined {
  if (yearly <= 0 || to < from) return out;
  const span = to - from + 1;
  const n = r.poisson((yearly * span) / DAYS_PER_YEAR);
  for (let k = 0; k < n; k++) {
    const day = from + r.int(span);
    const draw: Draw = { r, kind, place, day, year: calendar.year(day), numbers };
    const made = s.model.make(draw);
    out ??= [];
    out.push({ source: s.source, externalId: made.externalId, subject, category: s.category, occurredAt: calendar.isoDate(day), attributes: made.attributes, legalRef: made.legalRef });
    const f = s.followUp;
    if (f && made.key !== undefined && r.chance(s.rate.resolved)) {
      const later = day + Math.max(1, Math.round(r.lognormal(f.medianDays, f.sigma)));
      if (later <= today) {
        out.push({
          source: f.source,
          externalId: made.key + f.suffix,
          subject,
          category: f.category,
          occurredAt: calendar.isoDate(later),
          attributes: { [f.keyAttribute]: made.key },
          legalRef: f.legalRef,
        });
      }
    }
  }
  return out;
}
