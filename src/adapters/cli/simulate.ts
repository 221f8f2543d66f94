// `social-credit simulate`: what a draft rulebook would do to everyone, as text, JSON or an HTML report, changing nothing.
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import type { AppContext } from "../../app/context.js";
import { UserError } from "../../app/errors.js";
import type { RulebookFile } from "../../app/rulebooks.js";
import { DEFAULT_TOP, simulate, type MembershipChange, type WhatIfReport } from "../../app/simulate.js";
import { renderWhatIfHtml } from "../reports/what-if-html.js";

/** A progress bar as the main program makes them (none when not on a terminal). */
export interface ProgressBar {
  start(total: number, value: number): void;
  update(value: number): void;
  stop(): void;
}

/** What the simulate command needs from the main program. */
export interface SimulateHost {
  program: Command;
  contextOf(cmd: Command): AppContext;
  jsonOf(cmd: Command): boolean;
  out(s: string): void;
  operator(): string;
  readRulebookFiles(files: string[]): Promise<RulebookFile[]>;
  progressBar?(cmd: Command): ProgressBar | undefined;
}

const count = (n: number) => n.toLocaleString("en-US");
const signed = (n: number) => (n > 0 ? `+${count(n)}` : count(n));
const plural = (n: number, one: string, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;

/** A plain-text table with right-aligned numbers. */
function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string[] {
  const cells = [head, ...rows.map((r) => r.map((c) => (typeof c === "number" ? count(c) : c)))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r, k) =>
    "  " +
    r
      .map((c, i) => {
        const raw = rows[k - 1]?.[i];
        const numeric = k > 0 && (typeof raw === "number" || /^[+-]?[\d,]+$/.test(c));
        return numeric ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number);
      })
      .join("  ")
      .trimEnd(),
  );
}

function memberships(title: string, rows: readonly MembershipChange[]): string[] {
  if (rows.length === 0) return [`${title}: none`];
  return [`${title}`, ...table(["id", "kind", "before", "after", "change", "entered", "left"], rows.map((r) => [r.id, r.kind, r.before, r.after, signed(r.after - r.before), r.entered, r.left]))];
}

const ids = (entered: readonly string[], left: readonly string[]) => [...entered.map((x) => `+${x}`), ...left.map((x) => `-${x}`)].join(" ");

/** The report as text for a terminal. */
export function renderWhatIfText(r: WhatIfReport): string {
  const s = r.subjects;
  const layers = (ls: WhatIfReport["draft"]) => ls.map((l) => `${l.id} ${l.version} (${l.sha256.slice(0, 12)})`).join(", ");
  const share = s.evaluated === 0 ? "" : ` (${((100 * s.changed) / s.evaluated).toFixed(2)}%)`;
  const out = [
    `What-if at ${r.at}: nothing was changed (audit decision ${r.decisionId})`,
    `  draft     ${layers(r.draft)}`,
    ...(r.against ? [`  against   ${layers(r.against)}`] : []),
    `  before    ruleset ${r.before.rulesetHash.slice(0, 12)}`,
    `  after     ruleset ${r.after.rulesetHash.slice(0, 12)}`,
    "",
    `Subjects    ${count(s.evaluated)} evaluated, ${count(s.changed)} changed${share}, ${count(s.unchanged)} unchanged` + (s.periodsOnly > 0 ? ` (of which ${count(s.periodsOnly)} with only a list or measure period changed)` : "") +
      (s.allRetracted > 0 ? `; ${plural(s.allRetracted, "subject")} with every record retracted, as if never reported` : ""),
    `Score       mean ${r.score.meanBefore ?? "-"} -> ${r.score.meanAfter ?? "-"}; up for ${count(r.score.up)}, down for ${count(r.score.down)}`,
    "",
    "Grades (rows before, columns after)",
    ...table(["before\\after", ...r.grades.labels], r.grades.labels.map((from, i) => [from, ...(r.grades.matrix[i] ?? [])])),
    "",
    ...memberships("Lists", r.lists),
    "",
    ...memberships("Measures", r.measures),
    "",
  ];
  const regions = r.breakdown.region.filter((x) => x.changed > 0);
  out.push(regions.length === 0 ? "Changes by region: none" : "Changes by region");
  if (regions.length > 0) {
    out.push(...table(["region", "name", "evaluated", "changed", "up", "down"], regions.slice(0, 20).map((x) => [x.code, x.name ?? "", x.evaluated, x.changed, x.scoreUp, x.scoreDown])));
    if (regions.length > 20) out.push(`  ... and ${regions.length - 20} more regions with changes (--json or --html for all)`);
  }
  out.push("", "Changes by age band and kind");
  out.push(...table(["band", "evaluated", "changed", "up", "down"], [...r.breakdown.ageBand.map((x) => [x.band, x.evaluated, x.changed, x.scoreUp, x.scoreDown] as const), ...r.breakdown.kind.map((x) => [`all ${x.kind}s`, x.evaluated, x.changed, x.scoreUp, x.scoreDown] as const)]));
  out.push("");
  if (r.top.length === 0) out.push("Nobody changes.");
  else {
    out.push(`The ${r.top.length} who change most (person IDs masked)`);
    out.push(
      ...table(
        ["subject", "kind", "region", "age", "score", "change", "grade", "lists", "measures"],
        r.top.map((t) => [t.subject, t.kind, t.region, t.ageBand, `${t.score.before} -> ${t.score.after}`, signed(t.score.change), `${t.grade.before ?? "none"} -> ${t.grade.after ?? "none"}`, ids(t.lists.entered, t.lists.left), ids(t.measures.entered, t.measures.left)]),
      ),
    );
  }
  out.push("", r.unreported.note);
  for (const b of r.unreported.bases.filter((x) => x.changed)) {
    const st = (x: typeof b.before) => `${x.score}${x.grade ? ` ${x.grade}` : ""}${x.measures.length > 0 ? ` [${x.measures.join(", ")}]` : ""}`;
    out.push(`  ${b.regions}${b.regionName ? ` ${b.regionName}` : ""}, ${b.kind}: ${st(b.before)} -> ${st(b.after)}`);
  }
  out.push(`Evaluated ${plural(s.evaluated, "subject")} in ${count(r.elapsedMs)} ms.`);
  return out.join("\n") + "\n";
}

const whole = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`${name}: must be a whole number, got ${v}`);
  return n;
};

async function writeOut(file: string, text: string): Promise<void> {
  try {
    await writeFile(file, text, "utf8");
  } catch (e) {
    throw new UserError(`cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Adds `simulate` to the program. */
export function addSimulateCommand(host: SimulateHost): void {
  host.program
    .command("simulate")
    .description("what a draft rulebook would do to every subject, before it is enacted: evaluated beside the rulebook in force at one instant (the global --at, or now), changing nothing")
    .requiredOption("--rulebook <files...>", "the draft's layer files; each replaces the layer of the same id (repeatable)")
    .option("--against <files...>", "compare with these layers in place of the active ones of the same id, instead of the active rulebook alone (repeatable)")
    .option("--html <file>", "also write a self-contained HTML report with charts to this file")
    .option("--changed-out <file>", "also write the IDs of every subject that changes, one per line, unmasked (keep the file as you would the database)")
    .option("--top <n>", "how many of the subjects who change most to list", whole("--top"), DEFAULT_TOP)
    .addHelpText("after", "\nThe global --at INSTANT sets the instant both rulebooks are evaluated at. See docs/what-if.md.")
    .action(async (o: { rulebook: string[]; against?: string[]; html?: string; changedOut?: string; top: number }, cmd: Command) => {
      const ctx = host.contextOf(cmd);
      const draft = await host.readRulebookFiles(o.rulebook);
      const against = o.against ? await host.readRulebookFiles(o.against) : undefined;
      const bar = host.jsonOf(cmd) ? undefined : host.progressBar?.(cmd);
      const { report, changed } = await simulate(ctx, host.operator(), draft, {
        ...(against ? { against } : {}),
        top: o.top,
        collectChanged: o.changedOut !== undefined,
        // Counting the population for a bar costs a scan: only when there is a bar to show.
        ...(bar
          ? {
              progress: (done: number, total: number) => {
                if (done === 0) bar.start(total, 0);
                else bar.update(done);
              },
            }
          : {}),
      });
      bar?.stop();
      if (o.html) await writeOut(o.html, renderWhatIfHtml(report));
      if (o.changedOut) await writeOut(o.changedOut, (changed ?? []).map((id) => `${id}\n`).join(""));
      if (host.jsonOf(cmd)) {
        host.out(JSON.stringify(report, null, 2) + "\n");
        return;
      }
      host.out(renderWhatIfText(report));
      if (o.html) host.out(`HTML report written to ${o.html}\n`);
      if (o.changedOut) host.out(`${plural(changed?.length ?? 0, "changed subject ID")} written to ${o.changedOut}\n`);
    });
}
