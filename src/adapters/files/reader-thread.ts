// Reading a record file in a worker thread: the thread reads, parses and validates the lines and hashes each record's
// content, so that the importing thread only writes. An import then uses both cores of a small machine.
import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { AppContext } from "../../app/context.js";
import { importContext, prepareLines, type PreparedLine } from "../../app/prepare.js";
import type { RecordOp } from "../../core/record-input.js";
import type { ReportingRules, Ruleset } from "../../core/rulebook/ruleset.js";
import type { Instant } from "../../core/time.js";
import { readRecordFile, type ByteCounter, type RecordFormat } from "./record-files.js";

/** What a reader thread is given: the file, the rules it validates against, and what the import was told. */
export interface ReadJob {
  path: string;
  format: RecordFormat;
  /** What the active ruleset says of who reports what: all the thread needs of it, so that it compiles nothing. */
  rules: ReportingRules;
  /** The instant the import began, which validation compares occurrences with. */
  now: Instant;
  /** The source of every record in the file, when the lines do not name one. */
  source?: string;
}

/** What the thread posts: a chunk of prepared lines, or the end; with the bytes of the file read so far. */
export type ReaderMessage = { read: number; lines: EncodedLine[] } | { read: number; done: true };

/**
 * A prepared line as a flat array, which crosses to the importing thread at half the cost of the objects it stands
 * for: [line, raw, error], [line, raw, "retract", id, source, externalId, reason], or
 * [line, raw, op, id, source, externalId, subject, category, occurredAt, attributes, legalRef, evidenceRef, contentHash].
 */
export type EncodedLine = unknown[];

/** Lines in one message. */
export const CHUNK_LINES = 500;
/** Chunks the thread may prepare ahead of the importing thread: enough to keep both busy, few enough to bound memory. */
export const CHUNKS_AHEAD = 16;

/** Files smaller than this are read in the importing thread: starting a thread costs more than it saves. */
export const THREAD_MIN_BYTES = 4 * 1024 * 1024;

/** A prepared line as it crosses between threads. */
export function encodeLine(p: PreparedLine): EncodedLine {
  if (p.error !== undefined) return [p.line, p.raw, p.error];
  const op = p.op;
  if (op.op === "retract") return [p.line, p.raw, op.op, op.id, op.source, op.externalId, op.reason];
  const r = op.record;
  return [p.line, p.raw, op.op, r.id, r.source, r.externalId, r.subject, r.category, r.occurredAt, r.attributes, r.legalRef, r.evidenceRef ?? null, op.contentHash ?? null];
}

/** The prepared line an encoded one stands for. */
export function decodeLine(e: EncodedLine): PreparedLine {
  const line = e[0] as number;
  const raw = e[1] as string;
  if (e.length === 3) return { line, raw, error: e[2] as string };
  if (e[2] === "retract") return { line, raw, op: { op: "retract", id: e[3] as string, source: e[4] as string, externalId: e[5] as string, reason: e[6] as string } };
  const evidenceRef = e[11] as string | null;
  const hash = e[12] as string | null;
  const op: RecordOp = {
    op: e[2] as "submit" | "correct",
    record: {
      id: e[3] as string,
      source: e[4] as string,
      externalId: e[5] as string,
      subject: e[6] as string,
      category: e[7] as string,
      occurredAt: e[8] as Instant,
      attributes: e[9] as Record<string, unknown>,
      legalRef: e[10] as string,
      ...(evidenceRef !== null ? { evidenceRef } : {}),
    },
    ...(hash !== null ? { contentHash: hash } : {}),
  };
  return { line, raw, op };
}

// The modules of the worker that decide what a line becomes, from src/: when one is newer than its build, the worker
// would read lines otherwise than this thread expects.
const WORKER_SOURCES = ["adapters/files/reader-worker", "adapters/files/reader-thread", "adapters/files/record-files", "app/prepare", "core/record-input", "storage/record-content"];

/**
 * The compiled worker: beside this module in the build; from the build too when this module runs from source (under
 * the test runner, which `npm test` runs after building), refused if the build is older than the source. Undefined
 * when running from source with no build: lines are then read here.
 */
function workerScript(): URL | undefined {
  const here = import.meta.url;
  if (!here.endsWith(".ts")) return new URL("./reader-worker.js", here);
  const url = new URL("../../../dist/adapters/files/reader-worker.js", here);
  if (!existsSync(fileURLToPath(url))) return undefined;
  const stale = WORKER_SOURCES.filter((m) => {
    const built = fileURLToPath(new URL(`../../../dist/${m}.js`, here));
    return !existsSync(built) || statSync(fileURLToPath(new URL(`../../${m}.ts`, here))).mtimeMs > statSync(built).mtimeMs;
  });
  if (stale.length > 0) throw new Error(`the build of the reader thread is older than its source (${stale.join(", ")}): run \`npm run build\``);
  return url;
}

/** Whether a file is worth a reader thread, and one can be started. */
export function threadWorthIt(path: string): boolean {
  return statSync(path).size >= THREAD_MIN_BYTES && workerScript() !== undefined;
}

/**
 * Reads, parses and validates a record file in a worker thread, and yields its prepared lines in file order, a chunk
 * at a time; `counter.read` follows the bytes the thread has read. The thread stays a few chunks ahead. Stopping early
 * (the import failed) stops the thread.
 */
export async function* readInThread(job: ReadJob, counter: ByteCounter = { read: 0 }): AsyncGenerator<PreparedLine[]> {
  const script = workerScript();
  if (!script) throw new Error("the reader thread's script is missing: build the project first (npm run build)");
  // The script is compiled JavaScript: module hooks this process was started with (a benchmark's) would only slow its start.
  const worker = new Worker(script, { workerData: job, execArgv: [] });
  const inbox: ReaderMessage[] = [];
  let failure: Error | undefined;
  let exited = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  worker.on("message", (m: ReaderMessage) => {
    inbox.push(m);
    notify();
  });
  worker.on("error", (e) => {
    failure = e;
    notify();
  });
  // A chunk that could not be received would otherwise be lost without a word: its lines would be missing from the receipt.
  worker.on("messageerror", (e) => {
    failure = new Error(`a chunk of lines from the reader thread could not be received: ${e.message}`);
    notify();
  });
  worker.on("exit", () => {
    exited = true;
    notify();
  });
  try {
    for (;;) {
      while (inbox.length === 0 && failure === undefined && !exited) await new Promise<void>((resolve) => (wake = resolve));
      // A failure stops the import at once, before any chunk that may have come after a lost one.
      if (failure !== undefined) throw failure;
      const m = inbox.shift();
      if (!m) throw new Error("the reader thread stopped before the end of the file");
      counter.read = m.read;
      if ("done" in m) return;
      worker.postMessage("more");
      yield m.lines.map(decodeLine);
    }
  } finally {
    await worker.terminate();
  }
}

/**
 * The lines of a record file, validated against the active ruleset (returned too): in a reader thread when the file is
 * large enough (or `thread` says so), else in this thread. `counter.read` follows the bytes read.
 */
export async function preparedFile(
  ctx: AppContext,
  path: string,
  opts: { format: RecordFormat; source?: string; thread?: boolean },
  counter: ByteCounter = { read: 0 },
): Promise<{ ruleset: Ruleset; chunks: AsyncIterable<PreparedLine[]> }> {
  const ruleset = await ctx.requireRuleset();
  const now = ctx.clock.now();
  const source = opts.source ? { source: opts.source } : {};
  if (opts.thread ?? threadWorthIt(path)) {
    const rules = { grants: ruleset.grants, categories: ruleset.categories };
    return { ruleset, chunks: readInThread({ path, format: opts.format, rules, now, ...source }, counter) };
  }
  return { ruleset, chunks: prepareLines(readRecordFile(path, opts.format, ruleset, counter), importContext(ruleset, now, source)) };
}
