// Prometheus metrics for one server: requests, checks, ingest, and what the store holds when scraped (list sizes, due process backlogs).
import { Counter, Histogram, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { AppContext } from "../../app/context.js";

export interface Metrics {
  registry: Registry;
  /** The tally of one route's requests, made once per route (see RouteMeter). */
  route(path: string): RouteMeter;
  /** Counts check decisions by measure and by whether they applied. */
  checked(decisions: readonly { measure: string; applies: boolean }[]): void;
  records: Counter<"source" | "outcome">;
}

/** Counts a route's answered requests by method and status, with their latency. */
export interface RouteMeter {
  done(method: string, status: number, elapsedMs: number): void;
}

const LATENCY = "social_credit_http_request_duration_seconds";
const LATENCY_HELP = "HTTP request latency by route";
const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

/** One method of one route: requests by status, and a latency histogram in LATENCY_BUCKETS_S (the last slot is +Inf). */
interface MethodTally {
  method: string;
  statuses: Map<number, number>;
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * Requests and checks are tallied in plain numbers and read out when scraped: prom-client validates and hashes the
 * labels of every increment and observation, which on the check route cost about a twentieth of a check.
 */
class RequestTallies implements RouteMeter {
  readonly methods: MethodTally[] = [];

  constructor(readonly route: string) {}

  done(method: string, status: number, elapsedMs: number): void {
    const t = this.of(method);
    t.statuses.set(status, (t.statuses.get(status) ?? 0) + 1);
    const s = elapsedMs / 1000;
    let b = 0;
    while (b < LATENCY_BUCKETS_S.length && s > (LATENCY_BUCKETS_S[b] as number)) b++;
    (t.buckets[b] as number)++;
    t.sum += s;
    t.count++;
  }

  private of(method: string): MethodTally {
    for (const t of this.methods) if (t.method === method) return t;
    const t: MethodTally = { method, statuses: new Map(), buckets: new Array<number>(LATENCY_BUCKETS_S.length + 1).fill(0), sum: 0, count: 0 };
    this.methods.push(t);
    return t;
  }
}

/** A histogram whose values are read from the tallies when scraped; nothing is observed into it. */
class TalliedLatency extends Histogram<"method" | "route"> {
  constructor(
    registry: Registry,
    private readonly tallies: () => Iterable<RequestTallies>,
  ) {
    super({ name: LATENCY, help: LATENCY_HELP, labelNames: ["method", "route"], buckets: LATENCY_BUCKETS_S, registers: [registry] });
  }

  override async get(): ReturnType<Histogram<"method" | "route">["get"]> {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    for (const r of this.tallies()) {
      for (const t of r.methods) {
        const labels = { method: t.method, route: r.route };
        let cumulative = 0;
        LATENCY_BUCKETS_S.forEach((le, i) => {
          cumulative += t.buckets[i] as number;
          values.push({ metricName: `${LATENCY}_bucket`, labels: { ...labels, le }, value: cumulative });
        });
        values.push({ metricName: `${LATENCY}_bucket`, labels: { ...labels, le: "+Inf" }, value: t.count });
        values.push({ metricName: `${LATENCY}_sum`, labels, value: t.sum });
        values.push({ metricName: `${LATENCY}_count`, labels, value: t.count });
      }
    }
    // The shape prom-client's own histograms give the registry (its typings name the type by a numeric enum).
    return { name: LATENCY, help: LATENCY_HELP, type: "histogram", aggregator: "sum", values } as unknown as Awaited<ReturnType<Histogram<"method" | "route">["get"]>>;
  }

  /** What the registry writes the exposition from, when a metric has it: the same values as get(). */
  getForPromString() {
    return this.get();
  }
}

// Store figures come from queries: at most once per this interval, whatever the scrape rate.
const LIST_SIZES_TTL_MS = 30_000;

/** A registry of its own per server, so that servers in one process (tests, benchmarks) do not share counters. */
export function createMetrics(ctx: AppContext): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let cached: { at: number; sizes: Map<string, number> } | undefined;
  new Gauge({
    name: "social_credit_list_size",
    help: "Subjects on each list now (refreshed at most every 30 s)",
    labelNames: ["list"],
    registers: [registry],
    async collect() {
      const now = Date.now();
      if (!cached || now - cached.at > LIST_SIZES_TTL_MS) cached = { at: now, sizes: await ctx.store.listSizes(ctx.clock.now()) };
      this.reset();
      for (const [list, n] of cached.sizes) this.set({ list }, n);
    },
  });
  let dueProcess: { at: number; open: number; overdue: number; pendingSignOffs: number; outbox: number } | undefined;
  const dueProcessNow = async () => {
    const now = Date.now();
    if (!dueProcess || now - dueProcess.at > LIST_SIZES_TTL_MS) {
      const o = await ctx.store.objectionStatistics(ctx.clock.now());
      const pending = await ctx.store.signOffs({ state: "pending", limit: 10_000 });
      dueProcess = { at: now, open: o.open, overdue: o.overdue, pendingSignOffs: pending.length, outbox: await ctx.store.outboxBacklog() };
    }
    return dueProcess;
  };
  new Gauge({
    name: "social_credit_objections_open",
    help: "Objections waiting for a reviewer, and how many of them are past their deadline (refreshed at most every 30 s)",
    labelNames: ["overdue"],
    registers: [registry],
    async collect() {
      const d = await dueProcessNow();
      this.set({ overdue: "false" }, d.open - d.overdue);
      this.set({ overdue: "true" }, d.overdue);
    },
  });
  new Gauge({
    name: "social_credit_sign_offs_pending",
    help: "List entries waiting for a reviewer's sign-off (counted up to 10,000; refreshed at most every 30 s)",
    registers: [registry],
    async collect() {
      this.set((await dueProcessNow()).pendingSignOffs);
    },
  });
  new Gauge({
    name: "social_credit_notices_undelivered",
    help: "Notices waiting in the outbox for delivery (refreshed at most every 30 s)",
    registers: [registry],
    async collect() {
      this.set((await dueProcessNow()).outbox);
    },
  });
  const routes = new Map<string, RequestTallies>();
  new Counter({
    name: "social_credit_http_requests_total",
    help: "HTTP requests by route and status",
    labelNames: ["method", "route", "status"],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of routes.values()) for (const t of r.methods) for (const [status, n] of t.statuses) this.inc({ method: t.method, route: r.route, status: String(status) }, n);
    },
  });
  new TalliedLatency(registry, () => routes.values());
  // Per measure, how many decisions applied and how many did not.
  const checks = new Map<string, [number, number]>();
  new Counter({
    name: "social_credit_checks_total",
    help: "Check decisions by measure and outcome",
    labelNames: ["measure", "applies"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [measure, [yes, no]] of checks) {
        if (yes > 0) this.inc({ measure, applies: "true" }, yes);
        if (no > 0) this.inc({ measure, applies: "false" }, no);
      }
    },
  });
  return {
    registry,
    route(path) {
      let r = routes.get(path);
      if (r === undefined) routes.set(path, (r = new RequestTallies(path)));
      return r;
    },
    checked(decisions) {
      for (const d of decisions) {
        let t = checks.get(d.measure);
        if (t === undefined) checks.set(d.measure, (t = [0, 0]));
        t[d.applies ? 0 : 1]++;
      }
    },
    records: new Counter({ name: "social_credit_records_total", help: "Records received over the API by source and outcome", labelNames: ["source", "outcome"], registers: [registry] }),
  };
}
