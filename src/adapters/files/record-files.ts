// Reading agencies' record files, NDJSON or CSV, as numbered lines for the importer, with the bytes read for progress.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { InputLine } from "../../app/ingest.js";
import type { ReportingRules } from "../../core/rulebook/ruleset.js";

export type RecordFormat = "ndjson" | "csv";

/** Picks the format from the file name: .csv is CSV, anything else NDJSON. */
export function formatOf(path: string): RecordFormat {
  return path.toLowerCase().endsWith(".csv") ? "csv" : "ndjson";
}

/** Counts bytes as a stream is consumed, for a progress bar. */
export interface ByteCounter {
  read: number;
}

/** Reads an NDJSON file: one JSON object a line; blank lines are skipped, a line that is not JSON is reported with its number. */
export async function* readNdjson(path: string, counter: ByteCounter = { read: 0 }): AsyncGenerator<InputLine> {
  const stream = createReadStream(path);
  stream.on("data", (chunk) => (counter.read += chunk.length));
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  for await (const line_ of rl) {
    line++;
    // Editors on some systems start UTF-8 files with a byte-order mark; it is not part of the JSON.
    const text = line === 1 ? line_.replace(/^\uFEFF/, "") : line_;
    if (text.trim() === "") continue;
    try {
      yield { line, value: JSON.parse(text) as unknown, raw: text };
    } catch (e) {
      yield { line, error: `not valid JSON: ${(e as Error).message}`, raw: text };
    }
  }
}

/** Reads a record file of either format as numbered lines; CSV needs the rules to type its attribute columns. */
export function readRecordFile(path: string, format: RecordFormat, rules: ReportingRules, counter: ByteCounter = { read: 0 }): AsyncGenerator<InputLine> {
  return format === "csv" ? readCsv(path, rules, counter) : readNdjson(path, counter);
}

const PLAIN_COLUMNS = new Set(["op", "source", "externalId", "subject", "category", "occurredAt", "legalRef", "evidenceRef", "reason"]);

/**
 * Reads a CSV file with a header row. Columns are the record's fields; attributes come from an `attributes` column
 * holding JSON and/or `attributes.NAME` columns, whose text is converted to the type the rulebook declares.
 */
export async function* readCsv(path: string, ruleset: ReportingRules, counter: ByteCounter = { read: 0 }): AsyncGenerator<InputLine> {
  // Loaded for CSV files only: most imports are NDJSON, and the parser is a good part of a reader thread's start.
  const { parse } = await import("csv-parse");
  const stream = createReadStream(path);
  stream.on("data", (chunk) => (counter.read += chunk.length));
  // A malformed row (a wrong number of cells, a stray quote) is skipped by the parser and reported as
  // rejected, so one bad row never costs the rows around it.
  const skipped: InputLine[] = [];
  const parser = stream.pipe(
    parse({
      columns: true,
      info: true,
      raw: true,
      skip_empty_lines: true,
      bom: true,
      skip_records_with_error: true,
      on_skip: (err, raw) => {
        skipped.push({ line: Number(err?.lines ?? 0), error: `CSV: ${err?.message ?? "unreadable row"}`, raw: (raw ?? "").replace(/\r?\n$/, "") });
        return undefined;
      },
    }),
  );
  for await (const item of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number }; raw: string }>) {
    yield* skipped.splice(0);
    const line = item.info.lines;
    const raw = item.raw.replace(/\r?\n$/, "");
    const converted = csvRow(item.record, ruleset);
    yield typeof converted === "string" ? { line, error: converted, raw } : { line, value: converted, raw };
  }
  yield* skipped.splice(0);
}

function csvRow(row: Record<string, string>, ruleset: ReportingRules): Record<string, unknown> | string {
  const out: Record<string, unknown> = {};
  let attributes: Record<string, unknown> = {};
  for (const [column, cell] of Object.entries(row)) {
    if (cell === "") continue;
    if (PLAIN_COLUMNS.has(column)) out[column] = cell;
    else if (column === "attributes") {
      try {
        const parsed: unknown = JSON.parse(cell);
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return "attributes: must be a JSON object";
        attributes = { ...attributes, ...(parsed as Record<string, unknown>) };
      } catch {
        return "attributes: not valid JSON";
      }
    } else if (column.startsWith("attributes.")) {
      attributes[column.slice("attributes.".length)] = cell;
    } else {
      return `unknown column '${column}'`;
    }
  }
  const declared = ruleset.categories.get(String(out.category ?? ""))?.attributes ?? {};
  for (const [name, value] of Object.entries(attributes)) {
    const type = declared[name]?.type;
    if (typeof value !== "string" || !type || type === "string") continue;
    if (type === "boolean" && (value === "true" || value === "false")) attributes[name] = value === "true";
    else if ((type === "integer" || type === "number") && value.trim() !== "" && Number.isFinite(Number(value))) attributes[name] = Number(value);
  }
  if (Object.keys(attributes).length > 0) out.attributes = attributes;
  return out;
}
