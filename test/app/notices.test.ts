// The notice outbox as an operator relies on it: every notice delivered at least once, in order, with backoff, and nothing lost across a restart.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AppContext } from "../../src/app/context.js";
import { importRecords } from "../../src/app/ingest.js";
import { backoffMs, deliverDue } from "../../src/app/notices.js";
import { activateRulebooks } from "../../src/app/rulebooks.js";
import type { Notice } from "../../src/core/notices.js";
import { openStore } from "../../src/storage/open.js";
import { testBackends } from "../storage/backends.js";

const NOW = Date.parse("2026-11-23T10:00:00+08:00");
const SHIPPED = ["national", "beijing", "jiangsu", "hangzhou", "rongcheng"].map((n) => ({ file: `rulebooks/${n}.yaml`, text: readFileSync(`rulebooks/${n}.yaml`, "utf8") }));

async function* examples() {
  for (const [i, raw] of readFileSync("examples/records.ndjson", "utf8").split("\n").entries()) {
    if (raw.trim()) yield { line: i + 1, value: JSON.parse(raw) as unknown, raw };
  }
}

const BACKENDS = await testBackends();

describe("the notice outbox", () => {
  it("backs off from a second, doubling, to at most an hour", () => {
    expect([1, 2, 3, 4].map(backoffMs)).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffMs(40)).toBe(3_600_000);
  });

  it.each(BACKENDS)("keeps undelivered notices across a restart and delivers each once the receiver answers, in order ($name)", async (backend) => {
    const path = await backend.location();
    let now = NOW;
    const clock = { now: () => now };
    const first = new AppContext(openStore(path), clock);
    await activateRulebooks(first, "test", SHIPPED);
    await importRecords(first, "test", examples());
    const made = (await first.store.notices({ limit: 1000 })).length;
    expect(made).toBeGreaterThan(0);

    // The receiver is down: the first notice fails, and the rest wait behind it rather than overtaking it.
    const refused = await deliverDue(first, () => Promise.reject(new Error("connection refused")));
    expect(refused).toEqual({ delivered: 0, failed: 1 });
    expect(await deliverDue(first, () => Promise.resolve())).toEqual({ delivered: 0, failed: 0 });
    await first.store.close();

    // A restart: a new process, the same file.
    const second = new AppContext(openStore(path), clock);
    expect(await second.store.outboxBacklog()).toBe(made);
    now += backoffMs(1);
    const got: Notice[] = [];
    const r = await deliverDue(second, async (n) => void got.push(n), 1000);
    expect(r).toEqual({ delivered: made, failed: 0 });
    expect(got.map((n) => n.seq)).toEqual([...got.map((n) => n.seq)].sort((a, b) => a - b));
    expect(new Set(got.map((n) => n.seq)).size).toBe(made);
    expect(await second.store.outboxBacklog()).toBe(0);
    expect(await deliverDue(second, async (n) => void got.push(n))).toEqual({ delivered: 0, failed: 0 });
    await second.store.close();
  });
});
