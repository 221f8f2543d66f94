// The feed's promise under a crash: the real CLI killed with SIGKILL mid-stream, twice, and restarted loses and doubles nothing.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { runCli } from "../../../src/adapters/cli/main.js";
import { DEAD_HEADERS, ensureFeedStreams } from "../../../src/adapters/nats/feed.js";
import { feedNames } from "../../../src/adapters/nats/names.js";
import { fixedClock } from "../../../src/app/clock.js";
import { AppContext } from "../../../src/app/context.js";
import { loggedRecords } from "../../../src/app/ingest.js";
import { synthesize } from "../../../src/core/synth/city.js";
import { parsePlaces, type Place } from "../../../src/core/synth/places.js";
import { planCity } from "../../../src/core/synth/streams.js";
import { openSqliteStore } from "../../../src/storage/sqlite/sqlite-store.js";
import { connectTest, NATS_URL, natsUp, removeFeedStreams, uniquePrefix } from "./nats-harness.js";

const up = await natsUp();

const AT = "2026-11-23T10:00:00+08:00";
const RECORDS = 20_000;
const SHIPPED = ["national", "beijing", "jiangsu", "hangzhou", "rongcheng"].map((n) => `rulebooks/${n}.yaml`);
const quiet = { stdout: { write: () => true }, stderr: { write: () => true, isTTY: false } };

/** The stream agencies publish: synthetic records, a malformed message now and then, and retractions of earlier records. */
async function messages(db: string): Promise<{ source: string; line: string; malformed: boolean }[]> {
  const ctx = new AppContext(openSqliteStore(db), fixedClock(Date.parse(AT)));
  const ruleset = await ctx.requireRuleset();
  await ctx.store.close();
  const plan = planCity(ruleset, parsePlaces("beijing,rongcheng") as Place[]);
  const out: { source: string; line: string; malformed: boolean }[] = [];
  const retractLater: { due: number; source: string; externalId: string }[] = [];
  let records = 0;
  for (const s of synthesize(plan, { people: 5_000_000, enterprises: 0, years: 10, seed: 11, at: Date.parse(AT) })) {
    for (const r of s.records) {
      if (records === RECORDS) break;
      out.push({ source: r.source, line: JSON.stringify(r), malformed: false });
      records++;
      if (records % 1500 === 0) retractLater.push({ due: out.length + 40, source: r.source, externalId: r.externalId });
      if (records % 997 === 0) out.push({ source: r.source, line: `{"externalId": "${r.externalId}", oops`, malformed: true });
      while (retractLater[0] && retractLater[0].due <= out.length) {
        const t = retractLater.shift() as (typeof retractLater)[number];
        out.push({ source: t.source, line: JSON.stringify({ op: "retract", source: t.source, externalId: t.externalId, reason: "quashed on appeal" }), malformed: false });
      }
    }
    if (records === RECORDS) break;
  }
  for (const t of retractLater) out.push({ source: t.source, line: JSON.stringify({ op: "retract", source: t.source, externalId: t.externalId, reason: "quashed on appeal" }), malformed: false });
  return out;
}

/** Everything the feed and a clean import must agree on, read straight from the database file. */
function snapshot(db: string) {
  const d = new Database(db, { readonly: true });
  try {
    return {
      records: d.prepare("SELECT * FROM records ORDER BY id").all(),
      history: d.prepare("SELECT * FROM record_history ORDER BY record_id, revision").all(),
      statuses: d.prepare("SELECT * FROM statuses ORDER BY subject").all(),
      // Who wrote differs (feed:<source> against cli:<user>), and so do decision ids and how records were grouped into
      // entries (batches); what was written, and how often, must not.
      audit: (d.prepare("SELECT action, subject, detail FROM audit_log WHERE action LIKE 'record.%'").all() as { action: string; subject: string | null; detail: string }[])
        .flatMap((e) => (loggedRecords({ subject: e.subject, detail: JSON.parse(e.detail) as Record<string, unknown> }) ?? []).map((r) => `${e.action} ${r.record} ${r.subject}`))
        .sort(),
    };
  } finally {
    d.close();
  }
}

const recordCount = (db: string): number => {
  if (!existsSync(db)) return 0;
  const d = new Database(db, { readonly: true });
  try {
    return (d.prepare("SELECT count(*) AS n FROM records").get() as { n: number }).n;
  } finally {
    d.close();
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, test: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** The real command, in a process of its own. */
function consumer(db: string, prefix: string): { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, ["bin/social-credit.js", "--db", db, "--at", AT, "consume", "--nats", NATS_URL, "--prefix", prefix, "--batch", "500", "--ack-wait", "3"], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

describe.runIf(up)("the NATS feed killed mid-stream", () => {
  it(
    `loses and doubles nothing of ${RECORDS} records when the consumer is killed with SIGKILL twice and restarted`,
    async () => {
      expect(existsSync("dist/adapters/cli/main.js"), "run `npm run build` first (npm test does)").toBe(true);
      const dir = mkdtempSync(join(tmpdir(), "social-credit-feed-kill-"));
      const feedDb = join(dir, "feed.sqlite");
      const cleanDb = join(dir, "clean.sqlite");
      for (const db of [feedDb, cleanDb]) expect(await runCli(["--db", db, "--at", AT, "rulebook", "activate", ...SHIPPED], quiet)).toBe(0);
      const msgs = await messages(feedDb);
      const malformed = msgs.flatMap((m, i) => (m.malformed ? [i + 1] : []));

      // The clean import: the same lines, in the same order, from a file.
      const file = join(dir, "records.ndjson");
      writeFileSync(file, msgs.map((m) => m.line).join("\n") + "\n");
      expect(await runCli(["--db", cleanDb, "--at", AT, "import", file], quiet)).toBe(0);

      const prefix = uniquePrefix("kill");
      const names = feedNames(prefix);
      const nc = await connectTest();
      try {
        const jsm = await jetstreamManager(nc);
        await ensureFeedStreams(jsm, names);
        const js = jetstream(nc);
        for (let i = 0; i < msgs.length; i += 1000) await Promise.all(msgs.slice(i, i + 1000).map((m) => js.publish(names.records(m.source), m.line)));
        expect((await jsm.streams.info(names.recordsStream)).state.messages).toBe(msgs.length);

        // Two runs killed without warning part-way, at different depths.
        const killedAt: number[] = [];
        // The second kill lags its threshold a little, to land elsewhere in the fetch, write, acknowledge cycle than the first.
        for (const [depth, lag] of [[0.3, 0], [0.6, 7]] as const) {
          const run = consumer(feedDb, prefix);
          await until(`${Math.round(depth * 100)}% of the records written (${run.stderr()})`, () => recordCount(feedDb) >= RECORDS * depth, 90_000);
          await sleep(lag);
          run.child.kill("SIGKILL");
          expect((await run.exit).signal).toBe("SIGKILL");
          killedAt.push(recordCount(feedDb));
        }
        expect(killedAt[1]).toBeLessThan(RECORDS);

        // The last run goes to the end of the stream and is stopped as an operator would.
        const last = consumer(feedDb, prefix);
        await until(
          "the stream to be consumed and acknowledged",
          async () => {
            const c = await jsm.consumers.info(names.recordsStream, "social-credit");
            return c.num_pending === 0 && c.num_ack_pending === 0 && (await jsm.streams.info(names.recordsStream)).state.messages === 0;
          },
          120_000,
        );
        last.child.kill("SIGTERM");
        const exit = await last.exit;
        expect(exit.code, last.stderr()).toBe(0);
        expect(last.stdout()).toMatch(/^consumed \d+ messages in \d+ batches/);

        const feed = snapshot(feedDb);
        const clean = snapshot(cleanDb);
        expect(feed.records.length).toBe(RECORDS);
        expect(feed.records).toEqual(clean.records);
        expect(feed.history).toEqual(clean.history);
        expect(feed.statuses.length).toBeGreaterThan(1000);
        expect(feed.statuses).toEqual(clean.statuses);
        // Every record accepted once, and each retraction once.
        expect(feed.audit.filter((a) => a.startsWith("record.accepted ")).length).toBe(RECORDS);
        expect(feed.audit).toEqual(clean.audit);

        // Each malformed message is in the dead-letter stream exactly once, however often it was delivered.
        const dead = await jsm.streams.info(names.deadStream);
        const deadSeqs: number[] = [];
        for (let seq = dead.state.first_seq; seq <= dead.state.last_seq && dead.state.messages > 0; seq++) {
          const m = await jsm.streams.getMessage(names.deadStream, { seq });
          deadSeqs.push(Number(m?.header.get(DEAD_HEADERS.seq)));
        }
        expect(deadSeqs.sort((a, b) => a - b)).toEqual(malformed);
      } finally {
        await removeFeedStreams(nc, prefix);
        await nc.close();
      }
    },
    300_000,
  );
});
