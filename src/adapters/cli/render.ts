// Text renderings of statuses, checks, receipts and rulebooks for people at a terminal (--json gives the data as is).
import type { Receipt } from "../../app/ingest.js";
import type { CheckDecision } from "../../core/check.js";
import type { Status } from "../../core/evaluate.js";
import type { Ruleset } from "../../core/rulebook/ruleset.js";
import { regionName, provinceName } from "../../core/regions.js";
import { chinaDay } from "../../core/time.js";

// People read dates on the calendar of the agencies that reported them: China Standard Time.
const day = (iso: string | null) => (iso === null ? "open" : chinaDay(Date.parse(iso)));

function place(status: Status): string {
  return regionName(status.region) ?? provinceName(status.region) ?? `region ${status.region}`;
}

/** A subject's status in a few lines. */
export function renderStatus(s: Status): string {
  const lines = [
    `Subject      ${s.subject} (${s.kind}, ${place(s)}; jurisdiction ${s.jurisdiction})`,
    `At           ${s.at}`,
    `Score        ${s.score}`,
    `Grade        ${s.minor ? "none: under 18" : (s.grade ?? "none in this jurisdiction")}`,
  ];
  if (s.lists.length === 0) lines.push("Lists        none");
  s.lists.forEach((l, i) =>
    lines.push(`${i === 0 ? "Lists        " : "             "}${l.list} (${l.kind}) ${day(l.since)} to ${day(l.until)}; records ${l.records.join(", ")}`),
  );
  if (s.measures.length === 0) lines.push("Measures     none");
  s.measures.forEach((m, i) => {
    const why = "list" in m.trigger ? `list ${m.trigger.list}` : `grade ${m.trigger.grade}`;
    lines.push(`${i === 0 ? "Measures     " : "             "}${m.measure} (${m.kind}, by ${why}) ${day(m.since)} to ${day(m.until)}`);
  });
  s.awaitingSignOff.forEach((a, i) => {
    lines.push(`${i === 0 ? "Awaiting     " : "             "}entry on ${a.list} (record ${a.record}) waits for a reviewer's sign-off; sign-off ${a.entry}`);
  });
  lines.push(`Next change  ${s.nextChangeAt ?? "none scheduled"}`);
  return lines.join("\n") + "\n";
}

/** A status followed by every effect behind it, with rule, legal basis and dates. */
export function renderExplanation(s: Status): string {
  const out = [renderStatus(s), "Effects"];
  if (s.effects.length === 0) out.push("  none: no record gave an effect under the active rulebook");
  for (const e of s.effects) {
    const what = e.kind === "points" ? `${(e.points ?? 0) > 0 ? "+" : ""}${e.points} points` : `entry on ${e.list}`;
    out.push(`  [${e.state}] ${what} from ${day(e.from)} to ${day(e.until)}${e.endedBy ? ` (ended early by ${"record" in e.endedBy ? e.endedBy.record : `restoration ${e.endedBy.restoration}`})` : ""}${e.disputed ? " [disputed]" : ""}`);
    out.push(`      record ${e.record} (${e.category}, ${day(e.occurredAt)}), rule ${e.rule}`);
    out.push(`      legal basis: ${e.legalBasis.join("; ")}`);
    if (e.endedBy) out.push(`      ended under: ${e.endedBy.legalBasis}`);
  }
  for (const x of s.excluded) out.push(`  [not applied] record ${x.record}: ${x.reason}`);
  return out.join("\n") + "\n";
}

/** An enforcer's answer: yes or no, and why. */
export function renderCheck(d: CheckDecision): string {
  const out = [`${d.measure} ${d.applies ? "APPLIES" : "does not apply"} to ${d.subject} at ${d.at}`];
  for (const r of d.reasons) {
    out.push(`  because ${r.list ? `on list ${r.list}` : `grade ${r.grade}`} since ${day(r.since)} until ${day(r.until)}`);
    if (r.records.length > 0) out.push(`    records: ${r.records.map((x) => (r.disputed.includes(x) ? `${x} (disputed: an objection is pending)` : x)).join(", ")}`);
    out.push(`    legal basis: ${r.legalBasis.join("; ")}`);
  }
  return out.join("\n") + "\n";
}

/** An import receipt. */
export function renderReceipt(r: Receipt, sidecar: string | undefined): string {
  const out = [
    `accepted ${r.accepted}, duplicates ${r.duplicates}, corrected ${r.corrected}, retracted ${r.retracted}, rejected ${r.rejected.length}`,
  ];
  for (const x of r.rejected.slice(0, 20)) out.push(`  line ${x.line}: ${x.reason}`);
  if (r.rejected.length > 20) out.push(`  ... and ${r.rejected.length - 20} more`);
  if (sidecar) out.push(`rejected lines written to ${sidecar}`);
  return out.join("\n") + "\n";
}

/** The active rulebook: layers with versions, and what each declares. */
export function renderRuleset(r: Ruleset): string {
  const out = [`Ruleset ${r.hash.slice(0, 12)}`];
  for (const l of r.layers) {
    out.push(`  ${l.id} ${l.version}${l.parent ? ` (under ${l.parent}; regions ${l.regions.join(", ")})` : " (national)"}: ${l.title}`);
  }
  out.push(`Lists     ${[...r.lists.keys()].sort().join(", ") || "none"}`);
  out.push(`Measures  ${[...r.measures.keys()].sort().join(", ") || "none"}`);
  out.push(`Sources   ${[...r.grants.keys()].sort().join(", ")}`);
  return out.join("\n") + "\n";
}
