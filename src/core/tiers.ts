// Severity tiers of lists and measures and what each allows: how long an entry may last, be published, and when restoration may be asked.
import { parseDuration, type Duration } from "./time.js";

export const TIERS = ["minor", "moderate", "serious"] as const;
export type Tier = (typeof TIERS)[number];

/** What a tier binds a list to. */
export interface TierRule {
  /** The longest an entry may last; null when only the rulebook-wide cap applies. */
  maxTerm: Duration | null;
  /** The bounds of the publication period; null when entries are never published. */
  publication: { min: Duration; max: Duration } | null;
  /** The least time on the list before restoration may be asked; null when entries end by themselves soon enough. */
  restorationAfter: Duration | null;
}

const d = (text: string): Duration => parseDuration(text) as Duration;

/**
 * Following the 2025 rules on market-regulation dishonesty information and credit restoration: minor items are never
 * published and end by themselves after 3 months; moderate ones are published 3 months to 1 year and restoration may be
 * asked after 3 months; serious ones are published 1 to 3 years (removed at 3 years at the latest), restoration after 1 year.
 */
export const TIER_RULES: Readonly<Record<Tier, TierRule>> = {
  minor: { maxTerm: d("P3M"), publication: null, restorationAfter: null },
  moderate: { maxTerm: null, publication: { min: d("P3M"), max: d("P1Y") }, restorationAfter: d("P3M") },
  serious: { maxTerm: null, publication: { min: d("P1Y"), max: d("P3Y") }, restorationAfter: d("P1Y") },
};

/** Tiers in increasing severity, for comparisons. */
export function tierRank(t: Tier): number {
  return TIERS.indexOf(t);
}
