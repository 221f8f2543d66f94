// What every application service works with: the store, the clock, and the active ruleset compiled once per activation.
import { parseLayer } from "../core/rulebook/load.js";
import { buildRuleset, type Ruleset } from "../core/rulebook/ruleset.js";
import type { Store } from "../storage/store.js";
import type { Clock } from "./clock.js";
import { UserError } from "./errors.js";

export class AppContext {
  private cached?: { seq: number; ruleset: Ruleset };

  constructor(
    readonly store: Store,
    readonly clock: Clock,
  ) {}

  /** The active ruleset, or undefined when none was ever activated. */
  async activeRuleset(): Promise<Ruleset | undefined> {
    // Every activation (from this process or another) moves the sequence; reading it is cheap, reading the layers is not.
    const seq = await this.store.activationSeq();
    if (this.cached?.seq === seq) return this.cached.ruleset;
    const layers = await this.store.activeLayers();
    if (layers.length === 0) return undefined;
    const parsed = layers.map((l) => {
      const { parsed: p, problems } = parseLayer(l.file, l.text);
      if (!p) throw new Error(`active layer ${l.id} no longer parses: ${problems.map((x) => x.message).join("; ")}`);
      return p;
    });
    const { ruleset, problems } = buildRuleset(parsed);
    if (!ruleset) throw new Error(`the active rulebook no longer compiles: ${problems.map((x) => x.message).join("; ")}`);
    this.cached = { seq, ruleset };
    return ruleset;
  }

  /** The active ruleset, or a user error saying how to activate one. */
  async requireRuleset(): Promise<Ruleset> {
    const r = await this.activeRuleset();
    if (!r) throw new UserError("no rulebook is active: run `social-credit rulebook activate rulebooks/*.yaml` first", [], "conflict");
    return r;
  }
}
