// Generating a city into the store: every record imported and scored, names stored, reproducible to the byte, streamed.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { fixedClock } from "../../src/app/clock.js";
import { AppContext } from "../../src/app/context.js";
import { generatePopulation, type GenerateOptions } from "../../src/app/generate.js";
import { activateRulebooks } from "../../src/app/rulebooks.js";
import { parsePlaces, type Place } from "../../src/core/synth/places.js";
import { openSqliteStore } from "../../src/storage/sqlite/sqlite-store.js";
import type { Store } from "../../src/storage/store.js";
import { testBackends } from "../storage/backends.js";

const AT = Date.parse("2026-11-23T12:00:00+08:00");
const SHIPPED = ["national", "beijing", "jiangsu", "hangzhou", "rongcheng"].map((n) => ({ file: `rulebooks/${n}.yaml`, text: readFileSync(`rulebooks/${n}.yaml`, "utf8") }));
const ACTOR = "test:generate";
const beijing = parsePlaces("beijing") as Place[];
const BACKENDS = await testBackends();

async function context(path = ":memory:", activate = true, store: Store = openSqliteStore(path)): Promise<AppContext> {
  const ctx = new AppContext(store, fixedClock(AT));
  if (activate) await activateRulebooks(ctx, ACTOR, SHIPPED);
  return ctx;
}

const options = (o: Partial<GenerateOptions> = {}): GenerateOptions => ({ people: 3000, enterprises: 300, years: 10, seed: 1, places: beijing, ...o });

/**
 * Every table of a database file as text, in a fixed order; the instants migrations were applied at are left out, and
 * of the audit log only what the generation wrote, without the chain's hashes (the rulebook activation before it has
 * a random decision id, so the chain differs from its first entry).
 */
function dump(path: string, decisionId: string): Record<string, string> {
  const db = new Database(path, { readonly: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
    return Object.fromEntries(
      tables.map((t) => {
        const rows =
          t === "audit_log"
            ? (db.prepare("SELECT seq, at, actor, action, subject, decision_id, detail FROM audit_log WHERE decision_id = ?").all(decisionId) as Record<string, unknown>[])
            : (db.prepare(`SELECT * FROM "${t}"`).all() as Record<string, unknown>[]);
        const text = rows
          .map((r) => {
            if (t === "schema_migrations") delete r.applied_at;
            return JSON.stringify(r);
          })
          .sort()
          .join("\n");
        return [t, text];
      }),
    );
  } finally {
    db.close();
  }
}

async function generateInto(path: string, o: Partial<GenerateOptions>) {
  const ctx = await context(path);
  try {
    return await generatePopulation(ctx, ACTOR, options(o));
  } finally {
    await ctx.store.close();
  }
}

describe("generatePopulation", () => {
  it("refuses without an active rulebook, saying how to activate one", async () => {
    const ctx = await context(":memory:", false);
    await expect(generatePopulation(ctx, ACTOR, options())).rejects.toThrow(/no rulebook is active.*social-credit rulebook activate rulebooks\/\*\.yaml/);
  });

  it("refuses impossible sizes", async () => {
    const ctx = await context();
    await expect(generatePopulation(ctx, ACTOR, options({ years: 0 }))).rejects.toThrow(/years: must be a whole number from 1 to 50/);
    await expect(generatePopulation(ctx, ACTOR, options({ people: 1.5 }))).rejects.toThrow(/people: must be a whole number/);
  });

  it.each(BACKENDS)("imports every record it generates, stores every name, and counts what it made ($name)", async (backend) => {
    const ctx = await context(undefined, true, await backend.open());
    const progress: number[] = [];
    const s = await generatePopulation(ctx, ACTOR, options({ onProgress: (done) => progress.push(done) }));
    const generated = Object.values(s.records).reduce((a, b) => a + b, 0);
    expect(s.receipt.rejected).toEqual([]);
    expect(s.receipt.accepted).toBe(generated);
    expect(generated).toBeGreaterThan(50);
    const counts = await ctx.store.counts();
    expect(counts.records).toBe(generated);
    expect(counts.subjects).toBe(s.subjectsWithRecords);
    expect(s.people).toBe(3000);
    expect(s.minors).toBeGreaterThan(300);
    expect(s.minors).toBeLessThan(550);
    expect(progress.at(-1)).toBe(3300);
    // The lists the summary counts are those the store holds.
    const stored = await ctx.store.listSizes(AT);
    for (const [list, n] of stored) expect((s.lists.people[list] ?? 0) + (s.lists.enterprises[list] ?? 0), list).toBe(n);
    expect(s.measures["restrict-air-travel"]).toBe(s.lists.people["dishonest-judgment-debtors"]);
    // Names: the registry's, for people and enterprises alike.
    const audit = await ctx.store.auditEntries({ action: "population.generated", limit: 10 });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: ACTOR, at: AT, decisionId: s.decisionId, detail: { seed: 1, people: 3000, enterprises: 300, names: 3300 } });
    const records = await ctx.store.auditEntries({ action: "record.accepted", limit: 1 });
    expect(records[0]).toMatchObject({ at: AT, decisionId: s.decisionId });
  });

  it("stores names for every subject, Chinese names for people and registered names for enterprises", async () => {
    const ctx = await context();
    const s = await generatePopulation(ctx, ACTOR, options({ people: 200, enterprises: 20, nameBatch: 30 }));
    expect(s.receipt.rejected).toEqual([]);
    const db = (ctx.store as unknown as { db: Database.Database }).db;
    const rows = db.prepare("SELECT subject, name FROM subject_names").all() as { subject: string; name: string }[];
    expect(rows).toHaveLength(220);
    const people = rows.filter((r) => /^\d{17}[\dX]$/.test(r.subject));
    expect(people).toHaveLength(200);
    expect(people.every((r) => /^\p{Script=Han}{2,4}$/u.test(r.name))).toBe(true);
    expect(rows.filter((r) => !/^\d{17}[\dX]$/.test(r.subject)).every((r) => r.name.startsWith("北京"))).toBe(true);
  });

  it("streams: names go to the store in batches while subjects are still being generated", async () => {
    const ctx = await context();
    const batches: number[] = [];
    const progressAtBatch: number[] = [];
    let done = 0;
    const putNames = ctx.store.putNames.bind(ctx.store);
    ctx.store.putNames = async (names) => {
      batches.push(names.length);
      progressAtBatch.push(done);
      return putNames(names);
    };
    await generatePopulation(ctx, ACTOR, options({ people: 2000, enterprises: 0, nameBatch: 250, onProgress: (d) => (done = d) }));
    expect(batches).toEqual(Array(8).fill(250));
    // The first batch was written when a quarter of the city had been generated, not at the end.
    expect(progressAtBatch[0]).toBeLessThan(1000);
  });

  it("gives byte-identical records, statuses, names and audit log for the same seed, and others for another", async () => {
    const dir = mkdtempSync(join(tmpdir(), "social-credit-generate-"));
    const o = { people: 1500, enterprises: 150, places: parsePlaces("beijing=1,hangzhou=1,rongcheng=1") as Place[] };
    const a = await generateInto(join(dir, "a.sqlite"), o);
    const b = await generateInto(join(dir, "b.sqlite"), o);
    const c = await generateInto(join(dir, "c.sqlite"), { ...o, seed: 2 });
    const { timings: _a, ...summaryA } = a;
    const { timings: _b, ...summaryB } = b;
    expect(summaryB).toEqual(summaryA);
    const [da, db, dc] = [dump(join(dir, "a.sqlite"), a.decisionId), dump(join(dir, "b.sqlite"), b.decisionId), dump(join(dir, "c.sqlite"), c.decisionId)];
    for (const table of ["records", "statuses", "subject_names", "audit_log"]) {
      expect(da[table], table).toBeDefined();
      expect(da[table]?.length, table).toBeGreaterThan(0);
      expect(db[table] === da[table], table).toBe(true);
      expect(dc[table] === da[table], table).toBe(false);
    }
    // Everything else too, but the audit log's chain: it starts from the activation, whose decision id is random.
    const { audit_log: _x, ...restA } = da;
    const { audit_log: _y, ...restB } = db;
    expect(restB).toEqual(restA);
  });

  it("lists people per capita in the calibrated range, and adds Rongcheng's grades", async () => {
    const ctx = await context();
    const s = await generatePopulation(ctx, ACTOR, options({ people: 20_000, enterprises: 2000, places: parsePlaces("beijing=3,rongcheng=1") as Place[] }));
    const listed = (s.lists.people["dishonest-judgment-debtors"] ?? 0) / s.people;
    expect(listed).toBeGreaterThan(0.005);
    expect(listed).toBeLessThan(0.011);
    const firms = (s.lists.enterprises["dishonest-judgment-debtors"] ?? 0) / s.enterprises;
    expect(firms).toBeGreaterThan(0.01);
    expect(firms).toBeLessThan(0.04);
    // About a quarter of the people live in Rongcheng; its adults have grades, mostly A (the base score).
    const graded = Object.values(s.grades).reduce((x, y) => x + y, 0);
    expect(graded).toBeGreaterThan(3500);
    expect(graded).toBeLessThan(5000);
    expect((s.grades.A ?? 0) / graded).toBeGreaterThan(0.9);
    expect(s.records["traffic.drunk-driving"]).toBeGreaterThan(0);
    expect(s.records["civic.volunteering"]).toBeGreaterThan(1000);
  });
});
