// The synthetic city's review office: it approves every list entry that waits for sign-off, a week after its record.
import { entryId, type CaseFacts, type Status } from "../evaluate.js";
import { addDuration, parseDuration, parseInstant, type Duration, type Instant } from "../time.js";

/** How long after a record the synthetic review office approves the list entries it gives (an assumption: docs/synthetic-city.md). */
export const SYNTHETIC_SIGN_OFF_DELAY: Duration = parseDuration("P7D") as Duration;

/**
 * The sign-offs the synthetic review office has decided by the status's instant: an approval of every entry of the
 * status's effects that waits for sign-off, at its record's occurredAt plus `delay`. Entries whose approval would
 * come after `status.at` are left undecided, so they stay awaiting sign-off, as they would in a real office.
 * Pure; evaluate with NO_CASE first, then again with `{ ...NO_CASE, signOffs: syntheticApprovals(status) }`.
 */
export function syntheticApprovals(status: Pick<Status, "at" | "effects">, delay: Duration = SYNTHETIC_SIGN_OFF_DELAY): Map<string, { approved: boolean; at: Instant }> {
  const now = parseInstant(status.at) as Instant;
  const out = new Map<string, { approved: boolean; at: Instant }>();
  for (const e of status.effects) {
    if (e.state !== "awaiting-sign-off" || e.list === undefined) continue;
    const at = addDuration(parseInstant(e.occurredAt) as Instant, delay);
    if (at <= now) out.set(entryId(e.record, e.rule, e.list), { approved: true, at });
  }
  return out satisfies CaseFacts["signOffs"];
}
