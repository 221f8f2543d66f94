// The import benchmark. The issue asks for records per second end to end (parse, validate, rules, store, statuses,
// audit) through the real import service, beside a raw better-sqlite3 insert of the same rows into a bare table of the
// same columns as `records` (one transaction per 1,000 rows, a prepared statement): import at least 25% of the raw rate.
//
// The records come from the synthetic generator (a Hangzhou city by default: volunteering and blood donation make
// records plentiful there), written to an NDJSON file before anything is timed, so generation costs nothing here.
// The import then runs as `social-credit import FILE` does: a reader thread reads, parses and validates the file while
// the importing thread writes, into a store opened as the command opens it (WAL checkpoints in a worker thread), with
// the shipped rulebooks active. Each round gets a fresh database for the import and another for the raw insert.
//
// The city helpers here are shared with the rescore and evaluation benchmarks.
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { fixedClock } from "../src/app/clock.js";
import { AppContext } from "../src/app/context.js";
import { defaultGenerationInstant } from "../src/app/generate.js";
import { preparedFile } from "../src/adapters/files/reader-thread.js";
import { importPrepared } from "../src/app/ingest.js";
import { activateRulebooks } from "../src/app/rulebooks.js";
import type { Ruleset } from "../src/core/rulebook/ruleset.js";
import { synthesize, type SynthSubject } from "../src/core/synth/city.js";
import { parsePlaces, type Place } from "../src/core/synth/places.js";
import { planCity } from "../src/core/synth/streams.js";
import type { Instant } from "../src/core/time.js";
import type { RecordRow } from "../src/storage/rows.js";
import { openSqliteStore } from "../src/storage/sqlite/sqlite-store.js";
import { figure, summarize, watchCpu, type Benchmark, type BenchOptions, type Interference } from "./harness.js";

/** Settings of the city benchmarks (import, rescore, evaluation), beyond the harness's; run.ts fills them from flags. */
export interface CityBenchOptions {
  /** People in the synthetic city (enterprises: a tenth as many). */
  people?: number;
  /** The city's regions, as `generate --regions` takes them. */
  regions?: string;
}

export const DEFAULT_PEOPLE = 50_000;
export const DEFAULT_REGIONS = "hangzhou";
export const ACTOR = "bench:setup";
const RULEBOOKS = fileURLToPath(new URL("../rulebooks/", import.meta.url));

/** The shipped rulebooks, national layer first, as the README activates them. */
export function shippedRulebooks(): { file: string; text: string }[] {
  return readdirSync(RULEBOOKS)
    .filter((f) => f.endsWith(".yaml"))
    .sort((a, b) => Number(b === "national.yaml") - Number(a === "national.yaml") || a.localeCompare(b))
    .map((f) => ({ file: `rulebooks/${f}`, text: readFileSync(join(RULEBOOKS, f), "utf8") }));
}

export const rulebookPaths = (): string[] => shippedRulebooks().map((r) => r.file);

/** A temporary directory, removed by the caller. */
export const tempDir = () => mkdtempSync(join(tmpdir(), "social-credit-bench-"));
export const removeDir = (dir: string) => rmSync(dir, { recursive: true, force: true });

/** The generation instant every city benchmark runs at (the generator's fixed default, as `generate` without --at). */
export const AT: Instant = defaultGenerationInstant();

/**
 * Removes a database file with its WAL and shared memory: once measured, a round's files would only leave the kernel
 * writing them back to disk during the rounds after.
 */
export function removeDatabase(path: string): void {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
}

/** A database file with the shipped rulebooks active, and nothing else. */
export async function activatedDb(path: string): Promise<void> {
  const ctx = new AppContext(openSqliteStore(path), fixedClock(AT));
  try {
    await activateRulebooks(ctx, ACTOR, shippedRulebooks());
  } finally {
    await ctx.store.close();
  }
}

/** The active ruleset of the shipped rulebooks, compiled in an in-memory store. */
export async function shippedRuleset(): Promise<Ruleset> {
  const ctx = new AppContext(openSqliteStore(":memory:"), fixedClock(AT));
  try {
    await activateRulebooks(ctx, ACTOR, shippedRulebooks());
    return await ctx.requireRuleset();
  } finally {
    await ctx.store.close();
  }
}

export function placesOf(regions: string): Place[] {
  const places = parsePlaces(regions);
  if (typeof places === "string") throw new Error(`--regions: ${places}`);
  return places;
}

/** The generated subjects of a city (seed 1, 10 years, a tenth as many enterprises), as `generate` makes them. */
export function* citySubjects(ruleset: Ruleset, people: number, regions: string): Generator<SynthSubject> {
  const plan = planCity(ruleset, placesOf(regions));
  yield* synthesize(plan, { people, enterprises: Math.round(people / 10), years: 10, seed: 1, at: AT });
}

export const cityOptions = (o: BenchOptions & CityBenchOptions) => ({ people: o.people ?? DEFAULT_PEOPLE, regions: o.regions ?? DEFAULT_REGIONS });

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

export function interferenceNotes(runs: readonly [string, Interference | undefined][]): string[] {
  return runs.flatMap(([run, x]) =>
    x && (x.othersCores > 0.05 || x.stealCores > 0.05)
      ? [`WARNING: during the ${run} other processes used ${x.othersCores} cores and the hypervisor took ${x.stealCores}: the figures are skewed`]
      : [],
  );
}

/** Runs work and says how long it took and how much CPU other processes took meanwhile. */
export async function timed<T>(work: () => Promise<T> | T): Promise<{ result: T; ms: number; interference: Interference | undefined }> {
  const stop = watchCpu();
  const t0 = performance.now();
  const result = await work();
  const ms = performance.now() - t0;
  return { result, ms, interference: stop() };
}

// ---------------------------------------------------------------------------------------------------------------

/** The bare table of the baseline: the columns of `records` (and its primary key), no index, no trigger, nothing else. */
const BARE_TABLE = `CREATE TABLE records (
  id TEXT PRIMARY KEY, source TEXT NOT NULL, external_id TEXT NOT NULL, subject TEXT NOT NULL, category TEXT NOT NULL,
  occurred_at INTEGER NOT NULL, attributes TEXT NOT NULL, legal_ref TEXT NOT NULL, evidence_ref TEXT,
  state TEXT NOT NULL, revision INTEGER NOT NULL, content_hash TEXT NOT NULL, received_at INTEGER NOT NULL)`;

/** One row of `records` as the baseline inserts it: the store's row, every record active at its first revision. */
export type Row = Omit<RecordRow, "state" | "revision">;

/** The rows the store would write for these lines, worked out before the baseline is timed. */
export function rowsOf(lines: readonly string[]): Row[] {
  return lines.map((text) => {
    const r = JSON.parse(text) as { source: string; externalId: string; subject: string; category: string; occurredAt: string; attributes: unknown; legalRef: string };
    return {
      id: `${r.source}:${r.externalId}`,
      source: r.source,
      external_id: r.externalId,
      subject: r.subject,
      category: r.category,
      occurred_at: Date.parse(`${r.occurredAt}T00:00:00+08:00`),
      attributes: JSON.stringify(r.attributes),
      legal_ref: r.legalRef,
      evidence_ref: null,
      content_hash: createHash("sha256").update(text).digest("hex"),
      received_at: AT,
    };
  });
}

/** The baseline: prepared INSERTs into the bare table, 1,000 rows per transaction, with the store's pragmas. */
function rawInsert(path: string, rows: readonly Row[]): number {
  const db = new Database(path);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("cache_size = -65536");
    db.pragma("mmap_size = 1073741824");
    db.exec(BARE_TABLE);
    const insert = db.prepare(
      `INSERT INTO records (id, source, external_id, subject, category, occurred_at, attributes, legal_ref, evidence_ref, state, revision, content_hash, received_at)
       VALUES (@id, @source, @external_id, @subject, @category, @occurred_at, @attributes, @legal_ref, @evidence_ref, 'active', 1, @content_hash, @received_at)`,
    );
    const batch = db.transaction((slice: readonly Row[]) => {
      for (const r of slice) insert.run(r);
    });
    const t0 = performance.now();
    for (let i = 0; i < rows.length; i += 1000) batch(rows.slice(i, i + 1000));
    const ms = performance.now() - t0;
    const n = (db.prepare("SELECT count(*) AS n FROM records").get() as { n: number }).n;
    if (n !== rows.length) throw new Error(`raw insert stored ${n} of ${rows.length} rows`);
    return ms;
  } finally {
    db.close();
  }
}

/** Imports an NDJSON file as `social-credit import FILE` does (a reader thread for a large file); fails unless every one of its `lines` was accepted. */
export async function importWhole(ctx: AppContext, file: string, lines: number): Promise<void> {
  const { ruleset, chunks } = await preparedFile(ctx, file, { format: "ndjson" });
  const receipt = await importPrepared(ctx, ACTOR, ruleset, chunks);
  if (receipt.rejected.length > 0 || receipt.accepted !== lines) {
    throw new Error(`the import accepted ${receipt.accepted} of ${lines} lines: ${receipt.rejected.slice(0, 3).map((r) => `line ${r.line}: ${r.reason}`).join("; ")}`);
  }
}

/** The import into a SQLite store opened as the command opens it; returns its time. */
async function serviceImport(path: string, file: string, lines: number) {
  const ctx = new AppContext(openSqliteStore(path, { backgroundCheckpoints: true, indexAuditBehind: true }), fixedClock(AT));
  try {
    await ctx.requireRuleset();
    const t0 = performance.now();
    await importWhole(ctx, file, lines);
    return performance.now() - t0;
  } finally {
    await ctx.store.close();
  }
}

/** The city's records as NDJSON lines, in the generator's order (subject by subject). */
export function cityLines(ruleset: Ruleset, people: number, regions: string): { lines: string[]; subjects: number; withRecords: number } {
  const lines: string[] = [];
  let subjects = 0;
  let withRecords = 0;
  for (const s of citySubjects(ruleset, people, regions)) {
    subjects++;
    if (s.records.length > 0) withRecords++;
    for (const r of s.records) lines.push(JSON.stringify(r));
  }
  return { lines, subjects, withRecords };
}

export const importBench: Benchmark = {
  name: "import",
  title: "Import of records end to end (parse, validate, rules, store, statuses, audit) vs a raw SQLite insert",
  async run(o: BenchOptions & CityBenchOptions) {
    const { people, regions } = cityOptions(o);
    const dir = tempDir();
    try {
      o.log(`import: generating a ${regions} city of ${people.toLocaleString("en-US")} people into memory (not timed)...`);
      const ruleset = await shippedRuleset();
      const city = cityLines(ruleset, people, regions);
      const rows = rowsOf(city.lines);
      const n = city.lines.length;
      const file = join(dir, "city.ndjson");
      writeFileSync(file, city.lines.join("\n") + "\n");
      const rawMs: number[] = [];
      const importMs: number[] = [];
      const cpu: [string, Interference | undefined][] = [];
      for (let r = 1; r <= o.rounds; r++) {
        const label = o.rounds > 1 ? ` (round ${r} of ${o.rounds})` : "";
        o.log(`import: baseline, raw insert of ${n.toLocaleString("en-US")} rows${label}...`);
        const rawDb = join(dir, `raw-${r}.sqlite`);
        const raw = await timed(() => rawInsert(rawDb, rows));
        rawMs.push(raw.result);
        cpu.push([`raw insert run ${r}`, raw.interference]);
        removeDatabase(rawDb);
        const db = join(dir, `import-${r}.sqlite`);
        await activatedDb(db);
        o.log(`import: import of a file of ${n.toLocaleString("en-US")} lines${label}...`);
        const imp = await timed(() => serviceImport(db, file, n));
        importMs.push(imp.result);
        cpu.push([`import run ${r}`, imp.interference]);
        removeDatabase(db);
      }
      const raw = summarize(rawMs).median;
      const imp = summarize(importMs).median;
      const rawRate = (n / raw) * 1000;
      const importRate = (n / imp) * 1000;
      return {
        name: "import",
        title: this.title,
        figures: [
          figure("import throughput", "records/s", round(importRate, 0), { name: "raw better-sqlite3 insert, bare table", value: round(rawRate, 0) }, {
            description: "at least 0.25 × baseline",
            met: importRate >= 0.25 * rawRate,
          }),
          figure("import time per record", "µs", round((imp * 1000) / n), { name: "raw insert", value: round((raw * 1000) / n) }),
        ],
        notes: [
          ...interferenceNotes(cpu),
          `city: ${regions}, ${people.toLocaleString("en-US")} people and ${Math.round(people / 10).toLocaleString("en-US")} enterprises, seed 1, 10 years: ${n.toLocaleString("en-US")} records about ${city.withRecords.toLocaleString("en-US")} of ${city.subjects.toLocaleString("en-US")} subjects, as an NDJSON file`,
          `import: the file as \`social-credit import\` reads it (a reader thread parses and validates, the importing thread writes batches of 1,000) into a fresh database with the shipped rulebooks, store opened with backgroundCheckpoints and indexAuditBehind as the command does; close not timed`,
          `baseline: the same rows prepared beforehand, one prepared INSERT each, 1,000 per transaction, WAL, synchronous NORMAL, primary key on id, no other index`,
          `${o.rounds} round${o.rounds === 1 ? "" : "s"} (medians): import ${importMs.map((x) => (x / 1000).toFixed(2)).join(", ")} s; raw ${rawMs.map((x) => (x / 1000).toFixed(2)).join(", ")} s`,
        ],
        details: { people, regions, records: n, subjects: city.subjects, subjectsWithRecords: city.withRecords, importMs, rawMs },
      };
    } finally {
      removeDir(dir);
    }
  },
};
