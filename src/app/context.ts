// What every application service works with: the store, the clock, and the active ruleset compiled once per activation.
import { parseLayer } from "../core/rulebook/load.js";
import { buildRuleset, type Ruleset } from "../core/rulebook/ruleset.js";
import type { Identity } from "../core/roles.js";
import type { Store } from "../storage/store.js";
import type { Clock } from "./clock.js";
import { foldSingleChecks } from "./check-audit.js";
import { GroupCommitter } from "./group-commit.js";
import { newDecisionId } from "./statuses.js";
import { DEFAULT_REVIEW_PERIOD } from "../core/due-process.js";
import type { Duration } from "../core/time.js";

/** What an operator may set for the whole system. */
export interface AppOptions {
  /** How long a reviewer has to decide an objection (default P15D). */
  reviewPeriod: Duration;
}
import { UserError } from "./errors.js";

/**
 * How long this process trusts what it last read of the active rulebook and of a key, before reading again. Changes made
 * through this process take effect at once; changes another process makes (the CLI beside a server) within this time.
 * Reading them per request would cost more than the check itself.
 */
export const REREAD_MS = 1000;

export class AppContext {
  private cached?: { seq: number; ruleset: Ruleset; readAt: number };
  /** Identities of presented keys, as last read; see REREAD_MS. */
  readonly identities = new Map<string, { identity: Identity; readAt: number }>();
  /** Audited work that may share a transaction with other work arriving at the same time. */
  readonly grouped: GroupCommitter;

  readonly options: AppOptions;

  constructor(
    readonly store: Store,
    readonly clock: Clock,
    options: Partial<AppOptions> = {},
  ) {
    this.grouped = new GroupCommitter(store, (drafts) => foldSingleChecks(drafts, newDecisionId));
    this.options = { reviewPeriod: DEFAULT_REVIEW_PERIOD, ...options };
  }

  /** The active ruleset, or undefined when none was ever activated. */
  async activeRuleset(): Promise<Ruleset | undefined> {
    const fresh = this.rulesetNow();
    if (fresh) return fresh;
    const now = performance.now();
    // Every activation (from this process or another) moves the sequence; reading it is cheap, reading the layers is not.
    const seq = await this.store.activationSeq();
    if (this.cached?.seq === seq) {
      this.cached.readAt = now;
      return this.cached.ruleset;
    }
    const layers = await this.store.activeLayers();
    if (layers.length === 0) return undefined;
    const parsed = layers.map((l) => {
      const { parsed: p, problems } = parseLayer(l.file, l.text);
      if (!p) throw new Error(`active layer ${l.id} no longer parses: ${problems.map((x) => x.message).join("; ")}`);
      return p;
    });
    const { ruleset, problems } = buildRuleset(parsed);
    if (!ruleset) throw new Error(`the active rulebook no longer compiles: ${problems.map((x) => x.message).join("; ")}`);
    this.cached = { seq, ruleset, readAt: now };
    return ruleset;
  }

  /** Forgets what was read of the rulebook and keys: after this process changed them. */
  forget(): void {
    this.cached = undefined;
    this.identities.clear();
  }

  /** The active ruleset as last read, while it is trusted (see REREAD_MS): for hot paths, which await nothing then. */
  rulesetNow(): Ruleset | undefined {
    return this.cached && performance.now() - this.cached.readAt < REREAD_MS ? this.cached.ruleset : undefined;
  }

  /** The active ruleset, or a user error saying how to activate one. */
  async requireRuleset(): Promise<Ruleset> {
    const r = await this.activeRuleset();
    if (!r) throw new UserError("no rulebook is active: run `social-credit rulebook activate rulebooks/*.yaml` first", [], "conflict");
    return r;
  }
}
