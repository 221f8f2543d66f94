// The installed command itself, as `npx social-credit` runs it: a real process on the built code.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("bin/social-credit.js", () => {
  it("runs the built CLI in its own process with exit codes", async () => {
    expect(existsSync("dist/adapters/cli/main.js"), "run `npm run build` first (npm test does)").toBe(true);
    const help = await run("node", ["bin/social-credit.js", "--help"]);
    expect(help.stdout).toMatch(/Usage: social-credit/);
    expect(help.stdout).toMatch(/import \[options\] <file>/);
    const lint = await run("node", ["bin/social-credit.js", "--db", "/nonexistent/db.sqlite", "rulebook", "lint", "rulebooks/national.yaml"]);
    expect(lint.stdout).toBe("1 file: no problems\n");
    await expect(run("node", ["bin/social-credit.js", "no-such-command"])).rejects.toMatchObject({ code: 2 });
  });
});
