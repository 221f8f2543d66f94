// The `social-credit` command line: a thin adapter from arguments to the application services.
import { readFile, rm, stat } from "node:fs/promises";
import { createWriteStream, type WriteStream } from "node:fs";
import { userInfo } from "node:os";
import { Command, CommanderError, Option } from "commander";
import cliProgress from "cli-progress";
import { fixedClock, systemClock, type Clock } from "../../app/clock.js";
import { AppContext } from "../../app/context.js";
import { UserError } from "../../app/errors.js";
import { importPrepared } from "../../app/ingest.js";
import { activateRulebooks, lintRulebooks, type RulebookFile } from "../../app/rulebooks.js";
import { check, readStatus, rescore, sweep } from "../../app/statuses.js";
import { formatProblem } from "../../core/rulebook/load.js";
import { parseDuration, parseInstant } from "../../core/time.js";
import { isPostgresUrl, openStore, type StoreOptions } from "../../storage/open.js";
import { preparedFile } from "../files/reader-thread.js";
import { formatOf, type RecordFormat } from "../files/record-files.js";
import { atLeastOne } from "./arguments.js";
import { addConsumeCommand } from "./consume.js";
import { addGenerateCommand } from "./generate.js";
import { addDueProcessCommands } from "./due-process.js";
import { addOperationsCommands, type OperationsHost } from "./operations.js";
import { addSimulateCommand } from "./simulate.js";
import { renderCheck, renderExplanation, renderReceipt, renderRuleset, renderStatus } from "./render.js";

/** Where the CLI writes; injectable so tests run commands in process. */
export interface CliIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

interface GlobalOptions {
  db: string;
  reviewPeriod: string;
  json?: boolean;
  at?: string;
}

export const DEFAULT_DB = "./data/social-credit.sqlite";

/** The audit log's name for whoever runs the command line on this machine. */
function operator(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return "cli:unknown";
  }
}

function cannotRead(file: string, e: NodeJS.ErrnoException): UserError {
  return new UserError(`cannot read ${file}: ${e.code ?? e.message}`);
}

/** Runs one command line; resolves to the process exit code (0 done, 1 refused or failed, 2 bad usage). */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  let exitCode = 0;
  const open: AppContext[] = [];
  const out = (s: string) => io.stdout.write(s);
  const json = (v: unknown) => out(JSON.stringify(v, null, 2) + "\n");

  const program = new Command("social-credit")
    .description("A law-bound social credit system: records in, statuses, lists, measures and checks out.")
    .addOption(new Option("--db <path|url>", "the SQLite database file, or a postgres:// URL of a PostgreSQL database").env("DATABASE_URL").default(DEFAULT_DB))
    .option("--json", "machine-readable output")
    .option("--at <instant>", "act as if the clock read this ISO 8601 instant (for what-if runs and tests)")
    .option("--review-period <duration>", "how long reviewers have to decide an objection (ISO 8601 duration)", "P15D")
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError();

  const globals = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();
  const clockOf = (g: GlobalOptions): Clock => {
    if (!g.at) return systemClock;
    const at = parseInstant(g.at);
    if (typeof at === "string") throw new UserError(`--at: ${at}`);
    return fixedClock(at);
  };
  const contextOf = (cmd: Command, options: StoreOptions = {}): AppContext => {
    const g = globals(cmd);
    const reviewPeriod = parseDuration(g.reviewPeriod);
    if (!reviewPeriod) throw new UserError(`--review-period: ${g.reviewPeriod} is not an ISO 8601 duration such as P15D`);
    const ctx = new AppContext(openStore(g.db, options), clockOf(g), { reviewPeriod });
    open.push(ctx);
    return ctx;
  };
  const progressBar = (cmd: Command, label: string) => {
    if (globals(cmd).json || !io.stderr.isTTY) return undefined;
    return new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% {value}/{total}`, stream: io.stderr as NodeJS.WritableStream, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
  };
  const readRulebookFiles = (files: string[]): Promise<RulebookFile[]> =>
    Promise.all(
      files.map(async (file) => {
        try {
          return { file, text: await readFile(file, "utf8") };
        } catch (e) {
          throw cannotRead(file, e as NodeJS.ErrnoException);
        }
      }),
    );

  program
    .command("import")
    .description("import records from an NDJSON or CSV file; prints a receipt, writes rejected lines to FILE.rejected.ndjson")
    .argument("<file>", "the file to import (.csv for CSV, otherwise NDJSON)")
    .option("--source <source>", "the reporting source of every record in the file")
    .addOption(new Option("--format <format>", "the file's format (default: from the file name)").choices(["ndjson", "csv"]))
    .option("--batch <n>", "records written per transaction: larger loads faster but holds the database's write lock longer (default: the store's, 1000 on SQLite, 10000 on PostgreSQL)", atLeastOne(100_000))
    .action(async (file: string, opts: { source?: string; format?: string; batch?: number }, cmd: Command) => {
      const ctx = contextOf(cmd, { backgroundCheckpoints: true, indexAuditBehind: true });
      const info = await stat(file).catch((e: NodeJS.ErrnoException) => {
        throw cannotRead(file, e);
      });
      if (!info.isFile()) throw new UserError(`cannot read ${file}: not a file`);
      const size = info.size;
      const format = (opts.format as RecordFormat | undefined) ?? formatOf(file);
      const counter = { read: 0 };
      const { ruleset, chunks } = await preparedFile(ctx, file, { format, ...(opts.source ? { source: opts.source } : {}) }, counter);
      const sidecar = `${file}.rejected.ndjson`;
      let rejects: WriteStream | undefined;
      let sidecarError: Error | undefined;
      const bar = progressBar(cmd, "import");
      bar?.start(size, 0);
      const receipt = await importPrepared(ctx, operator(), ruleset, chunks, {
        ...(opts.source ? { source: opts.source } : {}),
        ...(opts.batch ? { batchSize: opts.batch } : {}),
        onBatch: () => bar?.update(counter.read),
        onReject: (r, raw) => {
          if (!rejects) {
            rejects = createWriteStream(sidecar);
            // The records are committed whatever happens to this file; a failure to write it is reported, not thrown.
            rejects.on("error", (e) => (sidecarError ??= e));
          }
          rejects.write(JSON.stringify({ line: r.line, reason: r.reason, input: raw }) + "\n");
        },
      });
      bar?.update(size);
      bar?.stop();
      const written: WriteStream | undefined = rejects;
      if (written) await new Promise<void>((resolve) => written.end(() => resolve()));
      // A sidecar left by an earlier import of the same file would now be wrong.
      else await rm(sidecar, { force: true }).catch(() => undefined);
      if (globals(cmd).json) json(receipt);
      else out(renderReceipt(receipt, written && !sidecarError ? sidecar : undefined));
      if (sidecarError) {
        io.stderr.write(`error: the records were imported, but the rejected lines could not be written to ${sidecar}: ${sidecarError.message}\n`);
        exitCode = 1;
      }
    });

  program
    .command("status")
    .description("a subject's score, grade, lists and measures now")
    .argument("<subject>", "resident ID or unified social credit code")
    .action(async (subject: string, _o: unknown, cmd: Command) => {
      const { status: s, decisionId } = await readStatus(contextOf(cmd), operator(), subject);
      if (globals(cmd).json) {
        const { effects: _e, excluded: _x, ...summary } = s;
        json({ ...summary, decisionId });
      } else out(renderStatus(s));
    });

  program
    .command("explain")
    .description("a subject's status with every effect behind it: record, rule, points, legal basis, until")
    .argument("<subject>", "resident ID or unified social credit code")
    .action(async (subject: string, _o: unknown, cmd: Command) => {
      const { status: s, decisionId } = await readStatus(contextOf(cmd), operator(), subject);
      if (globals(cmd).json) json({ ...s, decisionId });
      else out(renderExplanation(s));
    });

  program
    .command("check")
    .description('answer an enforcer: "does measure M apply to subject S now?"')
    .argument("<subject>", "resident ID or unified social credit code")
    .argument("<measure>", "measure id, e.g. restrict-air-travel")
    .action(async (subject: string, measure: string, _o: unknown, cmd: Command) => {
      const d = await check(contextOf(cmd), operator(), subject, measure);
      if (globals(cmd).json) json(d);
      else out(renderCheck(d));
    });

  const rulebook = program.command("rulebook").description("lint, activate and show rulebooks");
  rulebook
    .command("lint")
    .description("check rulebook files as activating them would (with the other active layers); exits 1 on any problem")
    .argument("<files...>", "YAML rulebook layers")
    .action(async (files: string[], _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const texts = await readRulebookFiles(files);
      // A PostgreSQL database is there to be read; a SQLite file that is not must not be created by a lint.
      const dbExists = isPostgresUrl(g.db) || (await stat(g.db).then((st) => st.isFile(), () => false));
      const result = await lintRulebooks(dbExists ? contextOf(cmd) : undefined, texts);
      if (g.json) json({ ok: result.problems.length === 0, problems: result.problems });
      else if (result.problems.length === 0) out(`${files.length} file${files.length === 1 ? "" : "s"}: no problems\n`);
      else {
        for (const p of result.problems) out(formatProblem(p) + "\n");
        out(`${result.problems.length} problem${result.problems.length === 1 ? "" : "s"}\n`);
      }
      if (result.problems.length > 0) exitCode = 1;
    });
  rulebook
    .command("activate")
    .description("make rulebook layers active (each replaces the active layer with its id), then rescore")
    .argument("<files...>", "YAML rulebook layers")
    .option("--no-rescore", "leave statuses to be re-evaluated on read or by `rescore`")
    .action(async (files: string[], opts: { rescore: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const { ruleset, changed } = await activateRulebooks(ctx, operator(), await readRulebookFiles(files));
      let rescored: number | undefined;
      // The same texts again leave every status as it was: nothing to rescore.
      if (opts.rescore && changed) rescored = (await runRescore(ctx, cmd)).subjects;
      if (globals(cmd).json) json({ activated: ruleset.layers.map((l) => ({ id: l.id, version: l.version, sha256: l.sha256 })), rulesetHash: ruleset.hash, rescored });
      else out(renderRuleset(ruleset) + (rescored === undefined ? "" : `rescored ${rescored} subjects\n`));
    });
  rulebook
    .command("show")
    .description("the active rulebook")
    .action(async (_o: unknown, cmd: Command) => {
      const ruleset = await contextOf(cmd).requireRuleset();
      if (globals(cmd).json) {
        json({
          rulesetHash: ruleset.hash,
          layers: ruleset.layers,
          lists: [...ruleset.lists.values()].map(({ exits: _x, maxTerm, ...l }) => ({ ...l, maxTerm: maxTerm.text })),
          measures: [...ruleset.measures.values()],
          sources: Object.fromEntries([...ruleset.grants].map(([s, c]) => [s, [...c].sort()])),
        });
      } else out(renderRuleset(ruleset));
    });

  const runRescore = async (ctx: AppContext, cmd: Command) => {
    const bar = progressBar(cmd, "rescore");
    const r = await rescore(ctx, (done, total) => {
      if (done === 0) bar?.start(total, 0);
      else bar?.update(done);
    });
    bar?.stop();
    return r;
  };

  program
    .command("rescore")
    .description("re-evaluate every subject under the active rulebook")
    .action(async (_o: unknown, cmd: Command) => {
      const r = await runRescore(contextOf(cmd), cmd);
      if (globals(cmd).json) json(r);
      else out(`rescored ${r.subjects} subjects\n`);
    });

  program
    .command("sweep")
    .description("re-evaluate the statuses whose next change has come (expiries), and any made under an older rulebook")
    .action(async (_o: unknown, cmd: Command) => {
      const r = await sweep(contextOf(cmd));
      if (globals(cmd).json) json(r);
      else out(`re-evaluated ${r.subjects} subjects\n`);
    });

  addSimulateCommand({ program, contextOf: (cmd) => contextOf(cmd), jsonOf: (cmd) => globals(cmd).json === true, out, operator, readRulebookFiles, progressBar: (cmd) => progressBar(cmd, "simulate") });

  addGenerateCommand({ program, contextOf, out, stderr: io.stderr, operator });

  addConsumeCommand({ program, contextOf, jsonOf: (cmd) => globals(cmd).json === true, out, err: (s) => io.stderr.write(s) });

  const operationsHost: OperationsHost = {
    program,
    contextOf,
    dbOf: (cmd) => globals(cmd).db,
    jsonOf: (cmd) => globals(cmd).json === true,
    out,
    err: (s) => io.stderr.write(s),
    operator,
    setExitCode: (code) => (exitCode = code),
    untilStopped: () =>
      new Promise<void>((resolve) => {
        process.once("SIGINT", () => resolve());
        process.once("SIGTERM", () => resolve());
      }),
  };
  addOperationsCommands(operationsHost);
  addDueProcessCommands(operationsHost);

  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      exitCode = e.exitCode === 0 ? 0 : 2;
    } else if (e instanceof UserError) {
      io.stderr.write(`error: ${e.message}\n${e.details.map((d) => `  ${d}\n`).join("")}`);
      exitCode = 1;
    } else {
      throw e;
    }
  } finally {
    for (const ctx of open) await ctx.store.close();
  }
  return exitCode;
}
