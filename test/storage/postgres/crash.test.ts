// An importer killed with SIGKILL in the middle of a PostgreSQL import, then run again, leaves what one clean run leaves.
//
// The issue asks this of a 1,000,000-record file; the test uses 50,000 records (five batches of 10,000) to stay within
// a test's time, which is enough for the kill to land with some batches committed and one in flight. The same check at
// full size: `SOCIAL_CREDIT_CRASH_RECORDS=1000000 npx vitest run test/storage/postgres/crash.test.ts` (passed once on a
// 2-core VM in 470 s: killed with 400,000 records in, run again, then a clean import to compare with).
import { spawn, execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { residentIdCheckChar } from "../../../src/core/subject-id.js";
import { testBackends } from "../backends.js";

const run = promisify(execFile);
const BACKENDS = await testBackends();
const postgres = BACKENDS.find((b) => b.name === "postgres");
const RECORDS = Number(process.env.SOCIAL_CREDIT_CRASH_RECORDS ?? 50_000);
const AT = "2026-11-23T10:00:00+08:00";
const RULEBOOKS = ["national", "beijing", "jiangsu", "hangzhou", "rongcheng"].map((n) => `rulebooks/${n}.yaml`);

/** Rongcheng residents, five records each: mostly volunteering, some unpaid judgments (which wait for a sign-off). */
function recordLines(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const person = Math.floor(i / 5);
    const born = new Date(Date.UTC(1960, 0, 1) + Math.floor(person / 400) * 86_400_000).toISOString().slice(0, 10).replaceAll("-", "");
    const first17 = `371082${born}${String((person % 400) * 2 + 1).padStart(3, "0")}`;
    const subject = first17 + residentIdCheckChar(first17);
    const day = `2025-${String((i % 12) + 1).padStart(2, "0")}-${String((i % 28) + 1).padStart(2, "0")}`;
    lines.push(
      JSON.stringify(
        i % 7 === 0
          ? { source: "court", externalId: `crash-${i}`, subject, category: "court.judgment.unfulfilled", occurredAt: day, attributes: { caseNumber: `(2025)鲁1082执${i}号`, ground: 1 }, legalRef: "SPC Fa Shi [2017] No. 7, Art. 1(1)" }
          : { source: "volunteer-registry", externalId: `crash-${i}`, subject, category: "civic.volunteering", occurredAt: day, attributes: { hours: (i % 40) + 1 }, legalRef: "x" },
      ),
    );
  }
  return lines.join("\n") + "\n";
}

const cli = (db: string, ...args: string[]) => run("node", ["bin/social-credit.js", "--db", db, "--at", AT, ...args], { maxBuffer: 64 * 1024 * 1024 });

async function query<R extends pg.QueryResultRow>(db: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Everything an import leaves that must not depend on how often it was interrupted. */
async function contents(db: string) {
  return {
    records: await query(db, "SELECT md5(string_agg(concat_ws('|', id, subject, category, occurred_at, attributes, state, revision, content_hash), ',' ORDER BY id)) AS h, count(*)::int AS n FROM records"),
    history: await query(db, "SELECT count(*)::int AS n, count(DISTINCT record_id)::int AS ids FROM record_history"),
    statuses: await query(db, "SELECT md5(string_agg(concat_ws('|', subject, score, grade, valid_from, valid_until, body, measures), ',' ORDER BY subject)) AS h, count(*)::int AS n FROM statuses"),
    members: await query(db, "SELECT md5(string_agg(concat_ws('|', subject, list, since, until, published_until), ',' ORDER BY subject, list)) AS h FROM list_members"),
    signOffs: await query(db, "SELECT md5(string_agg(concat_ws('|', entry, subject, state, requested_at), ',' ORDER BY entry)) AS h FROM sign_offs"),
    notices: await query(db, "SELECT md5(string_agg(body, ',' ORDER BY subject, body)) AS h, count(*)::int AS n FROM notices"),
    // Every accepted record listed once, whichever shape its entry has (one record, or several).
    audited: await query(db, "SELECT coalesce(sum(CASE WHEN subject IS NULL THEN jsonb_array_length(detail::jsonb -> 'records') ELSE 1 END), 0)::int AS n FROM audit_log WHERE action = 'record.accepted'"),
  };
}

const dir = mkdtempSync(join(tmpdir(), "social-credit-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!postgres)("an import into PostgreSQL killed with SIGKILL", () => {
  it(`then run again leaves exactly the file's ${RECORDS} records and the statuses of a clean run`, { timeout: 600_000 }, async () => {
    expect(existsSync("dist/adapters/cli/main.js"), "run `npm run build` first (npm test does)").toBe(true);
    const file = join(dir, "records.ndjson");
    writeFileSync(file, recordLines(RECORDS));
    const [crashed, clean] = [await postgres!.location(), await postgres!.location()];
    for (const db of [crashed, clean]) await cli(db, "rulebook", "activate", ...RULEBOOKS);

    const child = spawn("node", ["bin/social-credit.js", "--db", crashed, "--at", AT, "import", file], { stdio: "ignore" });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    // Killed in the middle: 40% of the records in (whole batches), the next batch on its way.
    for (;;) {
      const [row] = await query<{ n: number }>(crashed, "SELECT count(*)::int AS n FROM records");
      if ((row?.n ?? 0) >= RECORDS * 0.4) break;
      if (child.exitCode !== null) throw new Error("the import finished before it could be killed: use more records");
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    const [partial] = await query<{ n: number }>(crashed, "SELECT count(*)::int AS n FROM records");
    expect(partial?.n).toBeLessThan(RECORDS);

    const again = JSON.parse((await cli(crashed, "--json", "import", file)).stdout) as { accepted: number; duplicates: number; rejected: unknown[] };
    expect(again.rejected).toEqual([]);
    expect(again.accepted + again.duplicates).toBe(RECORDS);
    expect(again.duplicates).toBe(partial?.n);
    const once = JSON.parse((await cli(clean, "--json", "import", file)).stdout) as { accepted: number };
    expect(once.accepted).toBe(RECORDS);

    const [a, b] = [await contents(crashed), await contents(clean)];
    expect(a.records[0]?.n).toBe(RECORDS);
    // Nothing was revised, and a first revision is kept in the history only once it is superseded: no row at all.
    expect(a.history).toEqual([{ n: 0, ids: 0 }]);
    expect(a).toEqual(b);
    // The audit chain is whole: no entry of the killed transaction, no gap.
    const verified = JSON.parse((await cli(crashed, "--json", "audit", "verify")).stdout) as { ok: boolean; entries: number };
    expect(verified.ok).toBe(true);
  });
});
