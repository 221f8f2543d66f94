// Upkeep from a worker thread, so that the writing thread never does it: copying the WAL back into the database file,
// and, for bulk writers, indexing the audit log behind them.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { CATCH_UP, INDEX_STEP, indexStep } from "./audit-index.js";

// Plain CommonJS evaluated in the worker: it runs the same under the compiled build and under the test runner; the
// indexing step is the store's own, carried over as source text. A PASSIVE checkpoint takes no write lock: writers go
// on while it copies. An indexing step does take it, for a run of up to CATCH_UP.chunk entries and a piece of a merge.
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma("busy_timeout = 5000");
const indexStep = ${indexStep.toString()};
const sql = ${JSON.stringify(INDEX_STEP)};
const stmts = Object.fromEntries(Object.entries(sql).map(([k, text]) => [k, db.prepare(text)]));
const step = db.transaction(() => indexStep(stmts, ${JSON.stringify(CATCH_UP)}));
// Read first, outside any transaction: an idle log must not take the write lock.
const behind = () => stmts.head.get().head > stmts.state.get().indexedTo;
const timer = setInterval(() => {
  try {
    if (workerData.index) while (behind() && step.immediate().entries > 0);
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message || e) });
  }
}, workerData.everyMs);
parentPort.on("message", (m) => {
  if (m === "stop") {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
});
`;

/** A running background checkpointer. */
export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Starts checkpointing `path` every `everyMs` from a worker, and indexing the audit log first when `index` is set. The
 * caller leaves the connection's own automatic checkpoints only as a limit on the WAL's size; if the worker fails,
 * `onFailure` is told so the connection can take them back.
 */
export function startCheckpointer(path: string, everyMs: number, index: boolean, onFailure: (reason: string) => void): Checkpointer {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(WORKER, { eval: true, workerData: { path, everyMs, index, driver } });
  let stopped = false;
  worker.on("message", (m: { error?: string }) => {
    if (m.error) onFailure(m.error);
  });
  worker.on("error", (e) => onFailure(e.message));
  worker.on("exit", (code) => {
    if (!stopped && code !== 0) onFailure(`checkpoint worker exited with code ${code}`);
  });
  worker.unref();
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      // Unreferenced, the worker would not keep the process alive until it exits, and a pending await at the top of the
      // program would end the process with code 13 instead.
      worker.ref();
      worker.postMessage("stop");
      await exited;
    },
  };
}
