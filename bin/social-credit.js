#!/usr/bin/env node
// Entry point of the `social-credit` command: runs the compiled CLI (built by `npm run build`, which `npm ci` runs).
import { runCli } from "../dist/adapters/cli/main.js";

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
