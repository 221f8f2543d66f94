// The `generate` command: a synthetic city of people and enterprises, with their names and records, streamed into the store.
import { readFile } from "node:fs/promises";
import { InvalidArgumentError, type Command } from "commander";
import cliProgress from "cli-progress";
import { parse as parseYaml } from "yaml";
import { fixedClock } from "../../app/clock.js";
import { AppContext } from "../../app/context.js";
import { UserError } from "../../app/errors.js";
import { DEFAULT_GENERATION_INSTANT, defaultGenerationInstant, generatePopulation, MAX_SUBJECTS, MAX_YEARS, type GenerateSummary } from "../../app/generate.js";
import { parsePlaces } from "../../core/synth/places.js";
import { seedOf } from "../../core/synth/random.js";
import { parseRates, type RateOverrides } from "../../core/synth/streams.js";
import { parseInstant, type Instant } from "../../core/time.js";
import type { StoreOptions } from "../../storage/open.js";

/** What the command needs from the main program. */
export interface GenerateHost {
  program: Command;
  /** Opens the database of the command's --db; the main program closes it. */
  contextOf(cmd: Command, options?: StoreOptions): AppContext;
  out(s: string): void;
  stderr: { write(s: string): unknown; isTTY?: boolean };
  operator(): string;
}

interface GenerateFlags {
  people: number;
  enterprises?: number;
  years: number;
  seed: string;
  regions: string;
  rates?: string;
}

const wholeNumber = (max: number) => (v: string) => {
  const n = Number(v.replace(/_/g, ""));
  if (!/^\d[\d_]*$/.test(v) || !Number.isSafeInteger(n) || n > max) throw new InvalidArgumentError(`must be a whole number from 0 to ${max}`);
  return n;
};

const fmt = (n: number) => n.toLocaleString("en-US");
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const percent = (part: number, whole: number) => (whole === 0 ? "-" : `${((100 * part) / whole).toFixed(2)}%`);

/** The summary as a person reads it. */
export function renderSummary(s: GenerateSummary): string {
  const lines = [
    `generated ${fmt(s.people)} people (${fmt(s.minors)} under 18) and ${fmt(s.enterprises)} enterprises, seed ${s.seed}, records over ${s.years} years to ${s.at}`,
    `regions: ${s.regions.length > 4 ? `${s.regions.length} districts from ${s.regions[0]?.name} to ${s.regions.at(-1)?.name}` : s.regions.map((r) => r.name).join(", ")}`,
    `records:${Object.keys(s.records).length === 0 ? " none" : ""}`,
    ...Object.entries(s.records).map(([c, n]) => `  ${c} ${fmt(n)}`),
    `  about minors (kept, never scored): ${fmt(s.recordsOfMinors)}`,
    `import: accepted ${fmt(s.receipt.accepted)}, duplicates ${fmt(s.receipt.duplicates)}, rejected ${fmt(s.receipt.rejected.length)} (decision ${s.decisionId})`,
    ...s.receipt.rejected.slice(0, 10).map((r) => `  record ${r.line}: ${r.reason}`),
    `at ${s.at}, of the generated subjects:`,
    ...Object.entries(s.lists.people).map(([l, n]) => `  on ${l}: ${fmt(n)} people (${percent(n, s.people)} of people)`),
    ...Object.entries(s.lists.enterprises).map(([l, n]) => `  on ${l}: ${fmt(n)} enterprises (${percent(n, s.enterprises)} of enterprises)`),
    ...Object.entries(s.measures).map(([m, n]) => `  ${m} applies to ${fmt(n)}`),
    ...(Object.keys(s.grades).length > 0 ? [`  grades: ${Object.entries(s.grades).map(([g, n]) => `${g} ${fmt(n)}`).join(", ")}`] : []),
    ...(s.generic.length > 0 ? [`generated from their declarations alone: ${s.generic.join(", ")}`] : []),
    `took ${sec(s.timings.totalMs)}: generating ${sec(s.timings.generateMs)}, names ${sec(s.timings.namesMs)}, importing ${sec(s.timings.totalMs - s.timings.generateMs - s.timings.namesMs - s.timings.summaryMs)}, summary ${sec(s.timings.summaryMs)}`,
  ];
  return lines.join("\n") + "\n";
}

async function readRates(file: string, ctx: AppContext): Promise<RateOverrides> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let raw: unknown;
  try {
    // YAML 1.2 reads JSON as well.
    raw = parseYaml(text);
  } catch (e) {
    throw new UserError(`${file}: not JSON or YAML: ${(e as Error).message}`);
  }
  const rates = parseRates(raw ?? {}, await ctx.requireRuleset());
  if (typeof rates === "string") throw new UserError(`${file}: ${rates}`);
  return rates;
}

/** Adds `generate` to the program. */
export function addGenerateCommand(host: GenerateHost): void {
  host.program
    .command("generate")
    .description("generate a synthetic city: people and enterprises with valid IDs, names, and records from every source of the active rulebook, imported as agencies would send them")
    .option("--people <n>", "people to generate", wholeNumber(MAX_SUBJECTS), 100_000)
    .option("--enterprises <n>", "enterprises to generate (default: a tenth of --people)", wholeNumber(MAX_SUBJECTS))
    .option("--years <n>", `records are dated within this many years before the generation instant (1-${MAX_YEARS})`, wholeNumber(MAX_YEARS), 10)
    .option("--seed <seed>", "the seed: a whole number, or any text; the same seed gives the same city", "1")
    .option("--regions <list>", "where people live: beijing, hangzhou, jiangsu, rongcheng or six-digit region codes, comma-separated, each optionally =WEIGHT", "beijing")
    .option("--rates <file>", "JSON or YAML overriding yearly rates per category (see docs/synthetic-city.md)")
    .addHelpText("after", `\nThe generation instant is --at, or ${DEFAULT_GENERATION_INSTANT} (fixed, so that runs are reproducible).\nSee docs/synthetic-city.md for the population model and the rates.`)
    .action(async (flags: GenerateFlags, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ json?: boolean; at?: string }>();
      let at: Instant = defaultGenerationInstant();
      if (g.at) {
        const parsed = parseInstant(g.at);
        if (typeof parsed === "string") throw new UserError(`--at: ${parsed}`);
        at = parsed;
      }
      const places = parsePlaces(flags.regions);
      if (typeof places === "string") throw new UserError(`--regions: ${places}`);
      // The store is the command's; the clock is the generation instant's, so the audit log is reproducible too.
      const ctx = new AppContext(host.contextOf(cmd, { backgroundCheckpoints: true, indexAuditBehind: true }).store, fixedClock(at));
      const rates = flags.rates ? await readRates(flags.rates, ctx) : undefined;
      const people = flags.people;
      const enterprises = flags.enterprises ?? Math.round(people / 10);
      const bar =
        g.json || !host.stderr.isTTY
          ? undefined
          : new cliProgress.SingleBar(
              { format: "generate [{bar}] {percentage}% {value}/{total} subjects", stream: host.stderr as NodeJS.WritableStream, hideCursor: true },
              cliProgress.Presets.shades_classic,
            );
      bar?.start(people + enterprises, 0);
      let summary: GenerateSummary;
      try {
        summary = await generatePopulation(ctx, host.operator(), {
          people,
          enterprises,
          years: flags.years,
          seed: seedOf(flags.seed),
          places,
          ...(rates ? { rates } : {}),
          onProgress: (done) => bar?.update(done),
        });
      } finally {
        bar?.stop();
      }
      host.out(g.json ? JSON.stringify(summary, null, 2) + "\n" : renderSummary(summary));
    });
}
