// What the server does by itself: sweeps statuses whose time has come, and signs checkpoints of the audit log.
import type { KeyObject } from "node:crypto";
import { appendFileSync } from "node:fs";
import type { Checkpoint } from "../core/audit.js";
import { writeCheckpoint } from "./audit.js";
import type { AppContext } from "./context.js";
import { sweep } from "./statuses.js";

export interface BackgroundOptions {
  /** How often to sweep expired statuses; 0 never. */
  sweepEveryMs: number;
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

  if (opts.sweepEveryMs > 0) timers.push(setInterval(() => void runSweep(), opts.sweepEveryMs).unref());
  if (opts.checkpoint && opts.checkpoint.everyMs > 0) timers.push(setInterval(() => void checkpoint(), opts.checkpoint.everyMs).unref());

  return {
    kick: runSweep,
    checkpoint,
    async stop() {
      for (const t of timers) clearInterval(t);
      await sweeping;
      // A last checkpoint on the way out, so a clean stop leaves the whole log covered.
      await checkpoint();
    },
  };
}
