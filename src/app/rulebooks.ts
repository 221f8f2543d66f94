// Linting, activating and showing rulebooks: the operator's side of the rulebook language.
import { formatProblem, parseLayer, type ParsedLayer, type RulebookProblem } from "../core/rulebook/load.js";
import { buildRuleset, type Ruleset } from "../core/rulebook/ruleset.js";
import type { AppContext } from "./context.js";
import { UserError } from "./errors.js";
import { newDecisionId } from "./statuses.js";

/** A rulebook file as read from disk. */
export interface RulebookFile {
  file: string;
  text: string;
}

export interface LintResult {
  problems: RulebookProblem[];
  ruleset?: Ruleset;
}

/**
 * Checks files exactly as activating them would: each replaces the active layer with its id and the
 * resulting set is checked whole, so a local layer can be linted on its own against the layers in force.
 */
export async function lintRulebooks(ctx: AppContext | undefined, files: readonly RulebookFile[]): Promise<LintResult> {
  const { given, problems } = parseFiles(files);
  if (problems.length > 0) return { problems };
  const layers = ctx ? await withActiveLayers(ctx, given) : given;
  const built = buildRuleset(layers);
  return built.ruleset ? { problems: [], ruleset: built.ruleset } : { problems: built.problems };
}

function parseFiles(files: readonly RulebookFile[]): { given: ParsedLayer[]; problems: RulebookProblem[] } {
  const problems: RulebookProblem[] = [];
  const given: ParsedLayer[] = [];
  for (const f of files) {
    const r = parseLayer(f.file, f.text);
    problems.push(...r.problems);
    if (r.parsed) given.push(r.parsed);
  }
  return { given, problems };
}

/** The active set with the given layers in place of the active layers of the same id. */
async function withActiveLayers(ctx: AppContext, given: ParsedLayer[]): Promise<ParsedLayer[]> {
  const byId = new Map(given.map((p) => [p.layer.id, p] as const));
  for (const l of await ctx.store.activeLayers()) {
    const p = parseLayer(l.file, l.text).parsed;
    if (p && !byId.has(l.id)) byId.set(l.id, p);
  }
  return [...byId.values()];
}

/** Activates files as `actor`: each replaces the active layer with its id, other active layers stay. Refused whole if the new set has any problem. */
export async function activateRulebooks(ctx: AppContext, actor: string, files: readonly RulebookFile[]): Promise<{ ruleset: Ruleset; changed: boolean; decisionId: string }> {
  const { given, problems } = parseFiles(files);
  if (problems.length === 0) {
    const previous = await ctx.activeRuleset();
    const all = await withActiveLayers(ctx, given);
    const built = buildRuleset(all);
    if (built.ruleset) {
      const ruleset = built.ruleset;
      const sha = new Map(ruleset.layers.map((l) => [l.id, l.sha256] as const));
      const at = ctx.clock.now();
      const decisionId = newDecisionId();
      await ctx.store.transaction(async (tx) => {
        await tx.activateLayers(all.map((p) => ({ id: p.layer.id, file: p.file, text: p.text, sha256: sha.get(p.layer.id) as string })), ruleset.hash, at);
        await tx.appendAudit([
          {
            actor,
            action: "rulebook.activated",
            subject: null,
            decisionId,
            at,
            detail: { rulesetHash: ruleset.hash, previous: previous?.hash ?? null, layers: ruleset.layers.map((l) => ({ id: l.id, version: l.version, sha256: l.sha256 })) },
          },
        ]);
      });
      ctx.forget();
      return { ruleset, changed: previous?.hash !== ruleset.hash, decisionId };
    }
    problems.push(...built.problems);
  }
  throw new UserError(`rulebook not activated: ${problems.length} problem${problems.length === 1 ? "" : "s"}`, problems.map(formatProblem));
}
