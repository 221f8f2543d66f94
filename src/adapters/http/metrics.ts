// Prometheus metrics for one server: requests, checks, ingest, and what the store holds when scraped (list sizes, due process backlogs).
import { Counter, Histogram, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { AppContext } from "../../app/context.js";

export interface Metrics {
  registry: Registry;
  /** Counts an answered request and its latency under its route's path. */
  requestDone(method: string, route: string, status: number, elapsedMs: number): void;
  checks: Counter<"measure" | "applies">;
  records: Counter<"source" | "outcome">;
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
  const requests = new Counter({ name: "social_credit_http_requests_total", help: "HTTP requests by route and status", labelNames: ["method", "route", "status"], registers: [registry] });
  const requestSeconds = new Histogram({
    name: "social_credit_http_request_duration_seconds",
    help: "HTTP request latency by route",
    labelNames: ["method", "route"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  });
  // The label sets of each method, route and status, made once: a request's metrics then allocate nothing.
  const labelSets = new Map<string, { count: { method: string; route: string; status: string }; time: { method: string; route: string } }>();
  return {
    registry,
    requestDone(method, route, status, elapsedMs) {
      const key = `${method} ${status} ${route}`;
      let labels = labelSets.get(key);
      if (labels === undefined) {
        labels = { count: { method, route, status: String(status) }, time: { method, route } };
        labelSets.set(key, labels);
      }
      requests.inc(labels.count);
      requestSeconds.observe(labels.time, elapsedMs / 1000);
    },
    checks: new Counter({ name: "social_credit_checks_total", help: "Check decisions by measure and outcome", labelNames: ["measure", "applies"], registers: [registry] }),
    records: new Counter({ name: "social_credit_records_total", help: "Records received over the API by source and outcome", labelNames: ["source", "outcome"], registers: [registry] }),
  };
}
