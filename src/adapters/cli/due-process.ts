// Due process on the command line: reviewers' queues and decisions, objections and restoration at a credit office, notices, the subject's file, publication.
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { deliverDue, readNotices } from "../../app/notices.js";
import { decideObjection, fileObjection, listObjections, type ObjectionView } from "../../app/objections.js";
import { snapshot } from "../../app/publication.js";
import { decideRestoration, listRestorations, requestRestoration } from "../../app/restorations.js";
import { decideSignOff, listSignOffs } from "../../app/sign-offs.js";
import { requireSubject } from "../../app/statuses.js";
import { downloadFile } from "../../app/subject-file.js";
import { UserError } from "../../app/errors.js";
import type { Restoration, SignOff } from "../../core/due-process.js";
import type { Notice } from "../../core/notices.js";
import { formatInstant } from "../../core/time.js";
import { writeSnapshot } from "../reports/publication.js";
import { webhookSender } from "../webhook/sender.js";
import type { OperationsHost } from "./operations.js";

const day = (t: number | null) => (t === null ? "-" : formatInstant(t).slice(0, 10));
const limitOf = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new UserError(`--limit: a whole number from 1 to 100000, got ${v}`);
  return n;
};

function signOffLine(s: SignOff): string {
  return `${s.entry}  ${s.state.padEnd(8)} ${s.subject}  ${s.list} (${s.tier ?? "no tier"})  record ${s.record}  asked ${day(s.requestedAt)}${s.decidedAt ? `  decided ${day(s.decidedAt)} by ${s.decidedBy}` : ""}`;
}

function objectionLine(o: ObjectionView): string {
  return `${o.id}  ${o.state.padEnd(9)}${o.overdue ? " OVERDUE" : ""} ${o.subject}  record ${o.record}  filed ${day(o.filedAt)}  due ${day(o.dueAt)}${o.reasons ? `\n    reasons: ${o.reasons}` : ""}\n    statement: ${o.statement}`;
}

function restorationLine(r: Restoration): string {
  return `${r.id}  ${r.state.padEnd(8)} ${r.subject}  ${r.list}  asked ${day(r.requestedAt)}${r.decidedAt ? `  decided ${day(r.decidedAt)}` : ""}${r.reasons ? `\n    reasons: ${r.reasons}` : ""}`;
}

function noticeLines(n: Notice): string {
  const lines = [`#${n.seq} ${formatInstant(n.at).slice(0, 16)} ${n.kind}: ${n.summary}`, `    why: ${n.reason}`];
  if (n.records.length > 0) lines.push(`    records: ${n.records.join(", ")}`);
  if (n.legalBasis.length > 0) lines.push(`    legal basis: ${n.legalBasis.join("; ")}`);
  if (n.deadline) lines.push(`    deadline: ${n.deadline.slice(0, 10)}`);
  return lines.join("\n");
}

/** Adds sign-offs, objections, restorations, notices, file, publish and deliver. */
export function addDueProcessCommands(host: OperationsHost): void {
  const { program, out } = host;
  const json = (v: unknown) => out(JSON.stringify(v, null, 2) + "\n");
  const print = <T>(cmd: Command, items: readonly T[], line: (t: T) => string, empty: string) => {
    if (host.jsonOf(cmd)) json(items);
    else out(items.length === 0 ? `${empty}\n` : items.map(line).join("\n") + "\n");
  };

  const signOffs = program.command("sign-offs").description("list entries that wait for a reviewer's approval, and decide them");
  signOffs
    .command("list")
    .description("the sign-off queue (pending by default)")
    .option("--state <state>", "pending, approved, rejected or lapsed", "pending")
    .option("--subject <id>", "only this subject's")
    .option("--limit <n>", "at most this many", limitOf, 100)
    .action(async (o: { state: SignOff["state"]; subject?: string; limit: number }, cmd: Command) => {
      const items = await listSignOffs(host.contextOf(cmd), { state: o.state, ...(o.subject ? { subject: requireSubject(o.subject).id } : {}), limit: o.limit });
      print(cmd, items, signOffLine, `no ${o.state} sign-offs`);
    });
  for (const [name, approve] of [["approve", true], ["reject", false]] as const) {
    signOffs
      .command(`${name} <entry>`)
      .description(approve ? "approve a list entry: it applies from now" : "reject a list entry: it never applies (reasons required)")
      .option("--reasons <text>", approve ? "why (optional)" : "why (required)")
      .action(async (entry: string, o: { reasons?: string }, cmd: Command) => {
        const r = await decideSignOff(host.contextOf(cmd), host.operator(), entry, { approve, ...(o.reasons !== undefined ? { reasons: o.reasons } : {}) });
        if (host.jsonOf(cmd)) json(r);
        else out(`${signOffLine(r.signOff)}\ndecision ${r.decisionId}\n`);
      });
  }

  const objections = program.command("objections").description("file objections to records, and decide them");
  objections
    .command("file <subject> <record>")
    .description("file a subject's objection to one of their records (at a credit office)")
    .requiredOption("--statement <text>", "what is wrong with the record")
    .option("--evidence <ref>", "a reference to the evidence given")
    .action(async (subject: string, record: string, o: { statement: string; evidence?: string }, cmd: Command) => {
      const r = await fileObjection(host.contextOf(cmd), host.operator(), subject, { record, statement: o.statement, ...(o.evidence ? { evidenceRef: o.evidence } : {}) });
      if (host.jsonOf(cmd)) json(r);
      else out(`${objectionLine(r.objection)}\ndecision ${r.decisionId}\n`);
    });
  objections
    .command("list")
    .description("objections, open ones by default; overdue ones are flagged")
    .option("--state <state>", "open, upheld or dismissed", "open")
    .option("--overdue", "only open objections past their deadline")
    .option("--subject <id>", "only this subject's")
    .option("--limit <n>", "at most this many", limitOf, 100)
    .action(async (o: { state: ObjectionView["state"]; overdue?: boolean; subject?: string; limit: number }, cmd: Command) => {
      const ctx = host.contextOf(cmd);
      const items = await listObjections(ctx, { state: o.state, ...(o.overdue ? { overdueAt: ctx.clock.now() } : {}), ...(o.subject ? { subject: requireSubject(o.subject).id } : {}), limit: o.limit });
      print(cmd, items, objectionLine, `no ${o.overdue ? "overdue" : o.state} objections`);
    });
  objections
    .command("uphold <id>")
    .description("uphold an objection: the record is retracted, or corrected with --attributes")
    .requiredOption("--reasons <text>", "why")
    .option("--attributes <json>", "corrected attributes (a JSON object merged into the record's) instead of retracting it")
    .option("--occurred-at <instant>", "corrected instant of the record")
    .action(async (id: string, o: { reasons: string; attributes?: string; occurredAt?: string }, cmd: Command) => {
      let attributes: Record<string, unknown> | undefined;
      if (o.attributes !== undefined) {
        try {
          attributes = JSON.parse(o.attributes) as Record<string, unknown>;
        } catch (e) {
          throw new UserError(`--attributes: not JSON: ${(e as Error).message}`);
        }
      }
      const correction = attributes || o.occurredAt ? { ...(attributes ? { attributes } : {}), ...(o.occurredAt ? { occurredAt: o.occurredAt } : {}) } : undefined;
      const r = await decideObjection(host.contextOf(cmd), host.operator(), id, { decision: "uphold", reasons: o.reasons, ...(correction ? { correction } : {}) });
      if (host.jsonOf(cmd)) json(r);
      else out(`${objectionLine(r.objection)}\ndecision ${r.decisionId}\n`);
    });
  objections
    .command("dismiss <id>")
    .description("dismiss an objection: the record stands")
    .requiredOption("--reasons <text>", "why")
    .action(async (id: string, o: { reasons: string }, cmd: Command) => {
      const r = await decideObjection(host.contextOf(cmd), host.operator(), id, { decision: "dismiss", reasons: o.reasons });
      if (host.jsonOf(cmd)) json(r);
      else out(`${objectionLine(r.objection)}\ndecision ${r.decisionId}\n`);
    });

  const restorations = program.command("restorations").description("credit restoration: requests to leave a list early, and their decisions");
  restorations
    .command("request <subject> <list>")
    .description("ask, for a subject, to leave a list early; refused with the date it becomes possible when too early")
    .option("--commitment <text>", "the subject's signed credit commitment")
    .option("--statement <text>", "anything the subject adds")
    .action(async (subject: string, list: string, o: { commitment?: string; statement?: string }, cmd: Command) => {
      const r = await requestRestoration(host.contextOf(cmd), host.operator(), subject, { list, ...(o.commitment ? { commitment: o.commitment } : {}), ...(o.statement ? { statement: o.statement } : {}) });
      if (host.jsonOf(cmd)) json(r);
      else out(`${restorationLine(r.restoration)}\ndecision ${r.decisionId}\n`);
    });
  restorations
    .command("list")
    .description("restoration requests, pending ones by default")
    .option("--state <state>", "pending, granted or denied", "pending")
    .option("--subject <id>", "only this subject's")
    .option("--limit <n>", "at most this many", limitOf, 100)
    .action(async (o: { state: Restoration["state"]; subject?: string; limit: number }, cmd: Command) => {
      const items = await listRestorations(host.contextOf(cmd), { state: o.state, ...(o.subject ? { subject: requireSubject(o.subject).id } : {}), limit: o.limit });
      print(cmd, items, restorationLine, `no ${o.state} restoration requests`);
    });
  for (const [name, grant] of [["grant", true], ["deny", false]] as const) {
    restorations
      .command(`${name} <id>`)
      .description(grant ? "grant: the subject leaves the list now, with every measure it triggered" : "deny (reasons required)")
      .option("--reasons <text>", grant ? "why (optional)" : "why (required)")
      .action(async (id: string, o: { reasons?: string }, cmd: Command) => {
        const r = await decideRestoration(host.contextOf(cmd), host.operator(), id, { grant, ...(o.reasons !== undefined ? { reasons: o.reasons } : {}) });
        if (host.jsonOf(cmd)) json(r);
        else out(`${restorationLine(r.restoration)}\ndecision ${r.decisionId}\n`);
      });
  }

  program
    .command("notices <subject>")
    .description("the notices sent to a subject, oldest first")
    .option("--limit <n>", "at most this many", limitOf, 1000)
    .action(async (subject: string, o: { limit: number }, cmd: Command) => {
      const { notices } = await readNotices(host.contextOf(cmd), host.operator(), subject, { limit: o.limit });
      print(cmd, notices, noticeLines, "no notices");
    });

  program
    .command("file <subject>")
    .description("a subject's whole file as JSON: records with history, status and explanation, notices, reviews, who read it")
    .option("--out <file>", "write it to this file instead of the standard output")
    .action(async (subject: string, o: { out?: string }, cmd: Command) => {
      const { file, decisionId } = await downloadFile(host.contextOf(cmd), host.operator(), subject);
      const text = JSON.stringify({ decisionId, ...file }, null, 2) + "\n";
      if (o.out) {
        await writeFile(o.out, text);
        host.err(`wrote the file of ${file.subject} to ${o.out}\n`);
      } else out(text);
    });

  program
    .command("publish")
    .description("write today's snapshot of every public list (CSV, JSON, HTML; person IDs masked) with statistics, into OUT/DATE/")
    .requiredOption("--out <dir>", "the folder that holds the dated snapshots")
    .action(async (o: { out: string }, cmd: Command) => {
      const ctx = host.contextOf(cmd);
      const snap = await snapshot(ctx, ctx.clock.now(), (list, n) => host.err(`${list}: ${n} entries\n`));
      const dir = await writeSnapshot(o.out, snap);
      if (host.jsonOf(cmd)) json({ dir, lists: snap.lists.map((l) => ({ list: l.list, entries: l.entries.length })) });
      else out(`wrote ${dir}: ${snap.lists.map((l) => `${l.list} (${l.entries.length})`).join(", ")}\n`);
    });

  program
    .command("deliver")
    .description("deliver the notices waiting in the outbox to a webhook once, then stop (the server does this continuously)")
    .requiredOption("--webhook <url>", "where to POST each notice")
    .option("--webhook-secret <secret>", "HMAC-SHA256 key for X-Social-Credit-Signature (default: SOCIAL_CREDIT_WEBHOOK_SECRET)")
    .action(async (o: { webhook: string; webhookSecret?: string }, cmd: Command) => {
      const ctx = host.contextOf(cmd);
      const secret = o.webhookSecret ?? process.env.SOCIAL_CREDIT_WEBHOOK_SECRET;
      const send = webhookSender({ url: o.webhook, ...(secret ? { secret } : {}) });
      const { delivered, failed } = await deliverDue(ctx, send);
      if (failed > 0) {
        host.setExitCode(1);
        out(`delivered ${delivered}; the receiver refused the next notice; ${await ctx.store.outboxBacklog()} wait for a retry\n`);
        return;
      }
      out(`delivered ${delivered}; ${await ctx.store.outboxBacklog()} waiting\n`);
    });
}
