// The memory benchmark: peak resident memory of `social-credit generate` (generate, import, score a city) at two or
// more population sizes, each run a child process on a fresh database with the shipped rulebooks active. The issue's
// target: a 22-million-person city under 8 GiB peak; with a flat memory profile peak RSS barely grows with N.
//
// Peak RSS is the kernel's high-water mark of the child: read by the child itself at exit
// (process.resourceUsage().maxRSS, through a preloaded data: module) and cross-checked by sampling /proc/PID/status
// VmHWM every 10 ms; the larger is reported. The baseline is the `rulebook activate` run before the first city: Node,
// the CLI and its modules, the store open and the rulebooks compiled, no city.
//
// With --big, one more run: a city of 1,000,000 people (and 100,000 enterprises) with 10 years of records generated,
// imported and scored, timed from process start to exit (the target: under 5 minutes).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { figure, type Benchmark, type BenchOptions, type Figure, type Interference } from "./harness.js";
import { interferenceNotes, removeDir, round, rulebookPaths, tempDir } from "./import.js";

export interface MemoryBenchOptions {
  /** People per run (enterprises: a tenth as many). */
  sizes?: number[];
  /** Regions of the memory runs (`generate --regions`). */
  memoryRegions?: string;
  /** Also run the 1,000,000-person city, timed. */
  big?: boolean;
  /** Regions of the big run. */
  bigRegions?: string;
}

export const DEFAULT_SIZES = [300_000, 1_000_000];
const BIG_PEOPLE = 1_000_000;
const CLI = fileURLToPath(new URL("../bin/social-credit.js", import.meta.url));
const ROOT = fileURLToPath(new URL("../", import.meta.url));
// Writes the process's peak RSS (kB) to the file named by BENCH_MAXRSS_FILE when it exits.
const PRELOAD =
  "data:text/javascript," +
  encodeURIComponent(`import { writeFileSync } from "node:fs";
process.on("exit", () => { try { writeFileSync(process.env.BENCH_MAXRSS_FILE, String(process.resourceUsage().maxRSS)); } catch {} });`);
const TICKS_PER_S = 100;
const MiB = 1024 * 1024;
/** Beijing: 21.9 million people (2020 census), as the issue rounds it 22 million; with a tenth as many enterprises. */
const CITY_PEOPLE = 22_000_000;
const CITY_SUBJECTS = CITY_PEOPLE * 1.1;
const LIMIT_MiB = 8 * 1024;

/** CPU seconds: of the whole machine (busy, stolen), and of this process with its waited-for children. */
function cpuNow(): { busy: number; steal: number; ours: number } | undefined {
  try {
    const f = (readFileSync("/proc/stat", "utf8").split("\n")[0] as string).trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    // utime, stime, cutime, cstime: fields 14-17.
    const s = readFileSync("/proc/self/stat", "utf8").replace(/^.*\) /, "").split(" ").slice(11, 15).map(Number);
    return { busy: (user + nice + system + irq + softirq) / TICKS_PER_S, steal: steal / TICKS_PER_S, ours: s.reduce((a, b) => a + b, 0) / TICKS_PER_S };
  } catch {
    return undefined;
  }
}

interface ChildRun {
  wallMs: number;
  /** Peak RSS in bytes. */
  peak: number;
  stdout: string;
  interference: Interference | undefined;
}

/** Runs the CLI in a child process, watching its peak RSS and who else used the CPU meanwhile. */
function runCli(args: readonly string[], maxRssFile: string): Promise<ChildRun> {
  const c0 = cpuNow();
  const t0 = performance.now();
  const child = spawn(process.execPath, ["--import", PRELOAD, CLI, ...args], { cwd: ROOT, env: { ...process.env, BENCH_MAXRSS_FILE: maxRssFile }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  let hwm = 0;
  const sample = setInterval(() => {
    try {
      const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      if (m?.[1]) hwm = Math.max(hwm, Number(m[1]) * 1024);
    } catch {
      // Gone, or not Linux.
    }
  }, 10);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      clearInterval(sample);
      const wallMs = performance.now() - t0;
      const c1 = cpuNow();
      if (code !== 0) return reject(new Error(`social-credit ${args.join(" ")} exited with ${code}: ${stderr.slice(-2000)}`));
      let self = 0;
      try {
        self = Number(readFileSync(maxRssFile, "utf8")) * 1024;
      } catch {
        // The preload could not write: the samples stand.
      }
      const wall = wallMs / 1000;
      const r = (x: number) => Math.round(Math.max(0, x / wall) * 100) / 100;
      const interference = c0 && c1 ? { othersCores: r(c1.busy - c0.busy - (c1.ours - c0.ours)), stealCores: r(c1.steal - c0.steal) } : undefined;
      resolve({ wallMs, peak: Math.max(self, hwm), stdout, interference });
    });
  });
}

interface CityRun {
  people: number;
  subjects: number;
  records: number;
  peakMiB: number;
  wallMs: number;
  timings: { generateMs: number; namesMs: number; summaryMs: number; totalMs: number };
  interference: Interference | undefined;
  /** The child that activated the rulebooks. */
  activation: ChildRun;
}

/** Activates the shipped rulebooks in a fresh database (not measured), then generates the city in a measured child. */
async function cityRun(dir: string, people: number, regions: string, log: (m: string) => void): Promise<CityRun> {
  const db = join(dir, `city-${people}.sqlite`);
  const activation = await runCli(["--db", db, "rulebook", "activate", ...rulebookPaths()], join(dir, "activate.maxrss"));
  log(`memory: social-credit generate --people ${people} --regions ${regions} --years 10 --seed 1 (a child process)...`);
  const run = await runCli(["--db", db, "--json", "generate", "--people", String(people), "--regions", regions, "--years", "10", "--seed", "1"], join(dir, `city-${people}.maxrss`));
  const s = JSON.parse(run.stdout) as { people: number; enterprises: number; receipt: { accepted: number }; timings: CityRun["timings"] };
  removeDir(db);
  removeDir(`${db}-wal`);
  removeDir(`${db}-shm`);
  return { people, subjects: s.people + s.enterprises, records: s.receipt.accepted, peakMiB: run.peak / MiB, wallMs: run.wallMs, timings: s.timings, interference: run.interference, activation: { ...activation, stdout: "" } };
}

export const memoryBench: Benchmark = {
  name: "memory",
  title: "Peak RSS of `social-credit generate` (generate, import, score) by population size",
  async run(o: BenchOptions & MemoryBenchOptions) {
    const sizes = [...(o.sizes ?? DEFAULT_SIZES)].sort((a, b) => a - b);
    if (sizes.length < 2) throw new Error("memory: give at least two sizes");
    const regions = o.memoryRegions ?? "beijing";
    const dir = tempDir();
    try {
      const runs: CityRun[] = [];
      for (const people of sizes) runs.push(await cityRun(dir, people, regions, o.log));
      // The baseline: the first run's `rulebook activate`, the CLI with the store open and the rulebooks compiled, no city.
      const base = (runs[0] as CityRun).activation;
      const baseMiB = base.peak / MiB;
      const small = runs[0] as CityRun;
      const large = runs[runs.length - 1] as CityRun;
      // Growth of the peak per million more subjects, between the two largest runs: the marginal growth at the top.
      const prev = runs[runs.length - 2] as CityRun;
      const slope = ((large.peakMiB - prev.peakMiB) / (large.subjects - prev.subjects)) * 1e6;
      const extrapolated = large.peakMiB + Math.max(0, slope) * ((CITY_SUBJECTS - large.subjects) / 1e6);
      const mib = (x: number) => round(x, 0);
      const figures: Figure[] = [
        ...runs.map((r, i) =>
          i === 0
            ? figure(`peak RSS, ${r.people.toLocaleString("en-US")} people`, "MiB", mib(r.peakMiB), { name: "social-credit rulebook activate (no city)", value: mib(baseMiB) })
            : figure(`peak RSS, ${r.people.toLocaleString("en-US")} people`, "MiB", mib(r.peakMiB), { name: `peak RSS, ${small.people.toLocaleString("en-US")} people`, value: mib(small.peakMiB) }),
        ),
        figure(`peak RSS per million subjects, ${large.people.toLocaleString("en-US")} people`, "MiB", mib(large.peakMiB / (large.subjects / 1e6)), {
          name: `the same at ${small.people.toLocaleString("en-US")} people`,
          value: mib(small.peakMiB / (small.subjects / 1e6)),
        }),
        figure(`peak RSS growth per million more subjects, ${prev.people.toLocaleString("en-US")} to ${large.people.toLocaleString("en-US")} people`, "MiB", round(slope, 1), { name: `peak RSS at ${prev.people.toLocaleString("en-US")} people`, value: mib(prev.peakMiB) }),
        figure(`peak RSS extrapolated to ${CITY_PEOPLE / 1e6} million people and ${CITY_PEOPLE / 1e7} million enterprises`, "MiB", mib(extrapolated), { name: `peak RSS at ${large.people.toLocaleString("en-US")} people`, value: mib(large.peakMiB) }, {
          description: "under 8 GiB",
          met: extrapolated < LIMIT_MiB,
        }),
      ];
      const notes: string[] = [];
      const cpu: [string, Interference | undefined][] = [
        ["rulebook activation run", base.interference],
        ...runs.map((r) => [`${r.people.toLocaleString("en-US")}-person run`, r.interference] as [string, Interference | undefined]),
      ];
      let bigRun: CityRun | undefined;
      if (o.big) {
        const bigRegions = o.bigRegions ?? "hangzhou";
        bigRun = await cityRun(dir, BIG_PEOPLE, bigRegions, o.log);
        cpu.push([`${BIG_PEOPLE.toLocaleString("en-US")}-person run`, bigRun.interference]);
        figures.push(
          figure(`${BIG_PEOPLE.toLocaleString("en-US")} people (${bigRegions}), 10 years: generated, imported, scored`, "s", round(bigRun.wallMs / 1000, 1), {
            name: "of which inside the generator",
            value: round(bigRun.timings.generateMs / 1000, 1),
          }, { description: "under 5 minutes", met: bigRun.wallMs < 300_000 }),
          figure(`peak RSS, ${BIG_PEOPLE.toLocaleString("en-US")} people (${bigRegions})`, "MiB", mib(bigRun.peakMiB), { name: `peak RSS, ${small.people.toLocaleString("en-US")} people`, value: mib(small.peakMiB) }),
        );
        notes.push(
          `big run: ${bigRun.subjects.toLocaleString("en-US")} subjects, ${bigRun.records.toLocaleString("en-US")} records; command's own timings: generating ${round(bigRun.timings.generateMs / 1000, 1)} s, names ${round(bigRun.timings.namesMs / 1000, 1)} s, summary ${round(bigRun.timings.summaryMs / 1000, 1)} s, importing ${round((bigRun.timings.totalMs - bigRun.timings.generateMs - bigRun.timings.namesMs - bigRun.timings.summaryMs) / 1000, 1)} s, total ${round(bigRun.timings.totalMs / 1000, 1)} s`,
        );
      }
      notes.unshift(...interferenceNotes(cpu));
      notes.push(
        ...runs.map(
          (r) =>
            `${r.people.toLocaleString("en-US")} people (${regions}): ${r.subjects.toLocaleString("en-US")} subjects, ${r.records.toLocaleString("en-US")} records, peak ${mib(r.peakMiB)} MiB, ${round(r.wallMs / 1000, 1)} s from process start to exit`,
        ),
        `peak RSS: the child's own maxRSS at exit and /proc/PID/status VmHWM sampled every 10 ms, the larger; each run a fresh database, rulebooks activated by an earlier child`,
        `extrapolation: the largest run's peak plus its growth per million subjects (from the run before it) times the ${((CITY_SUBJECTS - large.subjects) / 1e6).toFixed(1)} million subjects more: linear, so an upper bound if the growth levels off (SQLite's page cache is capped at 64 MiB and its memory map at 1 GiB)`,
      );
      return {
        name: "memory",
        title: this.title,
        figures,
        notes,
        details: { regions, baselineMiB: baseMiB, runs: runs.map(({ activation: _a, ...r }) => r), slopeMiBPerMillion: slope, extrapolatedMiB: extrapolated, ...(bigRun ? { big: bigRun } : {}) },
      };
    } finally {
      removeDir(dir);
    }
  },
};
