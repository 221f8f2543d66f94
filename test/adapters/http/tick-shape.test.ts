// The server keeps Node's nextTick entries cheap to create after an idle full garbage collection.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const MODULE = new URL("../../../dist/adapters/http/tick-shape.js", import.meta.url);

// Run in a process of its own with V8's natives syntax, which prints the state of nextTick's inline caches. The entries
// are made and drained, several full collections run with none alive (as the memory reducer's do on an idle server),
// and entries are made again.
const SCRIPT = `
const { keepTickShape } = await import(${JSON.stringify(MODULE.href)});
if (process.argv[1] === "keep") keepTickShape();
const turn = () => new Promise((resolve) => setImmediate(resolve));
for (let r = 0; r < 3; r++) { for (let i = 0; i < 20000; i++) process.nextTick(() => {}); await turn(); }
for (let k = 0; k < 5; k++) { await turn(); globalThis.gc(); await new Promise((resolve) => setTimeout(resolve, 20)); }
for (let i = 0; i < 1000; i++) process.nextTick(() => {});
await turn();
%DebugPrint(process.nextTick);
`;

/** The states of the inline caches that define an entry's properties, after an idle collection. */
async function literalCaches(mode: "keep" | "none"): Promise<string[]> {
  const { stdout } = await run(process.execPath, ["--allow-natives-syntax", "--expose-gc", "--input-type=module", "-e", SCRIPT, mode], { maxBuffer: 16 * 1024 * 1024 });
  return [...stdout.matchAll(/DefineKeyedOwnPropertyInLiteral (\w+)/g)].map((m) => m[1] as string);
}

describe("keepTickShape", () => {
  it("keeps nextTick's literal caches monomorphic through idle full collections, which without it turn them megamorphic", async () => {
    expect(existsSync(MODULE), "run `npm run build` first (npm test does)").toBe(true);
    const [without, kept] = await Promise.all([literalCaches("none"), literalCaches("keep")]);
    // Without the held entry V8 forgets the intermediate shapes and the caches give up: the cost the module avoids. If a
    // newer Node no longer does this, this line fails and the module can go.
    expect(without).toContain("MEGAMORPHIC");
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.every((state) => state === "MONOMORPHIC")).toBe(true);
  });
});
