// Importing records: validating each line, applying them in batches, and a receipt that says what became of every line.
import { parseRecordInput, type RecordOp } from "../core/record-input.js";
import type { AppContext } from "./context.js";
import { evaluatorAt } from "./statuses.js";

/** One line of an input file: its number, and either the parsed value or why it could not be read. */
export interface InputLine {
  line: number;
  value?: unknown;
  error?: string;
  /** The text of the line, kept for the file of rejected lines. */
  raw: string;
}

export interface Rejection {
  line: number;
  reason: string;
}

/** What became of an import, line by line. */
export interface Receipt {
  accepted: number;
  duplicates: number;
  corrected: number;
  retracted: number;
  rejected: Rejection[];
}

export interface ImportOptions {
  /** The source of every record in the file, when the lines do not name one. */
  source?: string;
  batchSize?: number;
  /** Called after each batch with the number of lines handled so far. */
  onBatch?: (linesDone: number) => void;
  /** Called for each rejected line, with its text: for the file of rejected lines. */
  onReject?: (rejection: Rejection, raw: string) => void;
}

/** Imports records line by line. Every line is applied whole or not at all; a bad line never stops the others. */
export async function importRecords(ctx: AppContext, lines: AsyncIterable<InputLine>, opts: ImportOptions = {}): Promise<Receipt> {
  const ruleset = await ctx.requireRuleset();
  const receipt: Receipt = { accepted: 0, duplicates: 0, corrected: 0, retracted: 0, rejected: [] };
  const batchSize = opts.batchSize ?? 1000;
  let batch: { line: number; raw: string; op: RecordOp }[] = [];
  let linesDone = 0;

  const reject = (line: number, reason: string, raw: string) => {
    const r = { line, reason };
    receipt.rejected.push(r);
    opts.onReject?.(r, raw);
  };

  const flush = async () => {
    if (batch.length === 0) return;
    const now = ctx.clock.now();
    const outcomes = await ctx.store.writeRecords(batch.map((b) => b.op), evaluatorAt(ruleset, now), now);
    outcomes.forEach((o, i) => {
      const b = batch[i] as (typeof batch)[number];
      if (o.kind === "rejected") reject(b.line, o.reason, b.raw);
      else if (o.kind === "accepted") receipt.accepted++;
      else if (o.kind === "duplicate") receipt.duplicates++;
      else if (o.kind === "corrected") receipt.corrected++;
      else receipt.retracted++;
    });
    linesDone += batch.length;
    batch = [];
    opts.onBatch?.(linesDone);
  };

  const context = { ruleset, now: ctx.clock.now(), ...(opts.source ? { defaultSource: opts.source } : {}) };
  for await (const l of lines) {
    if (l.error !== undefined) {
      reject(l.line, l.error, l.raw);
      linesDone++;
      continue;
    }
    const op = parseRecordInput(l.value, context);
    if ("error" in op) {
      reject(l.line, op.error, l.raw);
      linesDone++;
      continue;
    }
    batch.push({ line: l.line, raw: l.raw, op });
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  receipt.rejected.sort((a, b) => a.line - b.line);
  return receipt;
}
