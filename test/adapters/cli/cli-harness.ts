// Runs CLI commands in process against a temporary database, capturing what they print.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../../src/adapters/cli/main.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json commands). */
  json<T = unknown>(): T;
}

/** A scratch directory with a database path, and a runner bound to it and to a simulated instant. */
export function cliSandbox(at = "2026-11-23T10:00:00+08:00", database?: string) {
  const dir = mkdtempSync(join(tmpdir(), "social-credit-cli-"));
  // A SQLite file in the sandbox unless a database (a postgres:// URL) is given.
  const db = database ?? join(dir, "db.sqlite");
  const run = async (args: string[], opts: { at?: string | null } = {}): Promise<CliResult> => {
    let stdout = "";
    let stderr = "";
    const when = opts.at === undefined ? at : opts.at;
    const code = await runCli(["--db", db, ...(when ? ["--at", when] : []), ...args], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s), isTTY: false },
    });
    return { code, stdout, stderr, json: <T>() => JSON.parse(stdout) as T };
  };
  /** A reviewer approves every entry waiting for sign-off, as the shipped rulebooks require for serious lists; returns how many. */
  const approveAll = async (opts: { at?: string } = {}): Promise<number> => {
    const pending = (await run(["sign-offs", "list", "--json"], opts)).json<{ entry: string }[]>();
    for (const s of pending) {
      const r = await run(["sign-offs", "approve", s.entry, "--reasons", "the judgment is final and the ground is met"], opts);
      if (r.code !== 0) throw new Error(`approving ${s.entry} failed: ${r.stderr}`);
    }
    return pending.length;
  };
  return { dir, db, run, approveAll, file: (name: string) => join(dir, name) };
}

/** The shipped rulebook files. */
export const SHIPPED = ["national", "beijing", "jiangsu", "hangzhou", "rongcheng"].map((n) => `rulebooks/${n}.yaml`);

export const read = (path: string) => readFileSync(path, "utf8");
