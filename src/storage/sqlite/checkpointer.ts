// Copying the WAL back into the database file from a worker thread, so that the thread serving requests never does it.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

// Plain CommonJS evaluated in the worker: it runs the same under the compiled build and under the test runner. A
// PASSIVE checkpoint takes no write lock: writers go on while it copies.
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma("busy_timeout = 5000");
const timer = setInterval(() => {
  try {
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
 * Starts checkpointing `path` every `everyMs` from a worker. The caller turns the connection's own automatic
 * checkpoints off; if the worker fails, `onFailure` is told so the connection can take them back.
 */
export function startCheckpointer(path: string, everyMs: number, onFailure: (reason: string) => void): Checkpointer {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(WORKER, { eval: true, workerData: { path, everyMs, driver } });
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
