// The one place the system reads the time, injectable so that expiry and what-if runs can be tested in simulated time.
import type { Instant } from "../core/time.js";

/** A source of the current instant. */
export interface Clock {
  now(): Instant;
}

/** The machine's clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock stopped at one instant: for `--at`, tests and simulations. */
export function fixedClock(at: Instant): Clock {
  return { now: () => at };
}
