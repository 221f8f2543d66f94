// Builds the ruleset in force from a set of layers: checks them together (the linter) and compiles what passes.
import type { SubjectKind } from "../subject-id.js";
import { durationLonger, parseDuration, type Duration } from "../time.js";
import { RECORD_FIELDS, SUBJECT_FIELDS, compileCel, type CelProgram } from "./cel.js";
import type { ParsedLayer, RulebookProblem } from "./load.js";
import { protectedCharacteristic } from "./protected.js";
import { TIER_RULES, type Tier } from "../tiers.js";
import type { AttributeDecl, GradeDecl, ListDecl, MeasureDecl, RulebookLayer, ScoringDecl } from "./schema.js";
import { sha256 } from "../sha256.js";

/** A points effect or a list entry, ready to run. */
export type CompiledEffect =
  | { kind: "points"; points: number; duration: Duration }
  | {
      kind: "list";
      list: string;
      duration: Duration;
      key?: CelProgram;
      extension?: { years: CelProgram; maxYears: number };
    };

export interface CompiledRule {
  id: string;
  layer: string;
  category: string;
  when?: CelProgram;
  effects: CompiledEffect[];
  legalBasis: string;
}

export interface CompiledExit {
  list: string;
  category: string;
  when?: CelProgram;
  key?: CelProgram;
  legalBasis: string;
}

/** A record the subject must hold, dated after entering the list, before restoration may be asked. */
export interface CompiledRequirement {
  category: string;
  when?: CelProgram;
  description?: string;
}

/** When and how a subject may ask to leave a list early. */
export interface CompiledRestoration {
  minimumPeriod: Duration;
  commitment: boolean;
  records: CompiledRequirement[];
  conditions: string[];
  legalBasis: string;
}

export interface CompiledList extends Omit<ListDecl, "maxTerm" | "exit" | "tier" | "publication" | "restoration" | "public"> {
  layer: string;
  /** Null for redlists: tiers grade dishonesty, not rewards. */
  tier: Tier | null;
  maxTerm: Duration;
  /** Whether entries appear in the published lists at all. */
  public: boolean;
  /** How long after entering an entry stays published. */
  publication: Duration;
  /** Whether entering waits for a reviewer's approval. */
  signOff: boolean;
  restoration: CompiledRestoration | null;
  exits: CompiledExit[];
}

export interface CompiledMeasure extends Omit<MeasureDecl, "subjects" | "tier"> {
  layer: string;
  subjects: SubjectKind[];
  /** The tier of its list, or the one declared for a grade-triggered sanction; null for rewards by grade. */
  tier: Tier | null;
}

export interface CategoryInfo {
  id: string;
  source: string;
  layer: string;
  description?: string;
  attributes: Record<string, AttributeDecl>;
}

/** Everything that applies to subjects of one region: the chain of layers from national to the most local. */
export interface Jurisdiction {
  id: string;
  chain: string[];
  scoring: ScoringDecl;
  /** Highest band first. */
  grades: GradeDecl[];
  rulesByCategory: ReadonlyMap<string, readonly CompiledRule[]>;
  exitsByCategory: ReadonlyMap<string, readonly CompiledExit[]>;
  lists: ReadonlyMap<string, CompiledList>;
  measures: ReadonlyMap<string, CompiledMeasure>;
}

export interface LayerInfo {
  id: string;
  title: string;
  version: string;
  parent?: string;
  regions: string[];
  sha256: string;
  file: string;
}

/** The compiled, active rulebook: what the evaluator runs. */
export interface Ruleset {
  /** Changes whenever any layer's text changes; statuses carry it to know when they are stale. */
  hash: string;
  layers: LayerInfo[];
  categories: ReadonlyMap<string, CategoryInfo>;
  /** Categories each source may report, over all layers. */
  grants: ReadonlyMap<string, ReadonlySet<string>>;
  measures: ReadonlyMap<string, CompiledMeasure>;
  lists: ReadonlyMap<string, CompiledList>;
  jurisdictionFor(region: string): Jurisdiction;
}

/** What validating a reported record needs of a ruleset: which source may report which category, with which attributes. Plain data. */
export type ReportingRules = Pick<Ruleset, "categories" | "grants">;

/**
 * The longest term any rulebook may set, for an effect (with its longest extension), a list's maxTerm and a
 * restoration's minimum period. The longest term in the law the rulebooks cite is that of the list of dishonest
 * judgment debtors: two years plus up to three years' extension (SPC Fa Shi [2017] No. 7, Art. 2). Nothing may
 * mark a subject for longer than the law itself ever does.
 */
export const MAX_TERM: Duration = parseDuration("P5Y") as Duration;

/** Checks a set of layers together and compiles them; any problem means no ruleset. */
export function buildRuleset(parsed: readonly ParsedLayer[]): { ruleset?: Ruleset; problems: RulebookProblem[] } {
  const b = new Builder(parsed);
  b.run();
  if (b.problems.length > 0) return { problems: b.problems };
  return { ruleset: b.ruleset(), problems: [] };
}

/** The layer ids from the root down to the given layer. */
function chainOf(id: string, byId: ReadonlyMap<string, ParsedLayer>): string[] {
  const chain: string[] = [];
  const seen = new Set<string>();
  let current: string | undefined = id;
  while (current !== undefined && !seen.has(current)) {
    seen.add(current);
    chain.unshift(current);
    current = byId.get(current)?.layer.parent;
  }
  return chain;
}

/** The scoring and grades in force for a chain of layers: each from the most local layer that sets it; grades highest band first. */
function scaleOf(chain: readonly string[], byId: ReadonlyMap<string, ParsedLayer>): { scoring?: ScoringDecl; grades: GradeDecl[] } {
  let scoring: ScoringDecl | undefined;
  let grades: readonly GradeDecl[] = [];
  for (const id of chain) {
    const l = byId.get(id)?.layer;
    scoring = l?.scoring ?? scoring;
    grades = l?.grades ?? grades;
  }
  return { ...(scoring ? { scoring } : {}), grades: [...grades].sort((a, b) => b.min - a.min) };
}

class Builder {
  readonly problems: RulebookProblem[] = [];
  private readonly byId = new Map<string, ParsedLayer>();
  private readonly categories = new Map<string, CategoryInfo>();
  private readonly grants = new Map<string, Set<string>>();
  private readonly rules: CompiledRule[] = [];
  private readonly lists = new Map<string, CompiledList>();
  private readonly measures = new Map<string, CompiledMeasure>();

  constructor(private readonly parsed: readonly ParsedLayer[]) {}

  run(): void {
    for (const p of this.parsed) {
      if (this.byId.has(p.layer.id)) {
        this.problem(p, ["id"], `layer ${p.layer.id} is given twice (also in ${this.byId.get(p.layer.id)?.file})`);
      } else {
        this.byId.set(p.layer.id, p);
      }
    }
    this.checkHierarchy();
    if (this.problems.length > 0) return;
    for (const p of this.byId.values()) this.collectSources(p);
    for (const p of this.byId.values()) this.collectLists(p);
    for (const p of this.byId.values()) {
      this.checkScoring(p);
      this.collectRules(p);
      this.collectMeasures(p);
      this.checkNames(p);
    }
  }

  ruleset(): Ruleset {
    const layers: LayerInfo[] = [...this.byId.values()].map((p) => ({
      id: p.layer.id,
      title: p.layer.title,
      version: p.layer.version,
      ...(p.layer.parent ? { parent: p.layer.parent } : {}),
      regions: p.layer.regions,
      sha256: sha256(p.text),
      file: p.file,
    }));
    layers.sort((a, b) => a.id.localeCompare(b.id));
    const hash = sha256(layers.map((l) => `${l.id}:${l.sha256}`).join("\n"));
    const byRegion = new Map<string, Jurisdiction>();
    const byLayer = new Map<string, Jurisdiction>();
    const byId = this.byId;
    const rules = this.rules;
    const lists = this.lists;
    const measures = this.measures;
    const root = [...byId.values()].find((p) => !p.layer.parent) as ParsedLayer;

    const jurisdictionOfLayer = (layerId: string): Jurisdiction => {
      const chain = chainOf(layerId, byId);
      const inChain = new Set(chain);
      const rulesByCategory = new Map<string, CompiledRule[]>();
      for (const r of rules) {
        if (!inChain.has(r.layer)) continue;
        const list = rulesByCategory.get(r.category) ?? [];
        list.push(r);
        rulesByCategory.set(r.category, list);
      }
      const chainLists = new Map([...lists].filter(([, l]) => inChain.has(l.layer)));
      const exitsByCategory = new Map<string, CompiledExit[]>();
      for (const l of chainLists.values()) {
        for (const e of l.exits) {
          const list = exitsByCategory.get(e.category) ?? [];
          list.push(e);
          exitsByCategory.set(e.category, list);
        }
      }
      const { scoring, grades } = scaleOf(chain, byId);
      return {
        id: layerId,
        chain,
        // The national layer must set scoring, and a ruleset exists only once the layers lint clean.
        scoring: scoring as ScoringDecl,
        grades,
        rulesByCategory,
        exitsByCategory,
        lists: chainLists,
        measures: new Map([...measures].filter(([, m]) => inChain.has(m.layer))),
      };
    };

    return {
      hash,
      layers,
      categories: this.categories,
      grants: this.grants,
      measures,
      lists,
      jurisdictionFor(region: string): Jurisdiction {
        const cached = byRegion.get(region);
        if (cached) return cached;
        let best = root.layer.id;
        let bestLength = 0;
        for (const p of byId.values()) {
          for (const prefix of p.layer.regions) {
            if (region.startsWith(prefix) && prefix.length > bestLength) {
              best = p.layer.id;
              bestLength = prefix.length;
            }
          }
        }
        // Every region of one layer shares one jurisdiction, built once.
        let j = byLayer.get(best);
        if (!j) {
          j = jurisdictionOfLayer(best);
          byLayer.set(best, j);
        }
        byRegion.set(region, j);
        return j;
      },
    };
  }

  private problem(p: ParsedLayer, path: (string | number)[], message: string): void {
    this.problems.push(p.problemAt(path, message));
  }

  private checkHierarchy(): void {
    const roots = [...this.byId.values()].filter((p) => !p.layer.parent);
    if (roots.length === 0 && this.byId.size > 0) {
      const first = this.parsed[0] as ParsedLayer;
      this.problem(first, ["parent"], "no national layer: exactly one layer must have no parent");
    }
    for (const extra of roots.slice(1)) {
      this.problem(extra, ["id"], `two national layers (${roots[0]?.layer.id} and ${extra.layer.id}): only one layer may have no parent`);
    }
    // Regions already refused for lying outside their parent's, so that one mistake is reported once.
    const outside = new Set<string>();
    for (const p of this.byId.values()) {
      const { parent, regions } = p.layer;
      if (parent === undefined) {
        if (regions.length > 0) this.problem(p, ["regions"], "the national layer applies everywhere and takes no regions");
        if (!p.layer.scoring) this.problem(p, ["scoring"], "the national layer must set scoring: {base, min, max}");
        continue;
      }
      if (!this.byId.has(parent)) {
        this.problem(p, ["parent"], `parent layer ${parent} is not among the layers given (lint or activate it together with this one)`);
      } else if (this.byId.get(chainOf(p.layer.id, this.byId)[0] as string)?.layer.parent !== undefined) {
        // Following parents from a layer in a cycle never reaches the national layer.
        this.problem(p, ["parent"], `layer ${p.layer.id} is in a cycle of parents that never reaches the national layer`);
      } else {
        const parentRegions = this.byId.get(parent)?.layer.regions ?? [];
        regions.forEach((r, i) => {
          if (parentRegions.length > 0 && !parentRegions.some((pr) => r.startsWith(pr))) {
            this.problem(p, ["regions", i], `region ${r} lies outside the regions of parent layer ${parent} (${parentRegions.join(", ")})`);
            outside.add(`${p.layer.id}:${r}`);
          }
        });
      }
      if (regions.length === 0) this.problem(p, ["regions"], "a local layer names the region-code prefixes it applies to");
    }
    // Two layers claiming one prefix would make the jurisdiction depend on file order.
    const claimed = new Map<string, string>();
    for (const p of this.byId.values()) {
      p.layer.regions.forEach((r, i) => {
        const other = claimed.get(r);
        if (other) this.problem(p, ["regions", i], `region ${r} is already claimed by layer ${other}`);
        else claimed.set(r, p.layer.id);
      });
    }
    this.checkNestedRegions(outside);
  }

  /**
   * A longer prefix takes its subjects out of the layer of a shorter one, so their chain keeps the shorter one's
   * rules only if its layer is an ancestor of the longer one's: otherwise the more local layer silently repeals them.
   */
  private checkNestedRegions(outside: ReadonlySet<string>): void {
    const layers = [...this.byId.values()];
    for (const p of layers) {
      const ancestors = new Set(chainOf(p.layer.id, this.byId));
      p.layer.regions.forEach((r, i) => {
        if (outside.has(`${p.layer.id}:${r}`)) return;
        for (const other of layers) {
          if (other === p || ancestors.has(other.layer.id)) continue;
          for (const o of other.layer.regions) {
            if (r === o || !r.startsWith(o) || outside.has(`${other.layer.id}:${o}`)) continue;
            const [a, b] = [p.layer.id, other.layer.id];
            this.problem(
              p,
              ["regions", i],
              `region ${r} of layer ${a} lies within region ${o} of layer ${b}, which is not an ancestor of ${a}: subjects of ${r} would silently lose the rules of ${b}; make ${a} a child of ${b} (parent: ${b})`,
            );
          }
        }
      });
    }
  }

  private collectSources(p: ParsedLayer): void {
    const seenHere = new Set<string>();
    p.layer.sources.forEach((s, si) => {
      if (seenHere.has(s.id)) this.problem(p, ["sources", si, "id"], `source ${s.id} is declared twice in this layer`);
      seenHere.add(s.id);
      const granted = this.grants.get(s.id) ?? new Set<string>();
      this.grants.set(s.id, granted);
      s.categories.forEach((c, ci) => {
        const existing = this.categories.get(c.id);
        if (existing) {
          this.problem(p, ["sources", si, "categories", ci, "id"], `category ${c.id} is already declared by source ${existing.source} in layer ${existing.layer}`);
          return;
        }
        granted.add(c.id);
        this.categories.set(c.id, {
          id: c.id,
          source: s.id,
          layer: p.layer.id,
          ...(c.description ? { description: c.description } : {}),
          attributes: c.attributes,
        });
      });
    });
  }

  private visibleCategory(p: ParsedLayer, category: string): CategoryInfo | undefined {
    const c = this.categories.get(category);
    return c && chainOf(p.layer.id, this.byId).includes(c.layer) ? c : undefined;
  }

  private checkCategory(p: ParsedLayer, path: (string | number)[], category: string): CategoryInfo | undefined {
    const c = this.visibleCategory(p, category);
    if (!c) this.problem(p, path, `category ${category} is not granted to any source in this layer or its parents`);
    return c;
  }

  private duration(p: ParsedLayer, path: (string | number)[], text: string): Duration | undefined {
    const d = parseDuration(text);
    if (!d) this.problem(p, path, `${text} is not a positive duration: every effect must end by itself`);
    return d ?? undefined;
  }

  /** Refuses a term longer than MAX_TERM; `what` names it ("maxTerm P6Y", "an effect of P6Y"). */
  private capTerm(p: ParsedLayer, path: (string | number)[], what: string, d: Duration): void {
    if (durationLonger(d, MAX_TERM)) this.problem(p, path, `${what} exceeds the longest term any rulebook may set (${MAX_TERM.text})`);
  }

  /** Compiles a condition or key and checks every name it uses against what the category declares. */
  private cel(p: ParsedLayer, path: (string | number)[], text: string | undefined, category: CategoryInfo | undefined): CelProgram | undefined {
    if (text === undefined) return undefined;
    const compiled = compileCel(text);
    if ("error" in compiled) {
      this.problem(p, path, compiled.error);
      return undefined;
    }
    const { refs } = compiled;
    const unknown = [...refs.unknownNames, ...refs.paths.filter((r) => r[0] !== "record" && r[0] !== "subject").map((r) => r.join("."))];
    for (const name of unknown) {
      this.problem(p, path, `condition uses ${name}; the only variables are record and subject`);
    }
    for (const ref of refs.paths) {
      const [root, field, attribute] = ref;
      const dotted = ref.join(".");
      if (root === "subject" && field !== undefined && !(SUBJECT_FIELDS as readonly string[]).includes(field)) {
        this.problem(p, path, `condition uses ${dotted}; a subject offers only ${SUBJECT_FIELDS.join(", ")}`);
      }
      if (root === "record" && field !== undefined && !(RECORD_FIELDS as readonly string[]).includes(field)) {
        this.problem(p, path, `condition uses ${dotted}; a record offers only ${RECORD_FIELDS.join(", ")}`);
      }
      if (root === "record" && field === "attributes" && attribute !== undefined && category && !Object.hasOwn(category.attributes, attribute)) {
        this.problem(p, path, `condition uses ${dotted}, which category ${category.id} does not declare`);
      }
      for (const segment of ref) this.refuseProtected(p, path, `condition uses ${dotted}`, segment);
    }
    for (const s of refs.strings) this.refuseProtected(p, path, `condition compares with "${s}"`, s);
    if (refs.functions.includes("matches")) {
      this.problem(p, path, "condition uses matches(): a regular expression hides what it compares with; use == or in with literal values");
    }
    if (refs.stringConcatenation) {
      this.problem(p, path, "condition joins a text literal with +: write every literal whole, so that reviewers and the linter can read it");
    }
    return compiled.program;
  }

  private refuseProtected(p: ParsedLayer, path: (string | number)[], what: string, text: string): void {
    const hit = protectedCharacteristic(text);
    if (hit) {
      this.problem(
        p,
        path,
        `${what}: "${hit.word}" names ${hit.characteristic}, which no rulebook may condition on (protected: political opinion, religion, ethnicity, sexuality, health, relations and associations)`,
      );
    }
  }

  private checkScoring(p: ParsedLayer): void {
    const { scoring, grades } = p.layer;
    if (scoring && !(scoring.min <= scoring.base && scoring.base <= scoring.max)) {
      this.problem(p, ["scoring"], `scoring must satisfy min <= base <= max (got ${scoring.min}, ${scoring.base}, ${scoring.max})`);
    }
    const { scoring: effective, grades: inherited } = this.scale(p);
    if (!grades) {
      // Grades inherited from a parent must still cover this layer's own scoring range.
      const lowest = inherited[inherited.length - 1];
      if (scoring && lowest && lowest.min > scoring.min) {
        this.problem(p, ["scoring", "min"], `scores from ${scoring.min} to ${lowest.min - 1} have no grade: the inherited lowest band ${lowest.id} starts at ${lowest.min}`);
      }
      return;
    }
    const ids = new Set<string>();
    grades.forEach((g, i) => {
      if (ids.has(g.id)) this.problem(p, ["grades", i, "id"], `grade ${g.id} is declared twice`);
      ids.add(g.id);
      const prev = grades[i - 1];
      if (prev && prev.min <= g.min) {
        this.problem(p, ["grades", i, "min"], `grades are listed from the highest band down: ${g.id} (min ${g.min}) must be below ${prev.id} (min ${prev.min})`);
      }
    });
    const lowest = grades[grades.length - 1];
    if (lowest && effective && lowest.min > effective.min) {
      this.problem(p, ["grades", grades.length - 1, "min"], `scores from ${effective.min} to ${lowest.min - 1} have no grade: the lowest band must start at scoring.min (${effective.min})`);
    }
  }

  /** The scoring and grades in force in a layer's jurisdiction, as the ruleset will give them. */
  private scale(p: ParsedLayer): { scoring?: ScoringDecl; grades: GradeDecl[] } {
    return scaleOf(chainOf(p.layer.id, this.byId), this.byId);
  }

  private visibleList(p: ParsedLayer, id: string): CompiledList | undefined {
    const l = this.lists.get(id);
    return l && chainOf(p.layer.id, this.byId).includes(l.layer) ? l : undefined;
  }

  private collectLists(p: ParsedLayer): void {
    p.layer.lists.forEach((l, li) => {
      if (this.lists.has(l.id)) {
        this.problem(p, ["lists", li, "id"], `list ${l.id} is already declared in layer ${this.lists.get(l.id)?.layer}`);
        return;
      }
      const maxTerm = this.duration(p, ["lists", li, "maxTerm"], l.maxTerm);
      if (maxTerm) this.capTerm(p, ["lists", li, "maxTerm"], `maxTerm ${l.maxTerm}`, maxTerm);
      const tiered = this.tierOf(p, li, l, maxTerm);
      const exits: CompiledExit[] = [];
      l.exit.forEach((e, ei) => {
        const category = this.checkCategory(p, ["lists", li, "exit", ei, "category"], e.category);
        const when = this.cel(p, ["lists", li, "exit", ei, "when"], e.when, category);
        const key = this.cel(p, ["lists", li, "exit", ei, "key"], e.key, category);
        exits.push({ list: l.id, category: e.category, ...(when ? { when } : {}), ...(key ? { key } : {}), legalBasis: e.legalBasis });
      });
      const restoration = this.restorationOf(p, li, l, tiered.tier);
      if (!maxTerm || !tiered.publication) return;
      const { maxTerm: _m, exit: _e, tier: _t, publication: _p, restoration: _r, public: _pub, ...rest } = l;
      this.lists.set(l.id, { ...rest, ...tiered, publication: tiered.publication, layer: p.layer.id, maxTerm, restoration, exits });
    });
  }

  /** A list's tier, publication and sign-off, checked against what its tier allows. */
  private tierOf(p: ParsedLayer, li: number, l: ListDecl, maxTerm: Duration | undefined) {
    const at = (...rest: (string | number)[]) => ["lists", li, ...rest];
    const tier = l.tier ?? null;
    if (l.kind === "redlist" && tier !== null) this.problem(p, at("tier"), "a redlist takes no tier: tiers grade dishonesty, not rewards");
    if (l.kind !== "redlist" && tier === null) {
      this.problem(p, at("tier"), `a ${l.kind} needs a tier (minor, moderate or serious): it sets how long entries are published and when restoration may be asked`);
    }
    const rule = tier === null ? null : TIER_RULES[tier];
    if (rule?.maxTerm && maxTerm && durationLonger(maxTerm, rule.maxTerm)) {
      this.problem(p, at("maxTerm"), `maxTerm ${l.maxTerm} is longer than a ${tier} entry may last (${rule.maxTerm.text}): ${tier} items end by themselves`);
    }
    const isPublic = l.public ?? (rule === null || rule.publication !== null);
    if (rule && rule.publication === null && l.public === true) this.problem(p, at("public"), `${tier} items are never published: remove public: true`);
    let publication = maxTerm;
    if (l.publication !== undefined) {
      const d = this.duration(p, at("publication"), l.publication);
      if (d && rule?.publication && (durationLonger(rule.publication.min, d) || durationLonger(d, rule.publication.max))) {
        this.problem(p, at("publication"), `a ${tier} entry is published from ${rule.publication.min.text} to ${rule.publication.max.text}, not ${l.publication}`);
      }
      if (d && rule && !rule.publication) this.problem(p, at("publication"), `${tier} items are never published: remove publication`);
      publication = d ?? undefined;
    } else if (rule?.publication && maxTerm) {
      publication = durationLonger(maxTerm, rule.publication.max) ? rule.publication.max : maxTerm;
    }
    const signOff = tier !== null && chainOf(p.layer.id, this.byId).some((id) => this.byId.get(id)?.layer.signOff.includes(tier));
    return { tier, public: isPublic, publication, signOff };
  }

  /** A list's restoration conditions, with the minimum period its tier requires at least. */
  private restorationOf(p: ParsedLayer, li: number, l: ListDecl, tier: Tier | null): CompiledRestoration | null {
    const r = l.restoration;
    if (!r || !r.allowed) return null;
    const at = (...rest: (string | number)[]) => ["lists", li, "restoration", ...rest];
    const floor = tier === null ? null : TIER_RULES[tier].restorationAfter;
    if (tier !== null && floor === null) {
      this.problem(p, at("allowed"), `${tier} entries end by themselves within ${TIER_RULES[tier].maxTerm?.text}: they take no restoration`);
      return null;
    }
    // parseDuration refuses a zero duration, so the no-floor default is written out.
    let minimumPeriod: Duration = floor ?? { years: 0, months: 0, days: 0, text: "P0D" };
    if (r.minimumPeriod !== undefined) {
      const d = this.duration(p, at("minimumPeriod"), r.minimumPeriod);
      if (d) {
        this.capTerm(p, at("minimumPeriod"), `restoration.minimumPeriod ${r.minimumPeriod}`, d);
        if (floor && durationLonger(floor, d)) this.problem(p, at("minimumPeriod"), `a ${tier} entry may be restored after ${floor.text} at the earliest; ${r.minimumPeriod} asks for less`);
        else minimumPeriod = d;
      }
    }
    const records: CompiledRequirement[] = [];
    r.records.forEach((q, qi) => {
      const category = this.checkCategory(p, at("records", qi, "category"), q.category);
      const when = this.cel(p, at("records", qi, "when"), q.when, category);
      records.push({ category: q.category, ...(when ? { when } : {}), ...(q.description ? { description: q.description } : {}) });
    });
    return { minimumPeriod, commitment: r.commitment, records, conditions: r.conditions, legalBasis: r.legalBasis ?? l.legalBasis };
  }

  private collectRules(p: ParsedLayer): void {
    const ids = new Set(this.rules.map((r) => r.id));
    p.layer.rules.forEach((r, ri) => {
      const at = (...rest: (string | number)[]) => ["rules", ri, ...rest];
      if (ids.has(r.id)) this.problem(p, at("id"), `rule ${r.id} is declared twice`);
      ids.add(r.id);
      const category = this.checkCategory(p, at("category"), r.category);
      const when = this.cel(p, at("when"), r.when, category);
      const effects: CompiledEffect[] = [];
      r.effects.forEach((e, ei) => {
        const duration = this.duration(p, at("effects", ei, "duration"), e.duration);
        if (!duration) return;
        if ((e.points === undefined) === (e.list === undefined)) {
          this.problem(p, at("effects", ei), "an effect gives either points or a list entry: write points: N or list: ID, not both or neither");
          return;
        }
        if (e.points !== undefined) {
          if (e.key !== undefined || e.extension !== undefined) this.problem(p, at("effects", ei), "key and extension belong to list entries, not to points");
          this.capTerm(p, at("effects", ei, "duration"), `an effect of ${e.duration}`, duration);
          effects.push({ kind: "points", points: e.points, duration });
          return;
        }
        const list = this.visibleList(p, e.list as string);
        if (!list) {
          this.problem(p, at("effects", ei, "list"), `list ${e.list ?? ""} is not declared in this layer or its parents`);
          return;
        }
        const longest = e.extension ? { ...duration, years: duration.years + e.extension.maxYears } : duration;
        const entry = `an entry of ${e.duration}${e.extension ? ` plus up to ${e.extension.maxYears} years` : ""}`;
        if (durationLonger(longest, list.maxTerm)) {
          this.problem(p, at("effects", ei, "duration"), `${entry} would outlast the maximum term ${list.maxTerm.text} of list ${list.id}`);
        } else {
          // Only reachable when the list's own maxTerm is over the cap, which is refused at the list too.
          this.capTerm(p, at("effects", ei, "duration"), entry, longest);
        }
        const key = this.cel(p, at("effects", ei, "key"), e.key, category);
        const years = e.extension ? this.cel(p, at("effects", ei, "extension", "years"), e.extension.years, category) : undefined;
        effects.push({
          kind: "list",
          list: list.id,
          duration,
          ...(key ? { key } : {}),
          ...(years && e.extension ? { extension: { years, maxYears: e.extension.maxYears } } : {}),
        });
      });
      this.rules.push({
        id: r.id,
        layer: p.layer.id,
        category: r.category,
        ...(when ? { when } : {}),
        effects,
        legalBasis: r.legalBasis,
      });
    });
  }

  private collectMeasures(p: ParsedLayer): void {
    p.layer.measures.forEach((m, mi) => {
      const at = (...rest: (string | number)[]) => ["measures", mi, ...rest];
      if (this.measures.has(m.id)) {
        this.problem(p, at("id"), `measure ${m.id} is already declared in layer ${this.measures.get(m.id)?.layer}`);
        return;
      }
      if (m.target !== "subject") {
        this.problem(p, at("target"), `measure targets "${m.target}": a measure binds only the subject itself (no family or associate liability); write target: subject`);
      }
      if ("list" in m.trigger && !this.visibleList(p, m.trigger.list)) {
        this.problem(p, at("trigger", "list"), `list ${m.trigger.list} is not declared in this layer or its parents`);
      }
      if ("grades" in m.trigger) {
        const known = new Set(this.scale(p).grades.map((g) => g.id));
        m.trigger.grades.forEach((g, gi) => {
          if (!known.has(g)) this.problem(p, at("trigger", "grades", gi), `grade ${g} is not a grade of this layer or its parents`);
        });
        if (m.kind === "sanction") this.checkBaseGrade(p, mi, m.trigger.grades);
      }
      this.measures.set(m.id, { ...m, layer: p.layer.id, subjects: m.subjects, tier: this.measureTier(p, mi, m) });
    });
  }

  /** A measure's tier: its list's, or, for a sanction by grade, the one it declares. */
  private measureTier(p: ParsedLayer, mi: number, m: MeasureDecl): Tier | null {
    if ("list" in m.trigger) {
      const list = this.visibleList(p, m.trigger.list);
      const tier = list?.tier ?? null;
      if (list && m.tier !== undefined && m.tier !== tier) {
        this.problem(p, ["measures", mi, "tier"], `measure ${m.id} is triggered by list ${list.id} of tier ${tier ?? "none"}: its tier is the list's; remove tier or make it ${tier ?? "absent"}`);
      }
      return tier;
    }
    if (m.kind === "sanction" && m.tier === undefined) {
      this.problem(p, ["measures", mi, "tier"], `a sanction triggered by grades needs a tier (minor, moderate or serious)`);
    }
    return m.tier ?? null;
  }

  /**
   * A subject nobody reported on has the base score: a sanction triggered by the grade holding it would bind every such
   * subject, with no record to object to and no end. Checked in every jurisdiction the measure is in force in: its own
   * layer and every layer below it, each with the scoring and grades in force there.
   */
  private checkBaseGrade(p: ParsedLayer, mi: number, triggers: readonly string[]): void {
    // Layers where a triggering grade holds the base score, by grade and base score.
    const where = new Map<string, Map<number, string[]>>();
    for (const l of this.byId.values()) {
      if (!chainOf(l.layer.id, this.byId).includes(p.layer.id)) continue;
      const { scoring, grades } = this.scale(l);
      const grade = scoring && grades.find((g) => scoring.base >= g.min);
      if (!scoring || !grade || !triggers.includes(grade.id)) continue;
      const byBase = where.get(grade.id) ?? new Map<number, string[]>();
      byBase.set(scoring.base, [...(byBase.get(scoring.base) ?? []), l.layer.id]);
      where.set(grade.id, byBase);
    }
    triggers.forEach((g, gi) => {
      for (const [base, layers] of where.get(g) ?? []) {
        this.problem(
          p,
          ["measures", mi, "trigger", "grades", gi],
          `a sanction may not be triggered by grade ${g}, which holds the base score ${base} in ${layers.length > 1 ? "layers" : "layer"} ${layers.join(", ")}: it would apply to every subject nobody reported on, with no record to object to and no end`,
        );
      }
    });
  }

  /** Refuses protected characteristics in every identifier and name a layer declares. */
  private checkNames(p: ParsedLayer): void {
    const l: RulebookLayer = p.layer;
    // Descriptions are not checked: they may say in words what is excluded and why.
    l.sources.forEach((s, si) => {
      this.refuseProtected(p, ["sources", si, "id"], `source ${s.id}`, s.id);
      if (s.name !== undefined) this.refuseProtected(p, ["sources", si, "name"], `source name "${s.name}"`, s.name);
      s.categories.forEach((c, ci) => {
        this.refuseProtected(p, ["sources", si, "categories", ci, "id"], `category ${c.id}`, c.id);
        for (const [a, decl] of Object.entries(c.attributes)) {
          const at = ["sources", si, "categories", ci, "attributes", a];
          this.refuseProtected(p, at, `attribute ${a} of ${c.id}`, a);
          decl.enum?.forEach((v, vi) => {
            if (typeof v === "string") this.refuseProtected(p, [...at, "enum", vi], `value "${v}" of attribute ${a} of ${c.id}`, v);
          });
        }
      });
    });
    l.rules.forEach((r, i) => this.refuseProtected(p, ["rules", i, "id"], `rule id ${r.id}`, r.id));
    l.lists.forEach((x, i) => {
      this.refuseProtected(p, ["lists", i, "id"], `list id ${x.id}`, x.id);
      this.refuseProtected(p, ["lists", i, "name"], `list name "${x.name}"`, x.name);
    });
    l.measures.forEach((m, i) => {
      this.refuseProtected(p, ["measures", i, "id"], `measure id ${m.id}`, m.id);
      this.refuseProtected(p, ["measures", i, "name"], `measure name "${m.name}"`, m.name);
      m.enforcers.forEach((e, ei) => this.refuseProtected(p, ["measures", i, "enforcers", ei], `enforcer ${e}`, e));
    });
  }
}
