// What every benchmark shares: the shape of its report, servers in child processes, the load generator, statistics and the machine.
import { execFileSync, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import autocannon, { type Client, type Request } from "autocannon";

/**
 * One measured figure, always beside a baseline measured in the same run: absolute times mean little across machines,
 * a ratio to what a bare framework does on the same machine at the same moment means more.
 */
export interface Figure {
  name: string;
  unit: string;
  value: number;
  baseline: { name: string; value: number };
  /** value / baseline.value */
  ratio: number;
  /** What the issue asks of this figure, and whether this run met it. */
  target?: { description: string; met: boolean };
}

export interface BenchResult {
  name: string;
  title: string;
  figures: Figure[];
  /** A few lines worth reading beside the figures. */
  notes: string[];
  /** Everything else worth keeping: settings, raw figures, sanity counts. */
  details: Record<string, unknown>;
}

export interface BenchOptions {
  /** Seconds of each measured load run. */
  durationS: number;
  /** Seconds of load before each measured run, not counted. */
  warmupS: number;
  connections: number;
  /** How many times each pair of runs (baseline, then the thing measured) is repeated, alternating; figures are medians. */
  rounds: number;
  /** Subjects with records in the fixture database. */
  subjects: number;
  /** The checks benchmark against this existing database (such as a generated Beijing) instead of a fixture it builds. */
  db?: string;
  /** Write a V8 CPU profile of every server child into this directory. */
  profileDir?: string;
  /** Progress, to stderr: stdout carries only results. */
  log(message: string): void;
}

/** A benchmark module; register it in run.ts. */
export interface Benchmark {
  name: string;
  title: string;
  run(options: BenchOptions): Promise<BenchResult>;
}

export const figure = (name: string, unit: string, value: number, baseline: Figure["baseline"], target?: Figure["target"]): Figure => ({
  name,
  unit,
  value,
  baseline,
  ratio: value / baseline.value,
  ...(target ? { target } : {}),
});

// ---------------------------------------------------------------------------------------------------------------
// Servers under test run in child processes, started identically (same Node flags, same loader), while the load
// generator runs in this process: on a small machine they then compete for cores the same way in every measurement.

export interface ChildServer {
  url: string;
  pid: number;
  /** Runs work while the server child records a CPU profile into the profile directory as NAME.cpuprofile (if one was given). */
  profiled<T>(name: string, work: () => Promise<T>): Promise<T>;
  /** Counters the server keeps (servers/app.ts: store transactions). */
  stats(): Promise<Record<string, number>>;
  /** Asks the server to close and waits for the process to end. */
  stop(): Promise<void>;
}

/** What the runner tells a server child. */
export type ParentMessage = { kind: "profile-start" } | { kind: "profile-stop"; file: string } | { kind: "stats" } | { kind: "stop" };
/** What a server child answers. */
export type ChildReply = { kind: "listening"; port: number } | { kind: "profiling" } | { kind: "profiled"; file: string } | { kind: "stats"; stats: Record<string, number> };

const REGISTER = new URL("./register.mjs", import.meta.url).href;

/** Server children now running, by process id: their CPU is ours, not interference. */
const children = new Map<number, () => void>();

/** Ends every server child still running (after a failure, so that the runner can exit). */
export async function stopChildren(): Promise<void> {
  for (const kill of children.values()) kill();
}

/** Starts a server module (bench/servers/*.ts) in a child process and waits until it listens on 127.0.0.1. */
export function startChild(module: URL, args: readonly string[], profileDir?: string): Promise<ChildServer> {
  const child = fork(module, [...args], { execArgv: ["--import", REGISTER], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  children.set(child.pid as number, () => child.kill());
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      children.delete(child.pid as number);
      resolve(code);
    }),
  );
  const next = (kind: ChildReply["kind"]) =>
    new Promise<ChildReply>((resolve, reject) => {
      const onMessage = (m: unknown) => {
        if ((m as ChildReply).kind !== kind) return;
        child.off("message", onMessage);
        resolve(m as ChildReply);
      };
      child.on("message", onMessage);
      void exited.then((code) => reject(new Error(`server ${module.pathname} exited (code ${code}) while the benchmark waited for "${kind}"`)));
    });
  const tell = (m: ParentMessage) => child.send(m);

  return next("listening").then((m) => ({
    url: `http://127.0.0.1:${(m as Extract<ChildReply, { kind: "listening" }>).port}`,
    pid: child.pid as number,
    async profiled<T>(name: string, work: () => Promise<T>): Promise<T> {
      if (!profileDir) return work();
      const started = next("profiling");
      tell({ kind: "profile-start" });
      await started;
      const result = await work();
      const stopped = next("profiled");
      tell({ kind: "profile-stop", file: join(profileDir, `${name}.cpuprofile`) });
      await stopped;
      return result;
    },
    async stats() {
      const answer = next("stats");
      tell({ kind: "stats" });
      return ((await answer) as Extract<ChildReply, { kind: "stats" }>).stats;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      tell({ kind: "stop" });
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    },
  }));
}

// ---------------------------------------------------------------------------------------------------------------

// Who else used the CPU during a measurement, read from /proc (Linux only; elsewhere nothing is reported).
const TICKS_PER_S = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds since boot, all CPUs together: busy, and stolen by the hypervisor. */
function machineCpu(): { busy: number; steal: number } | undefined {
  try {
    // cpu  user nice system idle iowait irq softirq steal ...
    const f = (readFileSync("/proc/stat", "utf8").split("\n")[0] as string).trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    return { busy: (user + nice + system + irq + softirq) / TICKS_PER_S, steal: steal / TICKS_PER_S };
  } catch {
    return undefined;
  }
}

/** CPU seconds a process has used, all its threads together. */
function processCpu(pid: number): number | undefined {
  try {
    // The command name (field 2) may hold spaces; utime and stime are fields 14 and 15, all threads included.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
  } catch {
    return undefined;
  }
}

/** Who else used the CPU during a measurement, in cores on average: anything above a few hundredths skews the figures. */
export interface Interference {
  /** Processes other than this runner and the server under load: other programs, and the server children not under load. */
  othersCores: number;
  /** Time the hypervisor gave this machine's CPUs to someone else. */
  stealCores: number;
  /** This runner (the load generator, in the load benchmarks), all its threads; where watchCpu measured it. */
  runnerCores?: number;
  /**
   * The server under load, all its threads (about 1 when a single-threaded server is saturated); or, where watchCpu was
   * given none, the server children together.
   */
  serverCores?: number;
}

/**
 * Starts watching the CPU of the whole machine, of this process and of the server under load (`loaded`, a child's pid;
 * every server child when not given); call the result to stop. A server child not under load that keeps working (a
 * check server merging its audit index after a run) counts as another process.
 */
export function watchCpu(loaded?: number): () => Interference | undefined {
  const t0 = performance.now();
  const m0 = machineCpu();
  const s0 = process.cpuUsage();
  const pids = loaded === undefined ? [...children.keys()] : [loaded];
  const childrenCpu = (): number | undefined => {
    let sum = 0;
    for (const pid of pids) {
      const c = processCpu(pid);
      if (c === undefined) return undefined;
      sum += c;
    }
    return sum;
  };
  const c0 = childrenCpu();
  return () => {
    const m1 = machineCpu();
    const c1 = childrenCpu();
    if (!m0 || !m1 || c0 === undefined || c1 === undefined) return undefined;
    const self = process.cpuUsage(s0);
    const wall = (performance.now() - t0) / 1000;
    const others = m1.busy - m0.busy - (self.user + self.system) / 1e6 - (c1 - c0);
    const r = (x: number) => Math.round(Math.max(0, x / wall) * 100) / 100;
    return { othersCores: r(others), stealCores: r(m1.steal - m0.steal), runnerCores: r((self.user + self.system) / 1e6), serverCores: r(c1 - c0) };
  };
}

export interface LoadRun {
  requestsPerSecond: number;
  /** Latency percentiles in ms, from every response's own time (autocannon's histogram rounds down to whole ms). */
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  requests: number;
  /** Requests answered during the warm-up, not counted in the figures. */
  warmupRequests: number;
  non2xx: number;
  /** Answers by HTTP status, so that a failed run says what the server answered. */
  statuses: Record<string, number>;
  errors: number;
  durationS: number;
  /** Other processes' use of the CPU during the measured run, where /proc tells. */
  interference?: Interference;
}

/** A child using less CPU than this, in cores, is idle. */
const IDLE_CORES = 0.02;

/**
 * Waits until a server child is idle, so that it takes no CPU from a run of another: a check server goes on merging
 * its audit index for a while after a run (see MERGE_IDLE_MS in the SQLite store), and a baseline measured meanwhile
 * would be slowed by that work, not the check server. Gives up after `maxS`, saying so.
 */
export async function untilIdle(server: Pick<ChildServer, "pid">, log: (m: string) => void, what: string, maxS = 120): Promise<void> {
  const start = performance.now();
  let said = false;
  for (;;) {
    const c0 = processCpu(server.pid);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const c1 = processCpu(server.pid);
    if (c0 === undefined || c1 === undefined) return;
    const cores = (c1 - c0) / 0.5;
    if (cores < IDLE_CORES) return;
    const waited = (performance.now() - start) / 1000;
    if (!said) {
      log(`${what}: waiting for it to finish its upkeep (${cores.toFixed(2)} cores) before the next run...`);
      said = true;
    }
    if (waited > maxS) {
      log(`${what}: still busy after ${maxS} s; the next run shares the CPU with it`);
      return;
    }
  }
}

/**
 * Runs autocannon against a server: a warm-up (not counted), then the measured run. The requests are pre-built and
 * dealt out in equal contiguous slices, one per connection, so the load generator does the same work per request
 * whatever the server. (Handing every connection the whole list would make autocannon deep-copy and rebuild all of
 * it once per connection, seconds of blocking that would land in the first requests' latencies.)
 */
export async function loadRun(
  server: Pick<ChildServer, "url" | "pid">,
  requests: Request[],
  options: Pick<BenchOptions, "connections" | "durationS" | "warmupS">,
  measured: <T>(run: () => Promise<T>) => Promise<T> = (run) => run(),
): Promise<LoadRun> {
  const per = Math.ceil(requests.length / options.connections);
  const slices = Array.from({ length: options.connections }, (_, c) => {
    const start = (c * per) % requests.length;
    return requests.slice(start, start + per);
  });
  const runOptions = (duration: number) => {
    let next = 0;
    return {
      url: server.url,
      connections: options.connections,
      pipelining: 1,
      duration,
      requests: [requests[0] as Request],
      setupClient: (client: Client) => client.setRequests(slices[next++ % slices.length] as Request[]),
    };
  };
  const warmup = options.warmupS > 0 ? await autocannon(runOptions(options.warmupS)) : undefined;
  const times: number[] = [];
  let interference: Interference | undefined;
  const result = await measured(async () => {
    const instance = autocannon(runOptions(options.durationS));
    instance.on("response", (_client, _status, _bytes, ms) => {
      times.push(ms);
    });
    const stopWatching = watchCpu(server.pid);
    const r = await instance;
    interference = stopWatching();
    return r;
  });
  const sorted = Float64Array.from(times).sort();
  return {
    requestsPerSecond: result.requests.average,
    latencyMs: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] ?? NaN,
      mean: times.reduce((a, b) => a + b, 0) / times.length,
    },
    requests: result.requests.total,
    warmupRequests: warmup?.requests.total ?? 0,
    non2xx: result.non2xx,
    statuses: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, count])),
    errors: result.errors,
    durationS: result.duration,
    ...(interference ? { interference } : {}),
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** The median of one CPU figure over the runs that measured it, to two decimals: what the load benchmarks' notes print. */
export function medianCores(runs: readonly (Interference | undefined)[], which: "serverCores" | "runnerCores" | "othersCores"): number | "unknown" {
  const known = runs.flatMap((x) => {
    const v = x?.[which];
    return v === undefined ? [] : [v];
  });
  return known.length > 0 ? Math.round(summarize(known).median * 100) / 100 : "unknown";
}

/** Median and p99 of a list of times. */
export function summarize(times: readonly number[]): { median: number; p99: number; min: number; max: number } {
  const sorted = Float64Array.from(times).sort();
  return { median: percentile(sorted, 50), p99: percentile(sorted, 99), min: sorted[0] ?? NaN, max: sorted[sorted.length - 1] ?? NaN };
}

// ---------------------------------------------------------------------------------------------------------------

export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: number;
  node: string;
  platform: string;
  /** The 1-minute load average when the run began (each benchmark also measures other processes' CPU use during its runs). */
  loadAverage: number;
  /** The commit measured, with "+dirty" when src/ had uncommitted changes. */
  commit: string;
}

function commit(): string {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return git("rev-parse", "--short", "HEAD") + (git("status", "--porcelain", "--", "src") === "" ? "" : "+dirty");
  } catch {
    return "unknown";
  }
}

export function machine(): Machine {
  let cpu = cpus()[0]?.model ?? "unknown";
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m?.[1]) cpu = m[1].trim();
  } catch {
    // Not Linux: os.cpus() has the model too.
  }
  return { cpu, cores: availableParallelism(), ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10, node: process.version, platform: `${process.platform}-${process.arch}`, loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100, commit: commit() };
}
