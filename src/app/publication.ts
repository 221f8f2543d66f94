// Publication: the public lists as open data (names kept, person IDs masked), searchable, with counts of entries, exits and objections.
import { maskSubjectId } from "../core/mask.js";
import type { CompiledList } from "../core/rulebook/ruleset.js";
import type { Tier } from "../core/tiers.js";
import { chinaDay, formatInstant, type Instant } from "../core/time.js";
import type { AppContext } from "./context.js";
import { UserError } from "./errors.js";

/** One published entry: what anyone may see. */
export interface PublishedEntry {
  name: string | null;
  /** The subject's ID, masked for persons; enterprises in full. */
  id: string;
  since: string;
  /** When the entry ends at the latest (an exit or restoration may end it earlier). */
  until: string;
  /** When it leaves the published list: the entry's end, or earlier when the tier's publication period is shorter. */
  publishedUntil: string;
}

/** The published description of a list. */
export interface PublishedList {
  list: string;
  name: string;
  kind: string;
  tier: Tier | null;
  legalBasis: string;
  /** How long an entry stays published, ISO 8601. */
  publication: string;
}

export interface Statistics {
  at: string;
  lists: (PublishedList & { members: number; entries: number; exits: number })[];
  objections: { open: number; overdue: number; upheld: number; dismissed: number; medianDaysToDecision: number | null };
}

/** The lists anyone may see: public ones, never a minor tier's. */
export function publicLists(lists: Iterable<CompiledList>): CompiledList[] {
  return [...lists].filter((l) => l.public).sort((a, b) => a.id.localeCompare(b.id));
}

const describe = (l: CompiledList): PublishedList => ({ list: l.id, name: l.name, kind: l.kind, tier: l.tier, legalBasis: l.legalBasis, publication: l.publication.text });

/** A public list by id, or not found (also for lists that are not published). */
async function publicList(ctx: AppContext, id: string): Promise<CompiledList> {
  const ruleset = await ctx.requireRuleset();
  const list = ruleset.lists.get(id);
  if (!list || !list.public) throw new UserError(`no public list ${id}; the public lists are: ${publicLists(ruleset.lists.values()).map((l) => l.id).join(", ")}`, [], "not-found");
  return list;
}

/**
 * How a search text selects entries: a masked or full ID matches IDs of that shape (each * one hidden character),
 * anything else is part of a name. A masked search can never reveal more than the mask shows.
 */
export function searchOf(q: string | undefined): { subjectLike?: string; name?: string } {
  const text = q?.trim();
  if (!text) return {};
  if (/^[0-9A-Z*]{18}$/i.test(text)) return { subjectLike: text.toUpperCase().replace(/\*/g, "_") };
  return { name: text };
}

/** One page of a public list, at `at` (default now). */
export async function readPublicList(ctx: AppContext, id: string, page: { q?: string; offset: number; limit: number }, at: Instant = ctx.clock.now()) {
  const list = await publicList(ctx, id);
  const search = searchOf(page.q);
  const members = await ctx.store.listMembers(list.id, at, { ...search, offset: page.offset, limit: page.limit });
  const entries: PublishedEntry[] = members.map((m) => ({
    name: m.name,
    id: maskSubjectId(m.subject),
    since: formatInstant(m.since),
    until: formatInstant(m.until),
    publishedUntil: formatInstant(m.publishedUntil),
  }));
  // A full person ID typed into the search may find its entry, but the answer still shows it masked.
  return { ...describe(list), at: formatInstant(at), offset: page.offset, limit: page.limit, entries };
}

/** Counts for the public: members, entries and exits per public list, objections and how fast they are decided. */
export async function statistics(ctx: AppContext, at: Instant = ctx.clock.now()): Promise<Statistics> {
  const ruleset = await ctx.requireRuleset();
  const byList = new Map((await ctx.store.listStatistics(at)).map((s) => [s.list, s]));
  const o = await ctx.store.objectionStatistics(at);
  const times = o.decisionTimes;
  const median = times.length === 0 ? null : times.length % 2 === 1 ? (times[(times.length - 1) / 2] as number) : ((times[times.length / 2 - 1] as number) + (times[times.length / 2] as number)) / 2;
  return {
    at: formatInstant(at),
    lists: publicLists(ruleset.lists.values()).map((l) => {
      const s = byList.get(l.id);
      return { ...describe(l), members: s?.members ?? 0, entries: s?.entries ?? 0, exits: s?.exits ?? 0 };
    }),
    objections: { open: o.open, overdue: o.overdue, upheld: o.upheld, dismissed: o.dismissed, medianDaysToDecision: median === null ? null : Math.round((median / 86_400_000) * 10) / 10 },
  };
}

/** A whole dated snapshot: every public list in full, with the statistics. */
export interface Snapshot {
  date: string;
  statistics: Statistics;
  lists: (PublishedList & { entries: PublishedEntry[] })[];
}

/** Reads every public list in full at one instant, page by page, reporting progress per list. */
export async function snapshot(ctx: AppContext, at: Instant = ctx.clock.now(), progress?: (list: string, entries: number) => void): Promise<Snapshot> {
  const ruleset = await ctx.requireRuleset();
  const lists: Snapshot["lists"] = [];
  for (const l of publicLists(ruleset.lists.values())) {
    const entries: PublishedEntry[] = [];
    for (let offset = 0; ; offset += 10_000) {
      const page = await readPublicList(ctx, l.id, { offset, limit: 10_000 }, at);
      entries.push(...page.entries);
      progress?.(l.id, entries.length);
      if (page.entries.length < 10_000) break;
    }
    lists.push({ ...describe(l), entries });
  }
  // Dated by the day in China, where the lists are published.
  return { date: chinaDay(at), statistics: await statistics(ctx, at), lists };
}
