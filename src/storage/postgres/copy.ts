// Bulk writes into PostgreSQL through COPY ... FROM STDIN, in the text format, instead of one INSERT per row.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";

/** A value of one column as COPY's text format takes it. */
export type CopyValue = string | number | null;

const SPECIAL = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };

/** One field in COPY's text format: backslash, tab and line breaks escaped, NULL as \N. */
function field(v: CopyValue): string {
  if (v === null) return "\\N";
  if (typeof v === "number") return String(v);
  return SPECIAL.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c] as string) : v;
}

// Rows sent per chunk of the stream: big enough to amortise the stream's overhead, small enough to bound memory.
const ROWS_PER_CHUNK = 2000;

function* chunks(rows: readonly (readonly CopyValue[])[]): Generator<string> {
  for (let i = 0; i < rows.length; i += ROWS_PER_CHUNK) {
    let text = "";
    for (const row of rows.slice(i, i + ROWS_PER_CHUNK)) text += row.map(field).join("\t") + "\n";
    yield text;
  }
}

/** Copies rows into a table's named columns on a connection (inside the caller's transaction, if any). */
export async function copyRows(client: pg.ClientBase, table: string, columns: readonly string[], rows: readonly (readonly CopyValue[])[]): Promise<void> {
  if (rows.length === 0) return;
  const sink = client.query(copyFrom(`COPY ${table} (${columns.join(", ")}) FROM STDIN`));
  await pipeline(Readable.from(chunks(rows)), sink);
}
