// The server under test: the real HTTP API (buildServer) over a SQLite file (or PostgreSQL database) the parent prepared, on the system clock,
// with the store opened as `social-credit serve` opens it (WAL checkpoints in a worker thread). Unlike `serve`: no
// request log, no periodic sweep and no signed audit checkpoints, which would only add noise to a short run.
import { buildServer } from "../../src/adapters/http/server.js";
import { systemClock } from "../../src/app/clock.js";
import { AppContext } from "../../src/app/context.js";
import { openStore } from "../../src/storage/open.js";
import { SqliteStore } from "../../src/storage/sqlite/sqlite-store.js";
import type { StoreTx } from "../../src/storage/store.js";
import { serve } from "./serve.js";

const db = process.argv[2];
if (!db) throw new Error("usage: app.ts DB_PATH_OR_POSTGRES_URL");
const ctx = new AppContext(openStore(db, { backgroundCheckpoints: true }), systemClock);
const app = await buildServer(ctx, {
  // Errors only: a benchmark that fails must say why; a request log would only add noise.
  logger: { level: "error" },
  // High enough never to refuse a request of the benchmark: the limiter's own cost is still measured.
  rateLimit: { perKey: 1_000_000_000, anonymous: 1_000_000_000 },
  // The fixture's statuses are fresh; a sweep would only add noise.
  background: { sweepEveryMs: 0 },
});
// Counted, to show how many checks share a commit (the group commit of src/app/group-commit.ts).
let transactions = 0;
const transaction = ctx.store.transaction.bind(ctx.store);
ctx.store.transaction = <T>(work: (tx: StoreTx) => Promise<T>) => {
  transactions++;
  return transaction(work);
};
// On SQLite, the audit index's runs that wait for a merge: merges wait for a quiet moment, so a run under load leaves
// them to be done after it (see MERGE_IDLE_MS in the store).
const store = ctx.store;
const awaitingMerge = store instanceof SqliteStore ? store.db.prepare<[], number>("SELECT count(*) FROM audit_runs WHERE level = 0").pluck() : undefined;
await serve(app, { cleanup: () => ctx.store.close(), stats: () => ({ transactions, ...(awaitingMerge ? { runsAwaitingMerge: awaitingMerge.get() as number } : {}) }) });
