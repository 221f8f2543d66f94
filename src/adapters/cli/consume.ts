// The `consume` command: runs the NATS JetStream record feed until SIGINT or SIGTERM.
import { InvalidArgumentError, type Command } from "commander";
import type { AppContext } from "../../app/context.js";
import type { SqliteOptions } from "../../storage/sqlite/sqlite-store.js";
import { runFeed, type FeedSummary } from "../nats/feed.js";
import { atLeastOne } from "./arguments.js";
import { feedNames } from "../nats/names.js";

/** What the command needs from the main program. */
export interface ConsumeHost {
  program: Command;
  /** Opens the database of the command's --db; the main program closes it. */
  contextOf(cmd: Command, options?: SqliteOptions): AppContext;
  jsonOf(cmd: Command): boolean;
  out(s: string): void;
  err(s: string): void;
}

interface ConsumeFlags {
  nats: string;
  durable: string;
  batch: number;
  ackWait: number;
  prefix: string;
}

const subjectToken = (v: string) => {
  try {
    feedNames(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return v;
};

/** The run's summary as a person reads it. */
export function renderFeedSummary(s: FeedSummary): string {
  return (
    `consumed ${s.messages} messages in ${s.batches} batches over ${s.seconds.toFixed(1)} s: ` +
    `${s.accepted} accepted, ${s.duplicates} duplicates, ${s.corrected} corrected, ${s.retracted} retracted, ${s.deadLettered} dead-lettered\n`
  );
}

/** Adds `consume` to the program. */
export function addConsumeCommand(host: ConsumeHost): void {
  host.program
    .command("consume")
    .description("write the records agencies publish on NATS JetStream (records.<source>) until stopped; see docs/feed.md")
    .requiredOption("--nats <url>", "the NATS server, e.g. nats://127.0.0.1:4222")
    .option("--durable <name>", "the durable consumer (its place in the stream survives restarts)", "social-credit")
    .option("--batch <n>", "messages written per transaction, at most", atLeastOne(10_000), 500)
    .option("--ack-wait <seconds>", "how long the server waits for an acknowledgement before delivering again", atLeastOne(3600), 30)
    .option("--prefix <token>", "prefix of every subject and stream name, for several deployments on one server", subjectToken, "")
    .action(async (flags: ConsumeFlags, cmd: Command) => {
      const ctx = host.contextOf(cmd, { backgroundCheckpoints: true, indexAuditBehind: true });
      const stop = new AbortController();
      // The batch in hand is finished, written and acknowledged before the command returns.
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        const summary = await runFeed(ctx, {
          url: flags.nats,
          durable: flags.durable,
          batch: flags.batch,
          ackWaitMs: flags.ackWait * 1000,
          prefix: flags.prefix,
          signal: stop.signal,
          log: (line) => host.err(`${line}\n`),
        });
        if (host.jsonOf(cmd)) host.out(JSON.stringify(summary, null, 2) + "\n");
        else host.out(renderFeedSummary(summary));
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}
