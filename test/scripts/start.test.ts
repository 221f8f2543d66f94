// `npm start` as a new user runs it: the first run makes the demo city and serves it; the second serves the same city.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const running: ChildProcess[] = [];
afterEach(() => {
  for (const p of running.splice(0)) p.kill("SIGTERM");
});

/** Runs scripts/start.sh until it prints the curl example, and returns what it printed. */
function start(db: string, port: number): Promise<string> {
  const child = spawn("bash", ["scripts/start.sh"], { env: { ...process.env, SOCIAL_CREDIT_DB: db, PORT: String(port) }, stdio: ["ignore", "pipe", "pipe"] });
  running.push(child);
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`start.sh did not come up:\n${out}`)), 90_000);
    const seen = (chunk: Buffer) => {
      out += chunk.toString();
      if (/Server listening/.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    };
    child.stdout.on("data", seen);
    child.stderr.on("data", seen);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`start.sh exited with ${code}:\n${out}`));
    });
  });
}

describe("npm start", () => {
  it("generates the demo city once, writes a key per role, and serves checks that apply to the person it names", async () => {
    expect(existsSync("dist/adapters/cli/main.js"), "run `npm run build` first (npm test does)").toBe(true);
    const db = join(mkdtempSync(join(tmpdir(), "social-credit-start-")), "demo.sqlite");
    const port = 20000 + Math.floor(Math.random() * 20000);
    const first = await start(db, port);
    expect(first).toMatch(/First run: generating the demo city/);
    const keys = JSON.parse(readFileSync(db.replace(/\.sqlite$/, "-keys.json"), "utf8")) as Record<string, string>;
    expect(Object.keys(keys).sort()).toEqual(["admin", "agency", "auditor", "enforcer", "reviewer"]);
    const listed = /\/v1\/checks\/(\w{18})\/restrict-air-travel/.exec(first)?.[1];
    expect(listed, "the example names a listed person").toBeDefined();
    const check = await fetch(`http://127.0.0.1:${port}/v1/checks/${listed}/restrict-air-travel`, { headers: { authorization: `Bearer ${keys.enforcer}` } });
    expect(check.status).toBe(200);
    expect(await check.json()).toMatchObject({ subject: listed, applies: true, reasons: [{ code: "list:dishonest-judgment-debtors" }] });

    (running.pop() as ChildProcess).kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    const second = await start(db, port + 1);
    expect(second).not.toMatch(/First run/);
    const ready = await fetch(`http://127.0.0.1:${port + 1}/readyz`);
    expect(ready.status).toBe(200);
  }, 180_000);
});
