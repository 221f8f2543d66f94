// Due process end to end through the HTTP API, in simulated time: sign-off, notices to a webhook, objections, restoration, expiry, publication.
import { createServer, type Server } from "node:http";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKey } from "../../../src/app/keys.js";
import { snapshot } from "../../../src/app/publication.js";
import { writeSnapshot } from "../../../src/adapters/reports/publication.js";
import { webhookSender } from "../../../src/adapters/webhook/sender.js";
import { testBackends } from "../../storage/backends.js";
import { ADULT, ADULT_RECORD, expectProblem, JIANGSU, NOW, OPERATOR, startServer, type Harness } from "./harness.js";

const DAY = 86_400_000;
/** A second Beijing adult: objects in vain, then asks for restoration. */
const DEBTOR = "110102199003070018";
const DEBTOR_CASE = "(2026)京0102执0501号";

const BACKENDS = await testBackends();

// The whole flow on each backend: the application services must behave the same whatever stores their data.
describe.each(BACKENDS)("due process over HTTP on $name", (backend) => {
  /** A clock the test moves forward, as time passes for everyone. */
  let now = NOW;
  const clock = { now: () => now };

  /** A local webhook receiver that can be taken down; it keeps every notice it accepted. */
  let receiver: Server;
  let receiverUp = false;
  const received: { id: number; subject: string; kind: string; reason: string; deadline: string | null; howToObject: string | null; records: string[]; legalBasis: string[] }[] = [];
  let hooks = "";

  let h: Harness;
  let debtorKey: string;
  let lateFilerEnforcer: string;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        if (!receiverUp) {
          res.writeHead(503).end("down for maintenance");
          return;
        }
        received.push(JSON.parse(body) as (typeof received)[number]);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const address = receiver.address();
    hooks = typeof address === "object" && address ? `http://127.0.0.1:${address.port}/notices` : "";
    h = await startServer({
      store: await backend.open(),
      clock,
      signOff: false,
      // The outbox is looked at often; retries wait on the simulated clock, so the test decides when they are due.
      background: { sweepEveryMs: 50, notices: { send: webhookSender({ url: hooks }), everyMs: 20 } },
    });
    debtorKey = (await createKey(h.ctx, OPERATOR, { role: "subject", subject: DEBTOR, label: "the second debtor" })).key;
    lateFilerEnforcer = (await createKey(h.ctx, OPERATOR, { role: "enforcer", measures: ["jiangsu-no-tax-fast-track"], label: "Nanjing tax hall" })).key;
  });

  afterAll(async () => {
    await h.close();
    await new Promise((resolve) => receiver.close(resolve));
  });

  const applies = async (subject: string, measure = "restrict-air-travel", key?: string) => {
    const r = await h.call(key ? { key } : "enforcer", "GET", `/v1/checks/${subject}/${measure}`);
    expect(r.status, r.text).toBe(200);
    return r.body as { applies: boolean; reasons: { code: string; disputed: boolean }[] };
  };

  const until = async (what: () => boolean | Promise<boolean>, ms = 5000) => {
    const end = Date.now() + ms;
    while (!(await what())) {
      if (Date.now() > end) throw new Error("timed out waiting");
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const noticesOf = async (subject: string, caller: Parameters<Harness["call"]>[0] = "reviewer") => {
    const r = await h.call(caller, "GET", `/v1/subjects/${subject}/notices?limit=1000`);
    expect(r.status, r.text).toBe(200);
    return r.body.notices as { seq: number; kind: string; summary: string; reason: string; deadline: string | null; howToObject: string | null; records: string[]; legalBasis: string[]; recipient: object; detail: Record<string, unknown> }[];
  };

  describe("human sign-off of a serious list entry", () => {
    it("keeps a court record from listing anyone until a reviewer approves, then lists with notices", async () => {
      expect((await applies(ADULT)).applies).toBe(false);
      const file = await h.call("subjectAdult", "GET", `/v1/subjects/${ADULT}`);
      expect(file.body.lists).toEqual([]);
      expect(file.body.awaitingSignOff).toEqual([expect.objectContaining({ list: "dishonest-judgment-debtors", tier: "serious", record: ADULT_RECORD })]);
      expect((await noticesOf(ADULT, "subjectAdult")).map((n) => n.kind)).toEqual(["sign-off-requested"]);

      const queue = await h.call("reviewer", "GET", "/v1/sign-offs?state=pending");
      const entry = (queue.body.signOffs as { entry: string; subject: string }[]).find((s) => s.subject === ADULT)?.entry as string;
      expect(entry).toBeDefined();
      // A rejection must say why.
      expectProblem(await h.call("reviewer", "POST", `/v1/sign-offs/${entry}/decision`, { json: { approve: false } }), 422);
      const approved = await h.call("reviewer", "POST", `/v1/sign-offs/${entry}/decision`, { json: { approve: true, reasons: "final judgment, ground 1 established" } });
      expect(approved.status, approved.text).toBe(200);
      expect(approved.body.signOff).toMatchObject({ state: "approved", decidedBy: `key:${h.keys.reviewer.id}` });
      expectProblem(await h.call("reviewer", "POST", `/v1/sign-offs/${entry}/decision`, { json: { approve: true } }), 409);

      expect((await applies(ADULT)).applies).toBe(true);
      const notices = await noticesOf(ADULT, "subjectAdult");
      const entryNotice = notices.find((n) => n.kind === "list-entry");
      expect(entryNotice).toMatchObject({ records: [ADULT_RECORD], legalBasis: expect.arrayContaining(["SPC Fa Shi [2017] No. 7, Art. 1"]) });
      expect(entryNotice?.reason).toMatch(/met the entry rule of the List of dishonest judgment debtors \(blacklist, serious tier\)/);
      expect(entryNotice?.deadline?.slice(0, 10)).toBe(new Date(NOW + 60 * DAY + 8 * 3_600_000).toISOString().slice(0, 10));
      expect(entryNotice?.howToObject).toMatch(/POST \/v1\/subjects\/110105198506120034\/objections/);
      expect(notices.filter((n) => n.kind === "measure-start").map((n) => n.detail["measure"])).toEqual(
        expect.arrayContaining(["restrict-air-travel", "restrict-high-speed-rail", "restrict-star-hotels"]),
      );
    });
  });

  describe("notices delivered to a webhook", () => {
    it("retries while the receiver is down and delivers every notice once it is back, each with reason and deadline", async () => {
      // The receiver has been down since the server started: deliveries failed and wait for their backoff.
      await until(async () => (await h.ctx.store.outboxDue(now + 3_600_000, 1)).some((d) => d.attempts > 0));
      expect(received).toHaveLength(0);
      receiverUp = true;
      now += 2 * 3_600_000; // past the longest backoff so far
      const backlog = async () => h.ctx.store.outboxBacklog();
      await until(async () => (await backlog()) === 0);
      const forAdult = received.filter((n) => n.subject === ADULT);
      expect(forAdult.map((n) => n.kind)).toEqual(expect.arrayContaining(["sign-off-requested", "list-entry", "measure-start"]));
      const entry = forAdult.find((n) => n.kind === "list-entry");
      expect(entry?.reason).toMatch(/dishonest judgment debtors/);
      expect(entry?.deadline).toEqual(expect.any(String));
      expect(entry?.howToObject).toMatch(/objections/);
      // At least once, in order: ids ascend, and a receiver can drop a redelivered id.
      const ids = received.map((n) => n.id);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    });
  });

  describe("objections", () => {
    it("upheld: the record is retracted, the measure is lifted at the next check, and subject and source are told", async () => {
      const filed = await h.call("subjectAdult", "POST", `/v1/subjects/${ADULT}/objections`, { json: { record: ADULT_RECORD, statement: "I paid the full amount on 2026-02-20; receipt attached", evidenceRef: "receipt-2026-02-20.pdf" } });
      expect(filed.status, filed.text).toBe(201);
      const id = filed.body.objection.id as string;
      expect(filed.body.objection).toMatchObject({ state: "open", overdue: false, dueAt: expect.any(String) });
      // Disputed everywhere it shows, including the enforcer's reasons.
      expect((await applies(ADULT)).reasons[0]?.disputed).toBe(true);
      const explained = await h.call("subjectAdult", "GET", `/v1/subjects/${ADULT}`);
      expect(explained.body.effects[0]).toMatchObject({ record: ADULT_RECORD, disputed: true });
      expectProblem(await h.call("subjectAdult", "POST", `/v1/subjects/${ADULT}/objections`, { json: { record: ADULT_RECORD, statement: "again" } }), 409);
      expectProblem(await h.call("subjectAdult", "POST", `/v1/objections/${id}/decision`, { json: { decision: "uphold", reasons: "mine" } }), 403);

      const decided = await h.call("reviewer", "POST", `/v1/objections/${id}/decision`, { json: { decision: "uphold", reasons: "the court confirmed the payment predates the judgment" } });
      expect(decided.status, decided.text).toBe(200);
      expect(decided.body.objection).toMatchObject({ state: "upheld", outcome: "retracted" });
      expect((await applies(ADULT)).applies).toBe(false);
      const record = await h.call("subjectAdult", "GET", `/v1/subjects/${ADULT}/records`);
      expect(record.body.records[0]).toMatchObject({ id: ADULT_RECORD, state: "retracted" });
      const kinds = (await noticesOf(ADULT)).map((n) => n.kind);
      expect(kinds).toEqual(expect.arrayContaining(["objection-received", "objection-upheld", "record-corrected-on-objection", "list-exit", "measure-end"]));
      const toSource = (await noticesOf(ADULT)).find((n) => n.kind === "record-corrected-on-objection");
      expect(toSource?.recipient).toEqual({ source: "court" });
    });

    it("dismissed: the measure stays, the record is no longer disputed, and the reasons are recorded and told", async () => {
      const submitted = await h.call("agencyCourt", "POST", "/v1/records", {
        json: [{ source: "court", externalId: DEBTOR_CASE, subject: DEBTOR, category: "court.judgment.unfulfilled", occurredAt: "2026-09-01", attributes: { caseNumber: DEBTOR_CASE, ground: 1 }, legalRef: "SPC Fa Shi [2017] No. 7, Art. 1(1)" }],
      });
      expect(submitted.body.accepted, submitted.text).toBe(1);
      const [pending] = (await h.call("reviewer", "GET", `/v1/sign-offs?state=pending&subject=${DEBTOR}`)).body.signOffs as { entry: string }[];
      await h.call("reviewer", "POST", `/v1/sign-offs/${pending?.entry}/decision`, { json: { approve: true } });
      expect((await applies(DEBTOR)).applies).toBe(true);

      const filed = await h.call({ key: debtorKey }, "POST", `/v1/subjects/${DEBTOR}/objections`, { json: { record: `court:${DEBTOR_CASE}`, statement: "I cannot pay" } });
      expect(filed.status, filed.text).toBe(201);
      const id = filed.body.objection.id as string;
      expectProblem(await h.call("reviewer", "POST", `/v1/objections/${id}/decision`, { json: { decision: "dismiss", reasons: "" } }), 422);
      const decided = await h.call("reviewer", "POST", `/v1/objections/${id}/decision`, { json: { decision: "dismiss", reasons: "inability to pay is not a ground to annul a final judgment" } });
      expect(decided.body.objection).toMatchObject({ state: "dismissed", reasons: "inability to pay is not a ground to annul a final judgment", outcome: null });
      const check = await applies(DEBTOR);
      expect(check.applies).toBe(true);
      expect(check.reasons[0]?.disputed).toBe(false);
      expect((await h.call({ key: debtorKey }, "GET", `/v1/objections/${id}`)).body.reasons).toBe("inability to pay is not a ground to annul a final judgment");
      const dismissal = (await noticesOf(DEBTOR, { key: debtorKey })).find((n) => n.kind === "objection-dismissed");
      expect(dismissal?.reason).toBe("inability to pay is not a ground to annul a final judgment");
    });

    it("flags an objection past its deadline as overdue", async () => {
      const submitted = await h.call("agencyCourt", "POST", "/v1/records", {
        json: [{ source: "court", externalId: `${DEBTOR_CASE}-2`, subject: DEBTOR, category: "court.judgment.unfulfilled", occurredAt: "2026-09-02", attributes: { caseNumber: `${DEBTOR_CASE}-2`, ground: 1 }, legalRef: "SPC Fa Shi [2017] No. 7, Art. 1(1)" }],
      });
      expect(submitted.body.accepted).toBe(1);
      const filed = await h.call({ key: debtorKey }, "POST", `/v1/subjects/${DEBTOR}/objections`, { json: { record: `court:${DEBTOR_CASE}-2`, statement: "duplicate of the first case" } });
      const id = filed.body.objection.id as string;
      expect((await h.call("reviewer", "GET", "/v1/objections?overdue=true")).body.objections.map((o: { id: string }) => o.id)).not.toContain(id);
      now += 16 * DAY;
      const overdue = (await h.call("reviewer", "GET", "/v1/objections?overdue=true")).body.objections as { id: string; overdue: boolean }[];
      expect(overdue).toEqual([expect.objectContaining({ id, overdue: true })]);
      expect((await h.call("public", "GET", "/v1/public/statistics")).body.objections).toMatchObject({ overdue: 1, upheld: 1, dismissed: 1 });
      await h.call("reviewer", "POST", `/v1/objections/${id}/decision`, { json: { decision: "uphold", reasons: "the same debt as the first case" } });
    });
  });

  describe("restoration", () => {
    it("is refused before the minimum period with the date it becomes possible, then granted, lifting every measure at once", async () => {
      const early = await h.call({ key: debtorKey }, "POST", `/v1/subjects/${DEBTOR}/restorations`, { json: { list: "dishonest-judgment-debtors", commitment: "I undertake to pay in instalments" } });
      const p = expectProblem(early, 409) as { possibleFrom?: string; detail: string };
      expect(p.detail).toMatch(/minimum period of P1Y/);
      const possibleFrom = Date.parse(p.possibleFrom as string);
      expect(possibleFrom).toBeGreaterThan(now);

      now = possibleFrom - DAY;
      expectProblem(await h.call({ key: debtorKey }, "POST", `/v1/subjects/${DEBTOR}/restorations`, { json: { list: "dishonest-judgment-debtors", commitment: "I undertake to pay" } }), 409);
      now = possibleFrom + DAY;
      // The list asks for a commitment.
      expect((await h.call({ key: debtorKey }, "POST", `/v1/subjects/${DEBTOR}/restorations`, { json: { list: "dishonest-judgment-debtors" } })).body.detail).toMatch(/commitment/);
      const asked = await h.call({ key: debtorKey }, "POST", `/v1/subjects/${DEBTOR}/restorations`, { json: { list: "dishonest-judgment-debtors", commitment: "I undertake to pay in instalments" } });
      expect(asked.status, asked.text).toBe(201);
      expect((await applies(DEBTOR)).applies).toBe(true);
      const granted = await h.call("reviewer", "POST", `/v1/restorations/${asked.body.restoration.id}/decision`, { json: { grant: true } });
      expect(granted.body.restoration).toMatchObject({ state: "granted" });
      for (const m of ["restrict-air-travel", "restrict-high-speed-rail", "restrict-star-hotels"]) {
        expect((await h.call("enforcer", "GET", `/v1/checks/${DEBTOR}/restrict-air-travel`)).body.applies, m).toBe(false);
      }
      const explained = await h.call({ key: debtorKey }, "GET", `/v1/subjects/${DEBTOR}`);
      expect(explained.body.measures).toEqual([]);
      expect(explained.body.effects.find((e: { list?: string }) => e.list === "dishonest-judgment-debtors")?.endedBy).toMatchObject({ restoration: asked.body.restoration.id });
      expect((await noticesOf(DEBTOR, { key: debtorKey })).map((n) => n.kind)).toEqual(expect.arrayContaining(["restoration-requested", "restoration-granted", "list-exit"]));
    });
  });

  describe("expiry", () => {
    it("ends a minor item three months after its record with nobody acting, and tells the subject", async () => {
      const filed = new Date(now - DAY).toISOString().slice(0, 10);
      const r = await h.call("agencyTax", "POST", "/v1/records", {
        json: [{ source: "tax", externalId: "苏税迟〔2027〕3号", subject: JIANGSU, category: "tax.return.late", occurredAt: filed, attributes: { noticeNumber: "苏税迟〔2027〕3号" }, legalRef: "Tax Collection and Administration Law, Art. 62" }],
      });
      expect(r.body.accepted, r.text).toBe(1);
      // Minor: no sign-off, applies at once, never published.
      expect((await applies(JIANGSU, "jiangsu-no-tax-fast-track", lateFilerEnforcer)).applies).toBe(true);
      expect((await h.call("public", "GET", "/v1/public/lists/jiangsu-late-tax-filers")).status).toBe(404);
      now += 92 * DAY;
      // The background sweep finds the status run out and stores the exit; no one called anything.
      await until(async () => (await h.ctx.store.notices({ subject: JIANGSU, limit: 1000 })).some((n) => n.kind === "list-exit" && n.detail["list"] === "jiangsu-late-tax-filers"));
      expect((await applies(JIANGSU, "jiangsu-no-tax-fast-track", lateFilerEnforcer)).applies).toBe(false);
    });
  });

  describe("publication", () => {
    it("publishes each public list with names and masked person IDs, as files and over the public API", async () => {
      const ids = [ADULT, DEBTOR, JIANGSU];
      const page = await h.call("public", "GET", "/v1/public/lists/beijing-serious-dishonest-enterprises");
      expect(page.status).toBe(200);
      const stats = await h.call("public", "GET", "/v1/public/statistics");
      expect(stats.body.lists.map((l: { list: string }) => l.list)).toContain("dishonest-judgment-debtors");
      expect(stats.body.lists.map((l: { list: string }) => l.list)).not.toContain("jiangsu-late-tax-filers");

      // A listed person to publish: a third debtor, approved now.
      const third = "110105199208150029";
      await h.call("agencyCourt", "POST", "/v1/records", {
        json: [{ source: "court", externalId: "(2027)京0105执0009号", subject: third, category: "court.judgment.unfulfilled", occurredAt: new Date(now - DAY).toISOString().slice(0, 10), attributes: { caseNumber: "(2027)京0105执0009号", ground: 2 }, legalRef: "SPC Fa Shi [2017] No. 7, Art. 1(2)" }],
      });
      await h.ctx.store.putNames([{ subject: third, name: "王五" }]);
      for (const s of (await h.call("reviewer", "GET", `/v1/sign-offs?state=pending&subject=${third}`)).body.signOffs as { entry: string }[]) {
        await h.call("reviewer", "POST", `/v1/sign-offs/${s.entry}/decision`, { json: { approve: true } });
      }
      const listed = await h.call("public", "GET", "/v1/public/lists/dishonest-judgment-debtors");
      expect(listed.body.entries).toEqual([expect.objectContaining({ name: "王五", id: "1101**********0029" })]);
      expect((await h.call("public", "GET", "/v1/public/lists/dishonest-judgment-debtors?q=1101**********0029")).body.entries).toHaveLength(1);
      expect((await h.call("public", "GET", `/v1/public/lists/dishonest-judgment-debtors?q=${third}`)).body.entries[0].id).toBe("1101**********0029");
      expect((await h.call("public", "GET", "/v1/public/lists/dishonest-judgment-debtors?q=王")).body.entries).toHaveLength(1);
      expect((await h.call("public", "GET", "/v1/public/lists/dishonest-judgment-debtors?q=李")).body.entries).toHaveLength(0);

      const dir = mkdtempSync(join(tmpdir(), "social-credit-publish-"));
      const written = await writeSnapshot(dir, await snapshot(h.ctx));
      const files = readdirSync(written).sort();
      expect(files).toEqual(expect.arrayContaining(["dishonest-judgment-debtors.csv", "dishonest-judgment-debtors.json", "dishonest-judgment-debtors.html", "index.html", "statistics.json"]));
      for (const f of files) {
        const text = readFileSync(join(written, f), "utf8");
        for (const id of [...ids, third]) expect(text, f).not.toContain(id);
        // No 18-character person ID in any published file.
        expect(text, f).not.toMatch(/\b\d{17}[\dX]\b/);
      }
      expect(readFileSync(join(written, "dishonest-judgment-debtors.csv"), "utf8")).toContain("王五,1101**********0029,");
      expect(readFileSync(join(written, "beijing-serious-dishonest-enterprises.csv"), "utf8")).toBe("name,id,since,until,publishedUntil\n");
    });
  });
});
