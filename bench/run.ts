// The benchmark runner: `npm run bench` runs every registered benchmark; `npm run -s bench -- --json` prints JSON only.
//
// The benchmarks are TypeScript, type-checked and linted with the rest of the repository; they run through a small
// module hook (register.mjs, ts-hooks.mjs) that strips their types and points their ../src/*.js imports at the build
// in dist/, which `npm run bench` makes first. Each benchmark reports figures beside a baseline measured in the same
// run, and the ratio; targets are reported as met or not, never turned into a failing exit code (only an error is).
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { checks } from "./checks.js";
import { evaluationBench } from "./evaluation.js";
import { DEFAULT_PEOPLE, DEFAULT_REGIONS, importBench, type CityBenchOptions } from "./import.js";
import { DEFAULT_SIZES, memoryBench, type MemoryBenchOptions } from "./memory.js";
import { postgresBench } from "./postgres.js";
import { rescoreBench } from "./rescore.js";
import { machine, stopChildren, type Benchmark, type BenchOptions, type BenchResult, type Figure } from "./harness.js";

/** Every benchmark, in the order they run. Import, rescore, evaluation, memory and PostgreSQL benchmarks register here. */
const BENCHMARKS: readonly Benchmark[] = [checks, importBench, rescoreBench, evaluationBench, memoryBench, postgresBench];

const USAGE = `usage: npm run bench -- [options]

  --json               print the results as JSON on stdout (progress stays on stderr; add -s to npm: npm run -s bench -- --json)
  --only NAME[,NAME]   run only these benchmarks (${BENCHMARKS.map((b) => b.name).join(", ")})
  --duration SECONDS   length of each measured load run (default 10)
  --warmup SECONDS     load before each measured run, not counted (default 3)
  --connections N      concurrent connections of the load generator (default 50)
  --rounds N           repeat each baseline/measured pair of runs N times, alternating; figures are medians (default 1)
  --subjects N         subjects with records in the fixture database (default 5000)
  --db FILE            checks: run against this existing database (a generated city) instead of a fixture, sampling
                       --subjects debtors, other people with records, and people nobody reported on
  --people N           people in the synthetic city of the import, rescore and evaluation benchmarks (default ${DEFAULT_PEOPLE};
                       enterprises: a tenth as many)
  --regions LIST       that city's regions, as \`generate --regions\` takes them (default ${DEFAULT_REGIONS})
  --sizes N,N[,N]      people in each run of the memory benchmark (default ${DEFAULT_SIZES.join(",")}; Beijing; the last two give the growth)
  --big                memory benchmark: also a city of 1,000,000 people with 10 years of records generated, imported and
                       scored, timed (a few minutes)
  --big-regions LIST   the regions of that city (default hangzhou, where records are plentiful)
  --profile DIR        write a CPU profile of each server child's measured runs into DIR (NAME.cpuprofile; read
                       them with bench/profile-summary.ts or Chrome DevTools); profiling slows the servers down
  --help`;

const { values } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    only: { type: "string" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "3" },
    connections: { type: "string", default: "50" },
    rounds: { type: "string", default: "1" },
    subjects: { type: "string", default: "5000" },
    db: { type: "string" },
    people: { type: "string", default: String(DEFAULT_PEOPLE) },
    regions: { type: "string", default: DEFAULT_REGIONS },
    sizes: { type: "string", default: DEFAULT_SIZES.join(",") },
    big: { type: "boolean", default: false },
    "big-regions": { type: "string", default: "hangzhou" },
    profile: { type: "string" },
    help: { type: "boolean", default: false },
  },
});

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

function numberOption(name: string, raw: string, min: number, integer = true): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    console.error(`--${name}: expected a ${integer ? "whole " : ""}number of at least ${min}, got ${raw}\n\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

const only = values.only?.split(",").map((s) => s.trim());
const unknown = only?.filter((n) => !BENCHMARKS.some((b) => b.name === n)) ?? [];
if (unknown.length > 0) {
  console.error(`--only: no benchmark ${unknown.join(", ")}\n\n${USAGE}`);
  process.exit(2);
}
const selected = BENCHMARKS.filter((b) => !only || only.includes(b.name));

const profileDir = values.profile === undefined ? undefined : resolve(values.profile);
if (profileDir) mkdirSync(profileDir, { recursive: true });

const options: BenchOptions & CityBenchOptions & MemoryBenchOptions = {
  durationS: numberOption("duration", values.duration, 1, false),
  warmupS: numberOption("warmup", values.warmup, 0, false),
  connections: numberOption("connections", values.connections, 1),
  rounds: numberOption("rounds", values.rounds, 1),
  // Enough for every kind of subject the fixture makes (debtors, other records, nobody reported on).
  subjects: numberOption("subjects", values.subjects, 10),
  ...(values.db ? { db: resolve(values.db) } : {}),
  people: numberOption("people", values.people, 100),
  regions: values.regions,
  sizes: values.sizes.split(",").map((x) => numberOption("sizes", x.trim(), 1000)),
  big: values.big,
  bigRegions: values["big-regions"],
  ...(profileDir ? { profileDir } : {}),
  log: (m) => console.error(m),
};

const fmt = (x: number) => (Math.abs(x) >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(2));

function table(r: BenchResult): string {
  const rows = [
    ["figure", "value", "baseline", "ratio", "target", "met"],
    ...r.figures.map((f: Figure) => [
      f.name,
      `${fmt(f.value)} ${f.unit}`,
      `${fmt(f.baseline.value)} ${f.unit} (${f.baseline.name})`,
      `${f.ratio.toFixed(2)}×`,
      f.target?.description ?? "",
      f.target ? (f.target.met ? "yes" : "NO") : "",
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd()).join("\n");
}

const started = new Date();
const host = machine();
if (profileDir) console.error(`profiling into ${profileDir}: the servers run slower while profiled, so these figures are not the benchmark's`);
const results: BenchResult[] = [];
try {
  for (const b of selected) results.push(await b.run(options));
} catch (e) {
  // A benchmark that fails (a wrong answer, an error status, a server that died) reports nothing.
  console.error(`benchmark failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  await stopChildren();
  process.exit(1);
}

const targets = results.flatMap((r) => r.figures.flatMap((f) => (f.target ? [f.target] : [])));
const met = targets.filter((t) => t.met).length;
const report = {
  date: started.toISOString(),
  command: process.argv.length > 2 ? `npm run bench -- ${process.argv.slice(2).join(" ")}` : "npm run bench",
  machine: host,
  options: { durationS: options.durationS, warmupS: options.warmupS, connections: options.connections, rounds: options.rounds, subjects: options.subjects, people: options.people, regions: options.regions, sizes: options.sizes, big: options.big },
  results,
  targets: { met, total: targets.length },
};

if (values.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const m = report.machine;
  console.log(`${report.date}  ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB, Node ${m.node} (${m.platform}), load average ${m.loadAverage} at start, commit ${m.commit}`);
  for (const r of results) console.log(`\n${r.name}: ${r.title}\n${table(r)}${r.notes.map((n) => `\n  ${n}`).join("")}`);
  console.log(`\ntargets met: ${met} of ${targets.length}`);
}
