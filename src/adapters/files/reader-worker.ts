// The reader thread of an import (see reader-thread.ts): reads the file, validates each line against the rules it was
// given, hashes each record's content, and posts the lines in chunks as the importing thread asks.
import { parentPort, workerData } from "node:worker_threads";
import { importContext, prepareLine } from "../../app/prepare.js";
import { contentHash } from "../../storage/record-content.js";
import { CHUNK_LINES, CHUNKS_AHEAD, encodeLine, type EncodedLine, type ReadJob, type ReaderMessage } from "./reader-thread.js";
import { readRecordFile } from "./record-files.js";

const port = parentPort;
if (!port) throw new Error("reader-worker.js runs as a worker thread");
const job = workerData as ReadJob;

let credits = CHUNKS_AHEAD;
let wake: (() => void) | undefined;
port.on("message", () => {
  credits++;
  wake?.();
  wake = undefined;
});

const counter = { read: 0 };
const post = async (m: ReaderMessage) => {
  while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
  credits--;
  port.postMessage(m);
};

const context = importContext(job.rules, job.now, job);
const lines = readRecordFile(job.path, job.format, job.rules, counter);
let chunk: EncodedLine[] = [];
for await (const l of lines) {
  const p = prepareLine(l, context);
  if (p.op && p.op.op !== "retract") p.op.contentHash = contentHash(p.op.record);
  chunk.push(encodeLine(p));
  if (chunk.length >= CHUNK_LINES) {
    await post({ read: counter.read, lines: chunk });
    chunk = [];
  }
}
if (chunk.length > 0) await post({ read: counter.read, lines: chunk });
port.postMessage({ read: counter.read, done: true } satisfies ReaderMessage);
