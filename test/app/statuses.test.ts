// Checks of subjects nobody reported on: answered from the base status, which changes when a person comes of age.
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { fixedClock } from "../../src/app/clock.js";
import { AppContext } from "../../src/app/context.js";
import { activateRulebooks } from "../../src/app/rulebooks.js";
import { check } from "../../src/app/statuses.js";
import { residentIdCheckChar } from "../../src/core/subject-id.js";
import { openSqliteStore } from "../../src/storage/sqlite/sqlite-store.js";

const MEASURE = "rongcheng-priority-services";
// Rongcheng with a base above its AAA threshold: every adult nobody reported on has the AAA reward.
const RULEBOOKS = [
  { file: "rulebooks/national.yaml", text: readFileSync("rulebooks/national.yaml", "utf8") },
  { file: "drafts/rongcheng.yaml", text: readFileSync("rulebooks/rongcheng.yaml", "utf8").replace("  base: 1000\n", "  base: 1060\n") },
];
const person = (region: string, birth: string, sequence: string) => `${region}${birth}${sequence}${residentIdCheckChar(`${region}${birth}${sequence}`)}`;
// Both born on 1 December 2008, in Rongcheng: they come of age at midnight China Standard Time that day in 2026.
const FIRST = person("371082", "20081201", "012");
const SECOND = person("371082", "20081201", "034");
const COMING_OF_AGE = "2026-11-30T16:00:00.000Z";
const BEFORE = Date.parse("2026-11-23T10:00:00+08:00");
const AFTER = Date.parse("2027-01-05T10:00:00+08:00");

describe("checks of subjects nobody reported on", () => {
  const store = openSqliteStore(":memory:");
  afterAll(() => store.close());

  it("answer each instant with the base status then in force, whoever was asked about before", async () => {
    const before = new AppContext(store, fixedClock(BEFORE));
    const after = new AppContext(store, fixedClock(AFTER));
    await activateRulebooks(before, "test:operator", RULEBOOKS);

    const asked = async (ctx: AppContext, subject: string) => {
      const d = await check(ctx, "key:counter", subject, MEASURE);
      return [d.applies, d.reasons.map((r) => [r.code, r.since])];
    };
    const adult = [true, [["grade:AAA", COMING_OF_AGE]]];
    expect(await asked(before, FIRST)).toEqual([false, []]);
    expect(await asked(after, SECOND)).toEqual(adult);
    expect(await asked(after, FIRST)).toEqual(adult);
    expect(await asked(before, SECOND)).toEqual([false, []]);
    // Nor is a child's the same as an adult's asked about at the same instant.
    expect(await asked(after, person("371082", "19900307", "078"))).toEqual([true, [["grade:AAA", "2008-03-06T16:00:00.000Z"]]]);
    expect(await asked(after, person("371082", "20150307", "078"))).toEqual([false, []]);
    // Another jurisdiction's base status is its own: no AAA reward outside Rongcheng.
    expect(await asked(after, person("110105", "20081201", "056"))).toEqual([false, []]);
  });
});
