// The `consume` command: its usage errors, its refusals before connecting, and a real process stopped by SIGTERM.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { ensureFeedStreams } from "../../../src/adapters/nats/feed.js";
import { feedNames } from "../../../src/adapters/nats/names.js";
import { connectTest, NATS_URL, natsUp, removeFeedStreams, uniquePrefix } from "../nats/nats-harness.js";
import { SHIPPED, cliSandbox } from "./cli-harness.js";

const up = await natsUp();
const EXAMPLES = readFileSync("examples/records.ndjson", "utf8").trim().split("\n");

describe("consume", () => {
  it("requires --nats and checks its numbers (usage errors exit 2)", async () => {
    const sb = cliSandbox();
    const none = await sb.run(["consume"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/required option '--nats <url>' not specified/);
    const batch = await sb.run(["consume", "--nats", NATS_URL, "--batch", "0"]);
    expect(batch.code).toBe(2);
    expect(batch.stderr).toMatch(/--batch <n>.*must be a whole number from 1 to 10000/);
    const prefix = await sb.run(["consume", "--nats", NATS_URL, "--prefix", "a.b"]);
    expect(prefix.code).toBe(2);
    expect(prefix.stderr).toMatch(/prefix "a\.b": must be letters, digits/);
  });

  it("refuses to start without an active rulebook, before connecting", async () => {
    const sb = cliSandbox();
    const r = await sb.run(["consume", "--nats", "nats://127.0.0.1:1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: no rulebook is active/);
  });

  it("exits 1 naming the server it cannot reach", async () => {
    const sb = cliSandbox();
    expect((await sb.run(["rulebook", "activate", ...SHIPPED])).code).toBe(0);
    const r = await sb.run(["consume", "--nats", "nats://127.0.0.1:1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/);
  });

  it.runIf(up)("runs as a process until SIGTERM, then prints what it consumed and exits 0", async () => {
    expect(existsSync("dist/adapters/cli/main.js"), "run `npm run build` first (npm test does)").toBe(true);
    const sb = cliSandbox();
    expect((await sb.run(["rulebook", "activate", ...SHIPPED])).code).toBe(0);
    const prefix = uniquePrefix("cli");
    const names = feedNames(prefix);
    const nc = await connectTest();
    try {
      await ensureFeedStreams(await jetstreamManager(nc), names);
      const js = jetstream(nc);
      for (const line of EXAMPLES) await js.publish(names.records((JSON.parse(line) as { source: string }).source), line);
      const child = spawn(process.execPath, ["bin/social-credit.js", "--db", sb.db, "--at", "2026-11-23T10:00:00+08:00", "--json", "consume", "--nats", NATS_URL, "--prefix", prefix], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
      child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
      const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      const deadline = Date.now() + 20_000;
      while (!/dead-lettered .*#3: subject: /.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      child.kill("SIGTERM");
      expect(await exit, stderr).toBe(0);
      expect(stderr).toMatch(new RegExp(`^consuming ${prefix}\\.records\\.\\* from stream ${prefix}_RECORDS as social-credit \\(10 waiting\\)`));
      expect(stderr).toMatch(/stopped after 10 messages: 9 accepted, 0 duplicates, 0 corrected, 0 retracted, 1 dead-lettered\n$/);
      expect(JSON.parse(stdout)).toMatchObject({ messages: 10, accepted: 9, deadLettered: 1, batches: 1 });
      // The consumed judgment proposes the adult's entry on the (serious) debtor list, for a reviewer to sign off.
      const status = await sb.run(["status", "110105198506120034", "--json"]);
      expect(status.json<{ awaitingSignOff: { list: string }[] }>().awaitingSignOff).toEqual([expect.objectContaining({ list: "dishonest-judgment-debtors" })]);
    } finally {
      await removeFeedStreams(nc, prefix);
      await nc.close();
    }
  });
});
