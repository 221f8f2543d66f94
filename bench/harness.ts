// What every benchmark shares: the shape of its report, servers in child processes, the load generator, statistics and the machine.
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";
import autocannon, { type Request } from "autocannon";

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
  /** Everything else worth keeping: settings, raw figures, sanity counts. */
  details: Record<string, unknown>;
}

export interface BenchOptions {
  /** Seconds of each measured load run. */
  durationS: number;
  /** Seconds of load before each measured run, not counted. */
  warmupS: number;
  connections: number;
  /** Subjects with records in the fixture database. */
  subjects: number;
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
  /** Asks the server to close and waits for the process to end (so that a CPU profile is written). */
  stop(): Promise<void>;
}

/** The message a server child sends once it listens. */
export interface ListeningMessage {
  listening: { port: number };
}

const REGISTER = new URL("./register.mjs", import.meta.url).href;

/** Starts bench/servers/<module> in a child process and waits until it listens on 127.0.0.1. */
export function startChild(module: URL, args: readonly string[], profileDir?: string): Promise<ChildServer> {
  const execArgv = ["--import", REGISTER, ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [])];
  const child = fork(module, [...args], { execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`server ${module.pathname} exited with code ${code} before listening`)));
    child.once("message", (m) => {
      const port = (m as ListeningMessage).listening.port;
      resolve({
        url: `http://127.0.0.1:${port}`,
        pid: child.pid as number,
        async stop() {
          child.send("stop");
          const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
          await exited;
          clearTimeout(killer);
        },
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------

export interface LoadRun {
  requestsPerSecond: number;
  /** Latency percentiles in ms, from every response's own time (autocannon's histogram rounds down to whole ms). */
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  requests: number;
  non2xx: number;
  errors: number;
  durationS: number;
}

/**
 * Runs autocannon against a server: a warm-up (not counted), then the measured run. Every connection walks the same
 * list of pre-built requests, so the load generator does the same work per request whatever the server.
 */
export async function loadRun(url: string, requests: Request[], options: Pick<BenchOptions, "connections" | "durationS" | "warmupS">): Promise<LoadRun> {
  const common = { url, connections: options.connections, requests, pipelining: 1 };
  if (options.warmupS > 0) await autocannon({ ...common, duration: options.warmupS });
  const times: number[] = [];
  const instance = autocannon({ ...common, duration: options.durationS });
  instance.on("response", (_client, _status, _bytes, ms) => {
    times.push(ms);
  });
  const result = await instance;
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
    non2xx: result.non2xx,
    errors: result.errors,
    durationS: result.duration,
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
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
}

export function machine(): Machine {
  let cpu = cpus()[0]?.model ?? "unknown";
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m?.[1]) cpu = m[1].trim();
  } catch {
    // Not Linux: os.cpus() has the model too.
  }
  return { cpu, cores: availableParallelism(), ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10, node: process.version, platform: `${process.platform}-${process.arch}` };
}
