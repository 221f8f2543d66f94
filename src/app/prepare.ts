// Validating the lines of an import before anything is written: in the importing thread, or in a reader thread, which
// loads this module and not the rest of the import.
import { parseRecordInput, type RecordContext, type RecordOp } from "../core/record-input.js";
import type { ReportingRules } from "../core/rulebook/ruleset.js";
import type { Instant } from "../core/time.js";

/** One line of an input file: its number, and either the parsed value or why it could not be read. */
export interface InputLine {
  line: number;
  value?: unknown;
  error?: string;
  /** The text of the line, kept for the file of rejected lines. */
  raw: string;
}

/** A line read and validated, ready for the store: the operation it asks for, or why it is refused. */
export type PreparedLine = { line: number; raw: string } & ({ op: RecordOp; error?: undefined } | { error: string; op?: undefined });

/** Validates one line read from a file into the operation it asks for, or the reason it is refused. */
export function prepareLine(l: InputLine, context: RecordContext): PreparedLine {
  if (l.error !== undefined) return { line: l.line, raw: l.raw, error: l.error };
  const op = parseRecordInput(l.value, context);
  return "error" in op ? { line: l.line, raw: l.raw, error: op.error } : { line: l.line, raw: l.raw, op };
}

/** What lines of an import are validated against: the active ruleset, the instant the import began, the file's source. */
export function importContext(ruleset: ReportingRules, now: Instant, opts: { source?: string }): RecordContext {
  return { ruleset, now, ...(opts.source ? { defaultSource: opts.source } : {}) };
}

// Lines validated in this thread are handed on in chunks, as a reader thread hands them.
const CHUNK = 256;

/** Validates lines in this thread, handing them on in chunks. */
export async function* prepareLines(lines: AsyncIterable<InputLine>, context: RecordContext): AsyncGenerator<PreparedLine[]> {
  let chunk: PreparedLine[] = [];
  for await (const l of lines) {
    chunk.push(prepareLine(l, context));
    if (chunk.length >= CHUNK) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}
