// A database to benchmark against: the shipped rulebooks active, a few thousand people with records (a fifth of them
// dishonest judgment debtors), and an enforcer key. Built once per run in a temporary directory, through the
// application's own services, exactly as the CLI would.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { systemClock } from "../src/app/clock.js";
import { AppContext } from "../src/app/context.js";
import { importRecords, type InputLine } from "../src/app/ingest.js";
import { decideSignOff, listSignOffs } from "../src/app/sign-offs.js";
import { createKey } from "../src/app/keys.js";
import { activateRulebooks } from "../src/app/rulebooks.js";
import { residentIdCheckChar } from "../src/core/subject-id.js";
import { openSqliteStore } from "../src/storage/sqlite/sqlite-store.js";
import { parseSubjectId } from "../src/core/subject-id.js";
import Database from "better-sqlite3";
import { openStore } from "../src/storage/open.js";

const ACTOR = "bench:setup";
const REGIONS = ["110105", "110108", "320102", "330106", "371082"] as const;
const DAY = 86_400_000;
const RULEBOOKS = fileURLToPath(new URL("../rulebooks/", import.meta.url));

export interface Population {
  dir: string;
  db: string;
  /** An enforcer key scoped to MEASURE. */
  key: string;
  measure: string;
  /** On the list of dishonest judgment debtors: MEASURE applies. */
  debtors: string[];
  /** With records, none of which lists them for MEASURE (volunteering, tax exit control, a judgment since fulfilled). */
  others: string[];
  /** Nobody ever reported on them: nothing is stored, the base status answers. */
  unknown: string[];
  records: number;
  /** Removes the temporary directory. */
  remove(): void;
}

const isoDate = (t: number) => new Date(t).toISOString().slice(0, 10);

/** A valid resident ID: region, birth date, sequence number and the check character they imply. */
function residentId(region: string, birth: number, sequence: number): string {
  const first17 = `${region}${isoDate(birth).replaceAll("-", "")}${String(sequence).padStart(3, "0")}`;
  return first17 + residentIdCheckChar(first17);
}

/** A small deterministic generator (mulberry32), so every run checks the same subjects in the same order. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Builds the fixture in a fresh SQLite file, or in the (empty) PostgreSQL database of `url` when one is given. */
export async function buildPopulation(subjects: number, log: (m: string) => void, url?: string): Promise<Population> {
  const dir = mkdtempSync(join(tmpdir(), "social-credit-bench-"));
  const db = url ?? join(dir, "bench.sqlite");
  const ctx = new AppContext(openStore(db), systemClock);
  try {
    const rulebooks = readdirSync(RULEBOOKS)
      .filter((f) => f.endsWith(".yaml"))
      // The national layer first, then the local ones, as the README activates them.
      .sort((a, b) => Number(b === "national.yaml") - Number(a === "national.yaml") || a.localeCompare(b))
      .map((f) => ({ file: `rulebooks/${f}`, text: readFileSync(join(RULEBOOKS, f), "utf8") }));
    await activateRulebooks(ctx, ACTOR, rulebooks);

    const now = Date.now();
    const judged = isoDate(now - 120 * DAY);
    const later = isoDate(now - 30 * DAY);
    const born = Date.UTC(1960, 0, 1);
    const debtors: string[] = [];
    const others: string[] = [];
    const lines: unknown[] = [];
    const court = (i: number, subject: string, ground: number) => ({
      source: "court",
      externalId: `(bench)执${i}号`,
      subject,
      category: "court.judgment.unfulfilled",
      occurredAt: judged,
      attributes: { caseNumber: `(bench)执${i}号`, ground, amountYuan: 10_000 + i },
      legalRef: `SPC Fa Shi [2017] No. 7, Art. 1(${ground})`,
    });
    const volunteering = (i: number, subject: string) => ({
      source: "volunteer-registry",
      externalId: `BENCH-V-${i}`,
      subject,
      category: "civic.volunteering",
      occurredAt: later,
      attributes: { hours: 10 + (i % 90) },
      legalRef: "Regulations on Volunteer Service, Art. 33",
    });
    for (let i = 0; i < subjects; i++) {
      // Born 1960 onwards, a day apart: all adults, so that list measures bind them.
      const subject = residentId(REGIONS[i % REGIONS.length] as string, born + i * DAY, 1 + (i % 499));
      const kind = i % 10;
      if (kind < 2) {
        debtors.push(subject);
        lines.push(court(i, subject, 1));
        if (kind === 1) lines.push(volunteering(i, subject));
      } else if (kind === 2) {
        // Listed, then off the list once the judgment was fulfilled.
        others.push(subject);
        lines.push(court(i, subject, 2), {
          source: "court",
          externalId: `(bench)执${i}号-fulfilled`,
          subject,
          category: "court.judgment.fulfilled",
          occurredAt: later,
          attributes: { caseNumber: `(bench)执${i}号` },
          legalRef: "SPC Fa Shi [2017] No. 7, Art. 10(1)",
        });
      } else if (kind === 3) {
        others.push(subject);
        lines.push({
          source: "tax",
          externalId: `BENCH-TAX-${i}`,
          subject,
          category: "tax.arrears.exit-control",
          occurredAt: judged,
          attributes: { noticeNumber: `BENCH-TAX-${i}`, amountYuan: 5_000 + i },
          legalRef: "Tax Collection and Administration Law, Art. 44",
        });
      } else {
        others.push(subject);
        lines.push(volunteering(i, subject));
      }
    }
    // A quarter as many again that nobody reported on (sequence numbers 500 and up never collide with the above).
    const unknown = Array.from({ length: Math.ceil(subjects / 4) }, (_, i) => residentId(REGIONS[i % REGIONS.length] as string, born + i * DAY, 500 + (i % 499)));

    async function* input(): AsyncGenerator<InputLine> {
      for (const [i, value] of lines.entries()) yield { line: i + 1, value, raw: JSON.stringify(value) };
    }
    const t0 = performance.now();
    const receipt = await importRecords(ctx, ACTOR, input());
    if (receipt.rejected.length > 0) throw new Error(`the fixture's records were refused: ${receipt.rejected.slice(0, 3).map((r) => `line ${r.line}: ${r.reason}`).join("; ")}`);
    log(`  fixture: ${receipt.accepted} records about ${subjects} subjects imported in ${((performance.now() - t0) / 1000).toFixed(1)} s (${db})`);
    // The debtor list is serious: its entries apply once a reviewer signs them off, as one would before the checks begin.
    for (;;) {
      const pending = await listSignOffs(ctx, { state: "pending", limit: 1000 });
      if (pending.length === 0) break;
      for (const s of pending) await decideSignOff(ctx, ACTOR, s.entry, { approve: true, reasons: "benchmark fixture" });
    }

    const measure = "restrict-air-travel";
    const { key } = await createKey(ctx, ACTOR, { role: "enforcer", measures: [measure], label: "benchmark airline" });
    return { dir, db, key, measure, debtors, others, unknown, records: receipt.accepted, remove: () => rmSync(dir, { recursive: true, force: true }) };
  } finally {
    await ctx.store.close();
  }
}

/**
 * A population sampled from an existing database (a generated city): up to `n` people on the list of dishonest judgment
 * debtors now, `n` people with records who are not, and `n` people nobody reported on, with a fresh enforcer key that
 * `remove` revokes. The database itself is left in place.
 */
export async function populationFrom(db: string, n: number, log: (m: string) => void): Promise<Population> {
  const store = openSqliteStore(db);
  const ctx = new AppContext(store, systemClock);
  try {
    const measure = "restrict-air-travel";
    const now = Date.now();
    const raw = store.db;
    const people = (rows: { subject: string }[]) => rows.map((r) => r.subject).filter((s) => { const p = parseSubjectId(s); return p.ok && p.subject.kind === "person"; }).slice(0, n);
    const debtors = people(raw.prepare("SELECT subject FROM list_members WHERE list = 'dishonest-judgment-debtors' AND since <= ? AND until > ? LIMIT ?").all(now, now, n * 2) as { subject: string }[]);
    const others = people(
      raw.prepare("SELECT s.subject FROM statuses s WHERE NOT EXISTS (SELECT 1 FROM list_members m WHERE m.subject = s.subject AND m.list = 'dishonest-judgment-debtors') LIMIT ?").all(n * 2) as { subject: string }[],
    );
    const unknown = people(raw.prepare("SELECT n.subject FROM subject_names n WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.subject = n.subject) LIMIT ?").all(n * 2) as { subject: string }[]);
    const records = (raw.prepare("SELECT count(*) AS n FROM records").get() as { n: number }).n;
    const { id, key } = await createKey(ctx, ACTOR, { role: "enforcer", measures: [measure], label: "benchmark airline" });
    log(`  database: ${db}, ${records} records; sampled ${debtors.length} debtors, ${others.length} other people with records, ${unknown.length} nobody reported on`);
    await store.close();
    return {
      dir: db,
      db,
      key,
      measure,
      debtors,
      others,
      unknown,
      records,
      remove() {
        // Synchronously, so the benchmark's key never outlives the run in someone's database.
        const again = new Database(db);
        try {
          again.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(Date.now(), id);
        } finally {
          again.close();
        }
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}
