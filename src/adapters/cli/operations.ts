// CLI commands for running the system: the HTTP server, API keys, and the audit log's checkpoints and verification.
import { existsSync, readFileSync } from "node:fs";
import type { KeyObject } from "node:crypto";
import type { Command} from "commander";
import { Option } from "commander";
import { generateSigningKey, loadSigningKey, loadVerifyingKey, verifyAudit, writeCheckpoint } from "../../app/audit.js";
import type { AppContext } from "../../app/context.js";
import { UserError } from "../../app/errors.js";
import { createKey, listKeys, revokeKey } from "../../app/keys.js";
import type { Checkpoint } from "../../core/audit.js";
import { ROLES } from "../../core/roles.js";
import { formatInstant, parseInstant } from "../../core/time.js";
import { localFileBase, type StoreOptions } from "../../storage/open.js";
import { snapshot } from "../../app/publication.js";
import { buildServer, DEFAULTS } from "../http/server.js";
import { writeSnapshot } from "../reports/publication.js";
import { webhookSender } from "../webhook/sender.js";

/** What the operations commands need from the main program. */
export interface OperationsHost {
  program: Command;
  contextOf(cmd: Command, options?: StoreOptions): AppContext;
  dbOf(cmd: Command): string;
  jsonOf(cmd: Command): boolean;
  out(s: string): void;
  err(s: string): void;
  operator(): string;
  setExitCode(code: number): void;
  /** Resolves when the process is asked to stop (SIGINT, SIGTERM). */
  untilStopped(): Promise<void>;
}

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`${name}: must be a whole number, got ${v}`);
  return n;
};

/** The signing key: the given file, SOCIAL_CREDIT_AUDIT_KEY, or a file next to the database (under ./data for PostgreSQL). */
function keyPathOf(host: OperationsHost, cmd: Command, given?: string): string {
  return given ?? process.env.SOCIAL_CREDIT_AUDIT_KEY ?? `${localFileBase(host.dbOf(cmd))}.audit-key.pem`;
}

/** Checkpoints as JSON lines, one JSON document (a checkpoint, an array of them, or {"checkpoints": [...]}), whichever the text is. */
function parseCheckpointText(path: string, text: string): unknown[] {
  if (text === "") return [];
  try {
    const whole = JSON.parse(text) as unknown;
    if (Array.isArray(whole)) return whole;
    if (whole !== null && typeof whole === "object" && Array.isArray((whole as { checkpoints?: unknown }).checkpoints)) return (whole as { checkpoints: unknown[] }).checkpoints;
    return [whole];
  } catch {
    // Not one document: JSON lines.
  }
  return text.split(/\r?\n/).flatMap((line, i) => {
    if (line.trim() === "") return [];
    try {
      return [JSON.parse(line) as unknown];
    } catch (e) {
      throw new UserError(`${path}, line ${i + 1}: not valid JSON (${(e as Error).message})`);
    }
  });
}

/** Reads checkpoints kept elsewhere (JSON lines, as the server appends them or GET /v1/audit/checkpoints lists them). */
function readCheckpointFile(path: string): Checkpoint[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UserError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const items = parseCheckpointText(path, text.trim());
  return items.map((raw, i) => {
    const c = raw as { seq?: unknown; hash?: unknown; at?: unknown; signature?: unknown };
    const at = typeof c.at === "string" ? parseInstant(c.at) : c.at;
    if (typeof c.seq !== "number" || typeof c.hash !== "string" || typeof at !== "number" || typeof c.signature !== "string") {
      throw new UserError(`${path}: checkpoint ${i + 1} is not {seq, hash, at, signature}`);
    }
    return { seq: c.seq, hash: c.hash, at, signature: c.signature };
  });
}

interface ServeOptions {
  port: number;
  host: string;
  auditKey?: string;
  checkpointEvery: number;
  checkpointFile?: string;
  sweepEvery: number;
  rateLimit: number;
  anonymousRateLimit: number;
  bodyLimit: number;
  webhook?: string;
  webhookSecret?: string;
  deliverEvery: number;
  publishDir?: string;
  publishEvery: number;
  logLevel: string;
}

/** Writes today's publication snapshot into a folder. */
async function publishTo(ctx: AppContext, dir: string): Promise<void> {
  await writeSnapshot(dir, await snapshot(ctx));
}

export function addOperationsCommands(host: OperationsHost): void {
  const { program, out } = host;
  const json = (v: unknown) => out(JSON.stringify(v, null, 2) + "\n");

  program
    .command("serve")
    .description("serve the HTTP API (OpenAPI at /openapi.json, docs at /docs) until stopped")
    .option("--port <port>", "port to listen on", positiveInt("--port"), 8080)
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--audit-key <file>", "Ed25519 private key (PKCS#8 PEM) that signs audit checkpoints (default: SOCIAL_CREDIT_AUDIT_KEY, or DB.audit-key.pem, created if missing)")
    .option("--checkpoint-every <seconds>", "sign a checkpoint of the audit log this often", positiveInt("--checkpoint-every"), 60)
    .option("--checkpoint-file <file>", "also append every checkpoint to this file (keep it on other storage)")
    .option("--sweep-every <seconds>", "re-evaluate statuses whose time has come this often (0: never)", positiveInt("--sweep-every"), 60)
    .option("--rate-limit <n>", "requests per minute per API key", positiveInt("--rate-limit"), DEFAULTS.rateLimit.perKey)
    .option("--anonymous-rate-limit <n>", "requests per minute per address without a key", positiveInt("--anonymous-rate-limit"), DEFAULTS.rateLimit.anonymous)
    .option("--body-limit <bytes>", "largest request body", positiveInt("--body-limit"), DEFAULTS.bodyLimit)
    .option("--webhook <url>", "deliver every notice to this URL (POST, JSON), at least once, retrying with backoff (default: SOCIAL_CREDIT_WEBHOOK)")
    .option("--webhook-secret <secret>", "HMAC-SHA256 key for the X-Social-Credit-Signature header (default: SOCIAL_CREDIT_WEBHOOK_SECRET)")
    .option("--deliver-every <seconds>", "look at the notice outbox this often", positiveInt("--deliver-every"), 2)
    .option("--publish-dir <dir>", "write a dated snapshot of the public lists here on a schedule")
    .option("--publish-every <seconds>", "how often to write the snapshot", positiveInt("--publish-every"), 86_400)
    .addOption(new Option("--log-level <level>", "log level").choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"))
    .action(async (o: ServeOptions, cmd: Command) => {
      const ctx = host.contextOf(cmd, { backgroundCheckpoints: true });
      const webhook = o.webhook ?? process.env.SOCIAL_CREDIT_WEBHOOK;
      const secret = o.webhookSecret ?? process.env.SOCIAL_CREDIT_WEBHOOK_SECRET;
      const keyPath = keyPathOf(host, cmd, o.auditKey);
      if (!existsSync(keyPath)) {
        generateSigningKey(keyPath);
        host.err(`created audit signing key ${keyPath}; keep a copy of it (or its public key) away from this machine\n`);
      }
      const app = await buildServer(ctx, {
        logger: { level: o.logLevel },
        bodyLimit: o.bodyLimit,
        rateLimit: { perKey: o.rateLimit, anonymous: o.anonymousRateLimit },
        background: {
          sweepEveryMs: o.sweepEvery * 1000,
          ...(webhook ? { notices: { send: webhookSender({ url: webhook, ...(secret ? { secret } : {}) }), everyMs: o.deliverEvery * 1000 } } : {}),
          ...(o.publishDir ? { scheduled: [{ name: "publish", everyMs: o.publishEvery * 1000, run: () => publishTo(ctx, o.publishDir as string) }] } : {}),
          checkpoint: { key: loadSigningKey(keyPath), everyMs: o.checkpointEvery * 1000, ...(o.checkpointFile ? { file: o.checkpointFile } : {}) },
        },
      });
      await app.listen({ port: o.port, host: o.host });
      if (!(await ctx.activeRuleset())) app.log.warn("no rulebook is active: checks and submissions are refused until one is (`social-credit rulebook activate`)");
      await host.untilStopped();
      await app.close();
    });

  const keys = program.command("keys").description("create, list and revoke API keys");
  keys
    .command("create")
    .description("create an API key; the key is printed once and only its hash is kept")
    .addOption(new Option("--role <role>", "what the key may do").choices([...ROLES]).makeOptionMandatory())
    .option("--source <source>", "agency: the source it reports for")
    .option("--measures <m,...>", "enforcer: the measures it may check", (v: string) => v.split(",").map((m) => m.trim()).filter(Boolean))
    .option("--subject <id>", "subject: the citizen's own ID")
    .option("--label <text>", "who holds it (shown to subjects in their access log)")
    .action(async (o: { role: string; source?: string; measures?: string[]; subject?: string; label?: string }, cmd: Command) => {
      const { id, key, record } = await createKey(host.contextOf(cmd), host.operator(), o);
      if (host.jsonOf(cmd)) json({ id, key });
      else out(`created ${record.role} key ${id}${record.label ? ` (${record.label})` : ""}\n${key}\nthis is the only time the key is shown: give it to its holder now\n`);
    });
  keys
    .command("list")
    .description("every key with its role, scope and state (never the key itself)")
    .action(async (_o: unknown, cmd: Command) => {
      const all = await listKeys(host.contextOf(cmd));
      if (host.jsonOf(cmd)) return json(all);
      if (all.length === 0) return out("no keys\n");
      for (const k of all) {
        const scope = k.source ?? k.measures?.join(",") ?? k.subject ?? "";
        out(`${k.id}  ${k.role.padEnd(8)} ${scope.padEnd(30)} ${k.revokedAt === null ? "active " : `revoked ${formatInstant(k.revokedAt)}`}  ${k.label ?? ""}\n`);
      }
    });
  keys
    .command("revoke")
    .description("revoke a key: its next request is refused")
    .argument("<id>", "the key's id (from `keys list`)")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      await revokeKey(host.contextOf(cmd), host.operator(), id);
      if (host.jsonOf(cmd)) json({ revoked: id });
      else out(`revoked ${id}\n`);
    });

  const audit = program.command("audit").description("the hash-chained audit log: verify it, sign checkpoints");
  audit
    .command("verify")
    .description("re-hash the whole log and check every signed checkpoint; exits 1 naming the first bad entry")
    .option("--key <file>", "public key (SPKI PEM) or the private signing key (default: SOCIAL_CREDIT_AUDIT_KEY, or DB.audit-key.pem if present)")
    .option("--checkpoints <file>", "checkpoints kept elsewhere (JSON lines, or the JSON of GET /v1/audit/checkpoints)")
    .action(async (o: { key?: string; checkpoints?: string }, cmd: Command) => {
      const path = keyPathOf(host, cmd, o.key);
      let key: KeyObject | undefined;
      if (o.key || existsSync(path)) key = loadVerifyingKey(path);
      const report = await verifyAudit(host.contextOf(cmd), { ...(key ? { key } : {}), ...(o.checkpoints ? { extraCheckpoints: readCheckpointFile(o.checkpoints) } : {}) });
      if (host.jsonOf(cmd)) json(report);
      else {
        if (report.ok) out(`audit log intact: ${report.entries} entries, ${report.checkpoints} signed checkpoint${report.checkpoints === 1 ? "" : "s"}\n`);
        else out(`AUDIT LOG BROKEN at entry ${report.problem?.seq}: ${report.problem?.reason}\n(verified ${report.entries} entries before it)\n`);
        for (const w of report.warnings) out(`warning: ${w}\n`);
      }
      if (!report.ok) host.setExitCode(1);
    });
  audit
    .command("checkpoint")
    .description("sign a checkpoint of the log's head now")
    .option("--key <file>", "the Ed25519 private signing key (default: SOCIAL_CREDIT_AUDIT_KEY, or DB.audit-key.pem)")
    .action(async (o: { key?: string }, cmd: Command) => {
      const c = await writeCheckpoint(host.contextOf(cmd), loadSigningKey(keyPathOf(host, cmd, o.key)));
      if (host.jsonOf(cmd)) json(c ?? null);
      else out(c ? `signed checkpoint at entry ${c.seq} (${c.hash})\n` : "nothing to sign: the last checkpoint covers the whole log\n");
    });
  audit
    .command("keygen")
    .description("create an Ed25519 signing key for checkpoints; prints its public key")
    .requiredOption("--out <file>", "where to write the private key (mode 600)")
    .action(async (o: { out: string }) => {
      out(generateSigningKey(o.out));
    });
}
