// What the server does by itself: sweeps statuses whose time has come, delivers notices, runs scheduled jobs, and signs checkpoints of the audit log.
import type { KeyObject } from "node:crypto";
import { appendFileSync } from "node:fs";
import type { Checkpoint } from "../core/audit.js";
import { writeCheckpoint } from "./audit.js";
import type { AppContext } from "./context.js";
import { deliverDue, type NoticeSender } from "./notices.js";
import { sweep } from "./statuses.js";

export interface BackgroundOptions {
  /** How often to sweep expired statuses; 0 never. */
  sweepEveryMs: number;
  /** Where notices go, and how often the outbox is looked at. */
  notices?: { send: NoticeSender; everyMs: number };
  /** A job run on a schedule, such as writing the publication snapshot. */
  scheduled?: { name: string; everyMs: number; run: () => Promise<void> }[];
  checkpoint?: { key: KeyObject; everyMs: number; /** Also append each checkpoint here (JSON lines), to keep a copy off the database. */ file?: string };
}

export interface Log {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Starts the periodic jobs; `kick` runs a sweep now (after a rulebook activation), `stop` ends them and waits for a running one. */
export function startBackground(ctx: AppContext, opts: BackgroundOptions, log: Log) {
  const timers: NodeJS.Timeout[] = [];
  let sweeping: Promise<void> | undefined;
  let again = false;

  const runSweep = (): Promise<void> => {
    if (sweeping) {
      again = true;
      return sweeping;
    }
    sweeping = (async () => {
      do {
        again = false;
        try {
          if (!(await ctx.activeRuleset())) return;
          const started = Date.now();
          const r = await sweep(ctx);
          if (r.subjects > 0) log.info({ subjects: r.subjects, ms: Date.now() - started }, "swept statuses");
        } catch (e) {
          log.error({ err: e }, "sweep failed");
        }
      } while (again);
    })().finally(() => (sweeping = undefined));
    return sweeping;
  };

  const checkpoint = async (): Promise<Checkpoint | undefined> => {
    if (!opts.checkpoint) return undefined;
    try {
      const c = await writeCheckpoint(ctx, opts.checkpoint.key);
      if (c) {
        if (opts.checkpoint.file) appendFileSync(opts.checkpoint.file, JSON.stringify(c) + "\n");
        log.info({ seq: c.seq, hash: c.hash }, "signed audit checkpoint");
      }
      return c;
    } catch (e) {
      log.error({ err: e }, "audit checkpoint failed");
      return undefined;
    }
  };

  let delivering: Promise<void> | undefined;
  const deliver = (): Promise<void> => {
    const notices = opts.notices;
    if (!notices || delivering) return delivering ?? Promise.resolve();
    delivering = (async () => {
      try {
        const r = await deliverDue(ctx, notices.send);
        if (r.delivered > 0) log.info({ delivered: r.delivered }, "delivered notices");
        if (r.failed > 0) log.error({ failed: r.failed }, "notice delivery failed; will retry with backoff");
      } catch (e) {
        log.error({ err: e }, "notice delivery failed");
      }
    })().finally(() => (delivering = undefined));
    return delivering;
  };

  const running = new Set<Promise<void>>();
  for (const job of opts.scheduled ?? []) {
    let busy = false;
    const tick = () => {
      if (busy) return;
      busy = true;
      const p = job
        .run()
        .catch((e: unknown) => log.error({ err: e, job: job.name }, "scheduled job failed"))
        .finally(() => {
          busy = false;
          running.delete(p);
        });
      running.add(p);
    };
    timers.push(setInterval(tick, job.everyMs).unref());
    // Once at start too: a daily snapshot should not wait a day after a restart.
    tick();
  }

  if (opts.sweepEveryMs > 0) timers.push(setInterval(() => void runSweep(), opts.sweepEveryMs).unref());
  if (opts.notices && opts.notices.everyMs > 0) timers.push(setInterval(() => void deliver(), opts.notices.everyMs).unref());
  if (opts.checkpoint && opts.checkpoint.everyMs > 0) timers.push(setInterval(() => void checkpoint(), opts.checkpoint.everyMs).unref());

  return {
    kick: runSweep,
    checkpoint,
    deliver,
    async stop() {
      for (const t of timers) clearInterval(t);
      await sweeping;
      await delivering;
      await Promise.all(running);
      // A last checkpoint on the way out, so a clean stop leaves the whole log covered.
      await checkpoint();
    },
  };
}
