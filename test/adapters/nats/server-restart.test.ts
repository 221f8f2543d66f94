// The feed outliving its server: a private nats-server stopped and started again under a running feed, which goes on.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { runFeed } from "../../../src/adapters/nats/feed.js";
import { feedNames } from "../../../src/adapters/nats/names.js";
import { fixedClock } from "../../../src/app/clock.js";
import { AppContext } from "../../../src/app/context.js";
import { activateRulebooks } from "../../../src/app/rulebooks.js";
import { openSqliteStore } from "../../../src/storage/sqlite/sqlite-store.js";

const SERVER = "/usr/sbin/nats-server";
const present = existsSync(SERVER);
if (!present && process.env.CI) throw new Error(`CI is set and ${SERVER} is missing: install the Debian package nats-server (.ci/run does)`);
if (!present) console.warn(`skipping the NATS server-restart test: no ${SERVER} (Debian package nats-server)`);

const SHIPPED = ["national", "beijing", "jiangsu", "hangzhou", "rongcheng"].map((n) => ({ file: `rulebooks/${n}.yaml`, text: readFileSync(`rulebooks/${n}.yaml`, "utf8") }));
const EXAMPLES = readFileSync("examples/records.ndjson", "utf8").trim().split("\n");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.once("error", reject);
  });
}

/** A JetStream server of this test's own, on loopback, keeping its store in `dir`. */
function startServer(port: number, dir: string): { proc: ChildProcess; stopped: Promise<void> } {
  const proc = spawn(SERVER, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir], { stdio: "ignore" });
  return { proc, stopped: new Promise((resolve) => proc.once("exit", () => resolve())) };
}

async function until(what: string, test: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Publishes the example records, retrying until the (re)started server takes them. */
async function publishAll(url: string, lines: readonly string[], externalIdSuffix: string): Promise<void> {
  await until("the server to accept a connection", async () => {
    try {
      const nc = await connect({ servers: url, reconnect: false });
      try {
        const js = jetstream(nc);
        for (const l of lines) {
          const r = JSON.parse(l) as { source: string; externalId: string };
          await js.publish(feedNames().records(r.source), JSON.stringify({ ...r, externalId: r.externalId + externalIdSuffix }));
        }
        return true;
      } finally {
        await nc.close();
      }
    } catch {
      return false;
    }
  }, 20_000);
}

describe.runIf(present)("the NATS feed when its server restarts", () => {
  it("waits the restart out and goes on consuming, with nothing lost", async () => {
    const dir = mkdtempSync(join(tmpdir(), "social-credit-nats-restart-"));
    const port = await freePort();
    const url = `nats://127.0.0.1:${port}`;
    let server = startServer(port, join(dir, "store"));
    const ctx = new AppContext(openSqliteStore(":memory:"), fixedClock(Date.parse("2026-11-23T10:00:00+08:00")));
    await activateRulebooks(ctx, "test:setup", SHIPPED);
    const abort = new AbortController();
    const logs: string[] = [];
    try {
      // The valid examples: each published twice, the second time under new externalIds, with the restart in between.
      const valid = EXAMPLES.filter((_, i) => i !== 2);
      const running = runFeed(ctx, { url, durable: "restart-test", batch: 100, ackWaitMs: 2000, prefix: "", signal: abort.signal, log: (l) => logs.push(l) });
      await until("the feed to start", () => logs.some((l) => l.startsWith("consuming")), 20_000);
      await publishAll(url, valid, "");
      await until("the first records", async () => (await ctx.store.counts()).records === valid.length, 20_000);

      server.proc.kill("SIGTERM");
      await server.stopped;
      await until("the feed to notice", () => logs.some((l) => l.startsWith("lost the connection to NATS")), 20_000);
      server = startServer(port, join(dir, "store"));
      await publishAll(url, valid, "-after");
      await until("the records published after the restart", async () => (await ctx.store.counts()).records === 2 * valid.length, 30_000);
      expect(logs.some((l) => l.startsWith("reconnected to NATS"))).toBe(true);

      abort.abort();
      const summary = await running;
      expect(summary).toMatchObject({ accepted: 2 * valid.length, deadLettered: 0 });
    } finally {
      abort.abort();
      server.proc.kill("SIGTERM");
      await server.stopped;
    }
  }, 90_000);
});
