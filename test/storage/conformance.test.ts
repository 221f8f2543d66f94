// One suite for every storage backend: the same operations must give the same results on SQLite and PostgreSQL.
import { describe, expect, it } from "vitest";
import { ChainVerifier, type AuditDraft } from "../../src/core/audit.js";
import type { Objection, Restoration } from "../../src/core/due-process.js";
import type { Evaluation, Status } from "../../src/core/evaluate.js";
import type { RecordFact } from "../../src/core/record.js";
import type { RecordOp } from "../../src/core/record-input.js";
import { parseSubjectId, type Subject } from "../../src/core/subject-id.js";
import { openStore } from "../../src/storage/open.js";
import type { Store, SubjectEvaluator } from "../../src/storage/store.js";
import { rawSql, testBackends } from "./backends.js";

const BACKENDS = await testBackends();

const ADULT = (parseSubjectId("110105198506120034") as { subject: Subject }).subject;
const OTHER = (parseSubjectId("320102199001010053") as { subject: Subject }).subject;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 1);

function fact(externalId: string, subject: Subject, occurredAt = T0, category = "court.judgment.unfulfilled"): RecordFact {
  return { id: `court:${externalId}`, source: "court", externalId, subject: subject.id, category, occurredAt, attributes: { caseNumber: externalId, ground: 1 }, legalRef: "x" };
}
const submit = (record: RecordFact, op: "submit" | "correct" = "submit"): RecordOp => ({ op, record });
const retract = (externalId: string, reason = "wrong person"): RecordOp => ({ op: "retract", id: `court:${externalId}`, source: "court", externalId, reason });

/**
 * A small evaluator with the shape of the real one: the score counts records, a subject with a "court" debt is on the
 * blacklist (and under a flight ban) for a year from it, and a "review" record waits for a sign-off unless approved.
 */
function evaluator(seen: string[][] = [], at = T0 + 10 * DAY, rulesetHash = "h1"): SubjectEvaluator {
  return (subject, records, facts): Evaluation => {
    seen.push(records.map((r) => r.id).sort());
    const debts = records.filter((r) => r.category === "court.judgment.unfulfilled").sort((a, b) => a.occurredAt - b.occurredAt);
    const reviews = records.filter((r) => r.category === "review");
    const first = debts[0];
    const iso = (t: number) => new Date(t).toISOString();
    const approved = reviews.filter((r) => facts.signOffs.get(`${r.id}#bl`)?.approved === true);
    const lists: Status["lists"] = [];
    const onList = first ?? approved[0];
    if (onList) {
      const until = iso(onList.occurredAt + 365 * DAY);
      lists.push({ list: "blacklist", name: "blacklist", kind: "blacklist", tier: null, since: iso(onList.occurredAt), until, publishedUntil: until, records: [onList.id], legalBasis: ["x"] });
    }
    const measures: Status["measures"] = lists.map((l) => ({ measure: "flight-ban", name: "flight ban", kind: "sanction", tier: null, trigger: { list: l.list }, since: l.since, until: l.until, records: l.records, legalBasis: ["x"] }));
    const awaitingSignOff = reviews
      .filter((r) => !facts.signOffs.has(`${r.id}#bl`))
      .map((r) => ({ entry: `${r.id}#bl`, list: "blacklist", tier: null, record: r.id, rule: "review", from: iso(r.occurredAt), until: iso(r.occurredAt + DAY), legalBasis: ["x"] }));
    const status: Status = {
      subject,
      kind: "person",
      region: "",
      jurisdiction: "national",
      at: iso(at),
      rulesetHash,
      minor: false,
      score: records.length,
      grade: null,
      lists,
      measures,
      awaitingSignOff,
      nextChangeAt: null,
      effects: [],
      excluded: [],
    };
    return { status, validFrom: null, validUntil: 5_000 };
  };
}

async function withStore(open: () => Promise<Store>, work: (s: Store) => Promise<void>): Promise<void> {
  const store = await open();
  try {
    await work(store);
  } finally {
    await store.close();
  }
}

describe.each(BACKENDS)("storage conformance: $name", (backend) => {
  const run = (work: (s: Store) => Promise<void>) => withStore(backend.open, work);

  describe("records", () => {
    it("accepts once, reports the same record again as a duplicate, and refuses changed content unless corrected", () =>
      run(async (store) => {
        const ev = evaluator();
        const a = fact("A", ADULT);
        expect(await store.writeRecords([submit(a), submit(a)], ev, 1)).toEqual([
          { kind: "accepted", id: "court:A", subject: ADULT.id },
          { kind: "duplicate", id: "court:A", subject: ADULT.id },
        ]);
        const reordered = { ...a, attributes: { ground: 1, caseNumber: "A" } };
        expect((await store.writeRecords([submit(reordered)], ev, 2))[0]?.kind).toBe("duplicate");
        const changed = { ...a, occurredAt: a.occurredAt + 1 };
        expect((await store.writeRecords([submit(changed)], ev, 3))[0]).toMatchObject({ kind: "rejected", reason: expect.stringMatching(/different content/) });
        expect((await store.writeRecords([submit(changed, "correct")], ev, 4))[0]?.kind).toBe("corrected");
        // The first content, re-sent with the rest of its file, is a duplicate: it was sent before.
        expect((await store.writeRecords([submit(a)], ev, 5))[0]?.kind).toBe("duplicate");
        const history = await store.recordHistory("court:A");
        expect(history.map((h) => [h.revision, h.op, h.at])).toEqual([[1, "submit", 1], [2, "correct", 4]]);
        expect(history[1]?.content?.occurredAt).toBe(a.occurredAt + 1);
        const stored = await store.getRecord("court:A");
        expect(stored).toMatchObject({ revision: 2, state: "active", receivedAt: 1, occurredAt: a.occurredAt + 1, attributes: { caseNumber: "A", ground: 1 } });
        expect(await store.writeRecords([submit(fact("Z", ADULT), "correct")], ev, 6)).toEqual([
          { kind: "rejected", id: "court:Z", reason: expect.stringMatching(/no record court:Z to correct/) },
        ]);
      }));

    it("applies several operations on one record within a batch in order, as separate batches would", () =>
      run(async (store) => {
        const a = fact("A", ADULT);
        const b = { ...a, occurredAt: a.occurredAt + 5 };
        const out = await store.writeRecords([submit(a, "correct"), submit(a), submit(b, "correct"), submit(a), retract("A"), submit(b)], evaluator(), 1);
        expect(out.map((o) => o.kind)).toEqual(["rejected", "accepted", "corrected", "duplicate", "retracted", "duplicate"]);
        expect((await store.recordHistory("court:A")).map((h) => h.op)).toEqual(["submit", "correct", "retract"]);
        expect(await store.getStatus(ADULT.id)).toBeUndefined();
      }));

    it("re-evaluates every touched subject in the same write, both subjects when a correction moves a record", () =>
      run(async (store) => {
        const seen: string[][] = [];
        const ev = evaluator(seen);
        await store.writeRecords([submit(fact("A", ADULT)), submit(fact("B", ADULT))], ev, 1);
        expect((await store.getStatus(ADULT.id))?.status.score).toBe(2);
        expect(seen).toEqual([["court:A", "court:B"]]);
        await store.writeRecords([submit(fact("B", OTHER), "correct")], ev, 2);
        expect((await store.getStatus(ADULT.id))?.status.score).toBe(1);
        expect((await store.getStatus(OTHER.id))?.status.score).toBe(1);
        expect((await store.recordsOf(OTHER.id)).map((r) => r.id)).toEqual(["court:B"]);
        expect((await store.getRecord("court:B"))?.subject).toBe(OTHER.id);
        // The moved record is still one record: a retraction by id finds it under its new subject.
        expect(await store.writeRecords([retract("B")], ev, 3)).toEqual([{ kind: "retracted", id: "court:B", subject: OTHER.id }]);
        expect(await store.getStatus(OTHER.id)).toBeUndefined();
        expect(await store.counts()).toEqual({ subjects: 2, records: 2, retracted: 1 });
      }));

    it("evaluates subjects new to the store from what the batch wrote, with moves and retractions inside the batch, as a later read does", () =>
      run(async (store) => {
        const third = { ...ADULT, id: "110105198506120018" };
        await store.writeRecords([submit(fact("OLD", OTHER))], evaluator(), 1);
        const seen: string[][] = [];
        const out = await store.writeRecords(
          [submit(fact("A", ADULT)), submit(fact("B", ADULT)), submit(fact("B", OTHER), "correct"), submit(fact("C", third)), retract("C"), submit(fact("D", ADULT))],
          evaluator(seen),
          2,
        );
        expect(out.map((o) => o.kind)).toEqual(["accepted", "accepted", "corrected", "accepted", "retracted", "accepted"]);
        // OTHER had a stored status: its older record is read with the one moved to it.
        expect(seen).toEqual([["court:A", "court:D"], ["court:B", "court:OLD"], []]);
        const again: string[][] = [];
        await store.refreshStatuses([ADULT.id, OTHER.id, third.id], evaluator(again));
        expect(again).toEqual(seen);
        expect([(await store.getStatus(ADULT.id))?.status.score, (await store.getStatus(OTHER.id))?.status.score, await store.getStatus(third.id)]).toEqual([2, 2, undefined]);
      }));

    it("retracts with a reason, keeps the record and its history, and drops the status of a subject left with no record", () =>
      run(async (store) => {
        const ev = evaluator();
        await store.writeRecords([submit(fact("A", ADULT))], ev, 1);
        expect(await store.writeRecords([retract("A")], ev, 2)).toEqual([{ kind: "retracted", id: "court:A", subject: ADULT.id }]);
        expect(await store.getStatus(ADULT.id)).toBeUndefined();
        expect((await store.recordsOf(ADULT.id)).map((r) => [r.id, r.state, r.revision])).toEqual([["court:A", "retracted", 2]]);
        expect((await store.recordHistory("court:A")).map((h) => [h.op, h.reason ?? null])).toEqual([["submit", null], ["retract", "wrong person"]]);
        expect((await store.writeRecords([retract("A")], ev, 3))[0]?.kind).toBe("duplicate");
        expect((await store.writeRecords([submit(fact("A", ADULT))], ev, 3))[0]?.kind).toBe("duplicate");
        expect((await store.writeRecords([submit(fact("A", ADULT, 7))], ev, 3))[0]).toMatchObject({ kind: "rejected", reason: expect.stringMatching(/was retracted/) });
        expect((await store.writeRecords([retract("Z")], ev, 3))[0]?.kind).toBe("rejected");
      }));

    it("reads a history stored whole, as earlier versions wrote it, and revises it without doubling the first revision", async () => {
      const where = await backend.location();
      const a = fact("A", ADULT);
      await withStore(async () => openStore(where), (store) => store.writeRecords([submit(a), submit(fact("B", ADULT))], evaluator(), 1).then(() => undefined));
      // Earlier versions wrote each record's first revision to the history at once.
      const content = JSON.stringify({ subject: a.subject, category: a.category, occurredAt: a.occurredAt, attributes: a.attributes, legalRef: a.legalRef });
      await rawSql(where, backend.name, [
        `INSERT INTO record_history (record_id, revision, op, content, content_hash, reason, at)
         SELECT id, 1, 'submit', '${content}', content_hash, NULL, received_at FROM records`,
      ]);
      await withStore(async () => openStore(where), async (store) => {
        expect((await store.recordHistory("court:A")).map((h) => [h.revision, h.op, h.at])).toEqual([[1, "submit", 1]]);
        const changed = { ...a, occurredAt: a.occurredAt + 1 };
        expect((await store.writeRecords([submit(changed, "correct"), retract("B")], evaluator(), 2)).map((o) => o.kind)).toEqual(["corrected", "retracted"]);
        const history = await store.recordHistory("court:A");
        expect(history.map((h) => [h.revision, h.op, h.at])).toEqual([[1, "submit", 1], [2, "correct", 2]]);
        expect(history[0]?.content?.occurredAt).toBe(a.occurredAt);
        expect((await store.recordHistory("court:B")).map((h) => [h.revision, h.op])).toEqual([[1, "submit"], [2, "retract"]]);
        expect((await store.writeRecords([submit(a)], evaluator(), 3))[0]?.kind).toBe("duplicate");
      });
    });

    it("keeps text with tabs, backslashes and line breaks intact", () =>
      run(async (store) => {
        const odd = { ...fact("A\tB", ADULT), attributes: { note: "a\\b\nc\r\td \\N é 中" }, evidenceRef: "ev\\1" };
        await store.writeRecords([submit(odd)], evaluator(), 1);
        expect(await store.getRecord(odd.id)).toMatchObject({ externalId: "A\tB", attributes: odd.attributes, evidenceRef: "ev\\1" });
        expect((await store.recordHistory(odd.id))[0]?.content?.attributes).toEqual(odd.attributes);
      }));

    it("rolls back a whole batch when evaluation fails, so records never run ahead of statuses", () =>
      run(async (store) => {
        const failing: SubjectEvaluator = () => {
          throw new Error("evaluator broke");
        };
        await expect(store.writeRecords([submit(fact("A", ADULT))], failing, 1)).rejects.toThrow("evaluator broke");
        expect(await store.counts()).toEqual({ subjects: 0, records: 0, retracted: 0 });
        expect(await store.getRecord("court:A")).toBeUndefined();
        // And the id is free again.
        expect((await store.writeRecords([submit(fact("A", ADULT))], evaluator(), 2))[0]?.kind).toBe("accepted");
      }));

    it("keeps nothing of a transaction whose work caught a failed write and went on", () =>
      run(async (store) => {
        const failing: SubjectEvaluator = () => {
          throw new Error("evaluator broke");
        };
        const work = store.transaction(async (tx) => {
          // The first batch fails once its records are written; the work swallows the failure and writes another.
          await tx.writeRecords([submit(fact("A", ADULT))], failing, 1).catch(() => undefined);
          await tx.writeRecords([submit(fact("B", OTHER))], evaluator(), 1);
          return "written";
        });
        await expect(work).rejects.toThrow("evaluator broke");
        expect(await store.counts()).toEqual({ subjects: 0, records: 0, retracted: 0 });
        expect(await store.getRecord("court:A")).toBeUndefined();
        expect(await store.getRecord("court:B")).toBeUndefined();
        // And a transaction after it commits as usual.
        expect((await store.writeRecords([submit(fact("A", ADULT))], evaluator(), 2))[0]?.kind).toBe("accepted");
      }));
  });

  describe("statuses", () => {
    it("finds the statuses due for re-evaluation and pages through subjects in ID order", () =>
      run(async (store) => {
        await store.writeRecords([submit(fact("A", ADULT)), submit(fact("B", OTHER))], evaluator(), 1);
        expect(await store.dueSubjects(4_999, "h1", null, 10)).toEqual([]);
        expect(await store.dueSubjects(5_000, "h1", null, 10)).toEqual([ADULT.id, OTHER.id].sort());
        const [first] = await store.dueSubjects(0, "h2", null, 1);
        expect(await store.dueSubjects(0, "h2", first as string, 10)).toEqual([ADULT.id, OTHER.id].sort().slice(1));
        expect(await store.subjectsAfter(null, 10)).toEqual([ADULT.id, OTHER.id].sort());
        expect(await store.subjectsAfter(ADULT.id, 10)).toEqual([OTHER.id]);
        await store.refreshStatuses([ADULT.id], evaluator([], T0, "h2"));
        expect(await store.dueSubjects(0, "h2", null, 10)).toEqual([OTHER.id]);
      }));

    it("stores a status without its explanation, its measures apart, and answers checks from them", () =>
      run(async (store) => {
        await store.writeRecords([submit(fact("A", ADULT))], evaluator(), 1);
        const row = await store.getStatus(ADULT.id);
        expect(row?.status).not.toHaveProperty("effects");
        expect(row?.status.measures.map((m) => m.measure)).toEqual(["flight-ban"]);
        expect(row?.validUntil).toBe(5_000);
        const m = await store.getMeasures(ADULT.id);
        expect(m).toMatchObject({ rulesetHash: "h1", validFrom: null, validUntil: 5_000 });
        expect(m?.measures.map((x) => x.measure)).toEqual(["flight-ban"]);
        expect(await store.getMeasures(OTHER.id)).toBeUndefined();
        // What a check remembers follows the next change, including one made in a transaction.
        await store.transaction((tx) => tx.writeRecords([retract("A")], evaluator(), 2));
        expect(await store.getMeasures(ADULT.id)).toBeUndefined();
        await store.writeRecords([submit(fact("B", ADULT))], evaluator(), 3);
        expect((await store.getMeasures(ADULT.id))?.measures).toHaveLength(1);
        // Many at once, in the order asked, repeats and unknown subjects included, inside a transaction or not.
        const many = async (read: (subjects: string[]) => Promise<({ measures: { measure: string }[] } | undefined)[]>) =>
          (await read([OTHER.id, ADULT.id, OTHER.id, ADULT.id])).map((x) => x?.measures.map((m) => m.measure));
        const want = [undefined, ["flight-ban"], undefined, ["flight-ban"]];
        expect(await many((ids) => store.getMeasuresMany(ids))).toEqual(want);
        expect(await many((ids) => store.getMeasuresMany(ids))).toEqual(want);
        expect(await store.transaction((tx) => many((ids) => tx.getMeasuresMany(ids)))).toEqual(want);
        await store.writeRecords([submit(fact("C", OTHER))], evaluator(), 4);
        expect((await store.getMeasuresMany([OTHER.id, ADULT.id])).map((x) => x?.measures.length)).toEqual([1, 1]);
      }));

    it("keeps every activated rulebook version and the history of activations", () =>
      run(async (store) => {
        expect(await store.activationSeq()).toBe(0);
        await store.activateLayers([{ id: "national", file: "n.yaml", text: "v1", sha256: "s1" }], "r1", 10);
        await store.activateLayers([{ id: "national", file: "n.yaml", text: "v1", sha256: "s1" }, { id: "beijing", file: "b.yaml", text: "b", sha256: "s2" }], "r2", 20);
        expect((await store.activeLayers()).map((l) => [l.id, l.activatedAt])).toEqual([["beijing", 20], ["national", 10]]);
        await store.activateLayers([{ id: "national", file: "n.yaml", text: "v2", sha256: "s3" }], "r3", 30);
        expect((await store.activeLayers()).map((l) => [l.id, l.text])).toEqual([["national", "v2"]]);
        expect(await store.activationSeq()).toBe(3);
      }));

    it("keeps names, a later one replacing an earlier one", () =>
      run(async (store) => {
        await store.putNames([{ subject: ADULT.id, name: "Zhang San" }, { subject: OTHER.id, name: "Li Si" }, { subject: ADULT.id, name: "Zhang Sanfeng" }]);
        expect([...(await store.namesOf([ADULT.id, OTHER.id, "nobody"]))].sort()).toEqual([[ADULT.id, "Zhang Sanfeng"], [OTHER.id, "Li Si"]].sort());
      }));
  });

  describe("lists, sign-offs and notices", () => {
    it("enters and leaves lists with notices queued in order, and publishes members with their names", () =>
      run(async (store) => {
        const ev = evaluator();
        await store.putNames([{ subject: ADULT.id, name: "Zhang San" }]);
        await store.writeRecords([submit(fact("A", ADULT)), submit(fact("B", OTHER))], ev, 1);
        const at = T0 + DAY;
        expect(await store.listSizes(at)).toEqual(new Map([["blacklist", 2]]));
        expect(await store.listMembers("blacklist", at, { offset: 0, limit: 10 })).toEqual([
          { subject: ADULT.id, since: T0, until: T0 + 365 * DAY, publishedUntil: T0 + 365 * DAY, name: "Zhang San" },
          { subject: OTHER.id, since: T0, until: T0 + 365 * DAY, publishedUntil: T0 + 365 * DAY, name: null },
        ]);
        expect((await store.listMembers("blacklist", at, { subjectLike: "1101%", offset: 0, limit: 10 })).map((m) => m.subject)).toEqual([ADULT.id]);
        expect((await store.listMembers("blacklist", at, { name: "San", offset: 0, limit: 10 })).map((m) => m.subject)).toEqual([ADULT.id]);
        expect(await store.listMembers("blacklist", at, { offset: 1, limit: 10 })).toHaveLength(1);
        await store.writeRecords([retract("A")], ev, 2);
        expect(await store.listSizes(at)).toEqual(new Map([["blacklist", 1]]));
        const notices = await store.notices({ limit: 100 });
        expect(notices.map((n) => [n.subject, n.kind])).toEqual([
          [ADULT.id, "list-entry"],
          [ADULT.id, "measure-start"],
          [OTHER.id, "list-entry"],
          [OTHER.id, "measure-start"],
          [ADULT.id, "list-exit"],
          [ADULT.id, "measure-end"],
        ]);
        expect(notices.map((n) => n.seq)).toEqual([...notices.map((n) => n.seq)].sort((a, b) => a - b));
        expect((await store.notices({ subject: OTHER.id, limit: 10 })).map((n) => n.kind)).toEqual(["list-entry", "measure-start"]);
        expect((await store.notices({ afterSeq: notices[3]?.seq as number, limit: 10 })).map((n) => n.kind)).toEqual(["list-exit", "measure-end"]);
        expect(await store.listStatistics(T0 + 20 * DAY)).toEqual([{ list: "blacklist", members: 1, entries: 2, exits: 1 }]);
      }));

    it("delivers notices in order: one waiting for its retry holds back the later ones", () =>
      run(async (store) => {
        await store.writeRecords([submit(fact("A", ADULT))], evaluator(), 1);
        const due = await store.outboxDue(T0 + 20 * DAY, 10);
        expect(due.map((d) => d.attempts)).toEqual([0, 0]);
        expect(await store.outboxBacklog()).toBe(2);
        const [first, second] = due.map((d) => d.notice.seq) as [number, number];
        await store.markFailed(first, "connection refused", T0 + 30 * DAY);
        expect(await store.outboxDue(T0 + 20 * DAY, 10)).toEqual([]);
        expect((await store.outboxDue(T0 + 30 * DAY, 10)).map((d) => [d.notice.seq, d.attempts])).toEqual([[first, 1], [second, 0]]);
        await store.markDelivered(first, T0 + 30 * DAY);
        expect(await store.outboxBacklog()).toBe(1);
        expect((await store.outboxDue(T0 + 30 * DAY, 10)).map((d) => d.notice.seq)).toEqual([second]);
      }));

    it("asks for a sign-off, lets a reviewer decide it once, and lapses an undecided one whose record is retracted", () =>
      run(async (store) => {
        const ev = evaluator();
        await store.writeRecords([submit(fact("R1", ADULT, T0, "review")), submit(fact("R2", ADULT, T0, "review"))], ev, 1);
        const pending = await store.signOffs({ state: "pending", limit: 10 });
        expect(pending.map((s) => [s.entry, s.subject, s.requestedAt])).toEqual([["court:R1#bl", ADULT.id, T0 + 10 * DAY], ["court:R2#bl", ADULT.id, T0 + 10 * DAY]]);
        expect((await store.signOffs({ after: "court:R1#bl", limit: 10 })).map((s) => s.entry)).toEqual(["court:R2#bl"]);
        expect(await store.decideSignOff("court:R1#bl", true, 5, "reviewer", "checked")).toBe(true);
        expect(await store.decideSignOff("court:R1#bl", false, 6, "reviewer", "again")).toBe(false);
        expect(await store.getSignOff("court:R1#bl")).toMatchObject({ state: "approved", decidedAt: 5, decidedBy: "reviewer", reasons: "checked" });
        const facts = await store.caseFactsOf(ADULT.id);
        expect(facts.signOffs.get("court:R1#bl")).toEqual({ approved: true, at: 5 });
        await store.refreshStatuses([ADULT.id], ev);
        expect((await store.getStatus(ADULT.id))?.status.lists.map((l) => l.records)).toEqual([["court:R1"]]);
        // A batch about several subjects re-evaluates each with its own reviewers' decisions.
        await store.writeRecords([submit(fact("Q1", OTHER, T0, "volunteering")), submit(fact("V1", ADULT, T0, "volunteering"))], ev, 2);
        expect((await store.getStatus(ADULT.id))?.status.lists.map((l) => l.records)).toEqual([["court:R1"]]);
        expect((await store.getStatus(OTHER.id))?.status.lists).toEqual([]);
        await store.writeRecords([retract("R2")], ev, 2);
        expect((await store.getSignOff("court:R2#bl"))?.state).toBe("lapsed");
        expect(await store.signOffs({ subject: ADULT.id, state: "pending", limit: 10 })).toEqual([]);
      }));

    it("refreshes a whole page of subjects as it refreshes them one by one, and a status that only got older changes nothing", () =>
      run(async (store) => {
        const reviewed = { ...ADULT, id: "110105198506120018" };
        const cleared = { ...ADULT, id: "110105198506120026" };
        await store.writeRecords(
          [submit(fact("P1", ADULT)), submit(fact("P2", ADULT, T0 + DAY)), submit(fact("P3", OTHER)), submit(fact("R1", reviewed, T0, "review")), submit(fact("X1", cleared))],
          evaluator(),
          1,
        );
        await store.writeRecords([retract("X1")], evaluator(), 2);
        expect(await store.decideSignOff("court:R1#bl", true, 5, "reviewer", "checked")).toBe(true);
        await store.refreshStatuses([reviewed.id], evaluator());
        const page = await store.subjectsAfter(null, 100);
        expect(page).toEqual([reviewed.id, cleared.id, ADULT.id, OTHER.id].sort());
        const notices = (await store.notices({ limit: 1000 })).length;
        const members = await store.listMembers("blacklist", T0 + DAY, { offset: 0, limit: 100 });

        // Later, nothing else changed: the same statuses, no notice, the same list.
        const stored = await Promise.all(page.map((id) => store.getStatus(id)));
        await store.refreshStatuses(page, evaluator([], T0 + 20 * DAY), { wholeRange: true });
        expect((await store.notices({ limit: 1000 })).length).toBe(notices);
        expect(await store.listMembers("blacklist", T0 + DAY, { offset: 0, limit: 100 })).toEqual(members);
        // Not even rewritten: each stored status still says the instant it was evaluated at.
        expect(await Promise.all(page.map((id) => store.getStatus(id)))).toEqual(stored);
        await store.refreshStatuses([ADULT.id, OTHER.id], evaluator([], T0 + 21 * DAY));
        expect(await Promise.all(page.map((id) => store.getStatus(id)))).toEqual(stored);

        // Under another ruleset every status is rewritten, by range as one by one, case facts included.
        await store.refreshStatuses(page, evaluator([], T0 + 20 * DAY, "h2"), { wholeRange: true });
        const byRange = await Promise.all(page.map((id) => store.getStatus(id)));
        // A new ruleset that says the same of everyone: nobody is told anything, the list stays as it was.
        expect((await store.notices({ limit: 1000 })).length).toBe(notices);
        expect(await store.listMembers("blacklist", T0 + DAY, { offset: 0, limit: 100 })).toEqual(members);
        await store.refreshStatuses(page, evaluator([], T0 + 20 * DAY, "h3"));
        await store.refreshStatuses(page, evaluator([], T0 + 20 * DAY, "h2"));
        expect(await Promise.all(page.map((id) => store.getStatus(id)))).toEqual(byRange);
        const summary = byRange.map((r) => r && { subject: r.subject, hash: r.status.rulesetHash, score: r.status.score, lists: r.status.lists.map((l) => l.records) });
        // In subject order; the subject whose only record was retracted has no status.
        expect(summary).toEqual([
          { subject: reviewed.id, hash: "h2", score: 1, lists: [["court:R1"]] },
          undefined,
          { subject: ADULT.id, hash: "h2", score: 2, lists: [["court:P1"]] },
          { subject: OTHER.id, hash: "h2", score: 1, lists: [["court:P3"]] },
        ]);
      }));
  });

  describe("objections and restorations", () => {
    const objection = (id: string, over: Partial<Objection> = {}): Objection => ({
      id,
      subject: ADULT.id,
      record: "court:A",
      statement: "not me",
      evidenceRef: null,
      filedAt: 100,
      dueAt: 1_000,
      state: "open",
      decidedAt: null,
      decidedBy: null,
      reasons: null,
      outcome: null,
      ...over,
    });

    it("files, replaces by id, queues and counts objections, and gives the evaluator the open ones", () =>
      run(async (store) => {
        await store.putObjection(objection("o1"));
        await store.putObjection(objection("o2", { dueAt: 2_000 }));
        await store.putObjection(objection("o3", { subject: OTHER.id, state: "dismissed", decidedAt: 400, decidedBy: "r", reasons: "no" }));
        expect((await store.objections({ state: "open", limit: 10 })).map((o) => o.id)).toEqual(["o1", "o2"]);
        expect((await store.objections({ overdueAt: 1_500, limit: 10 })).map((o) => o.id)).toEqual(["o1"]);
        expect((await store.objections({ subject: OTHER.id, limit: 10 })).map((o) => o.id)).toEqual(["o3"]);
        expect((await store.objections({ after: "o1", limit: 1 })).map((o) => o.id)).toEqual(["o2"]);
        expect([...(await store.caseFactsOf(ADULT.id)).disputed]).toEqual(["court:A"]);
        await store.putObjection(objection("o1", { state: "upheld", decidedAt: 700, decidedBy: "r", reasons: "yes", outcome: "retracted" }));
        expect(await store.getObjection("o1")).toEqual(objection("o1", { state: "upheld", decidedAt: 700, decidedBy: "r", reasons: "yes", outcome: "retracted" }));
        expect(await store.getObjection("nope")).toBeUndefined();
        expect(await store.objectionStatistics(1_500)).toEqual({ open: 1, overdue: 0, upheld: 1, dismissed: 1, decisionTimes: [300, 600] });
      }));

    it("keeps restoration requests and gives the evaluator the granted ones", () =>
      run(async (store) => {
        const r: Restoration = { id: "r1", subject: ADULT.id, list: "blacklist", commitment: "pay", statement: null, requestedAt: 10, state: "pending", decidedAt: null, decidedBy: null, reasons: null, legalBasis: "x" };
        await store.putRestoration(r);
        expect((await store.caseFactsOf(ADULT.id)).restorations).toEqual([]);
        await store.putRestoration({ ...r, state: "granted", decidedAt: 20, decidedBy: "rev", reasons: "paid" });
        expect(await store.getRestoration("r1")).toMatchObject({ state: "granted", decidedAt: 20 });
        expect((await store.restorations({ state: "granted", limit: 10 })).map((x) => x.id)).toEqual(["r1"]);
        expect((await store.caseFactsOf(ADULT.id)).restorations).toEqual([{ id: "r1", list: "blacklist", at: 20, legalBasis: "x" }]);
      }));
  });

  describe("audit log, checkpoints and keys", () => {
    const draft = (i: number, subject: string | null = ADULT.id, actor = "cli:test", detail: Record<string, unknown> = { i }): AuditDraft => ({ actor, action: "check", subject, decisionId: `d${i}`, at: i, detail });

    it("chains concurrent appends into one unbroken log and finds entries by subject, actor and batch subjects", () =>
      run(async (store) => {
        // Twenty transactions at once, each appending three entries after some other work.
        await Promise.all(
          Array.from({ length: 20 }, (_, t) =>
            store.transaction(async (tx) => {
              await tx.getMeasures(ADULT.id);
              await tx.appendAudit([draft(t * 3), draft(t * 3 + 1, OTHER.id, "key:k2"), draft(t * 3 + 2, null, "key:k3", { subjects: [OTHER.id, "x"] })]);
            }),
          ),
        );
        const all = await store.auditEntries({ limit: 1000 });
        expect(all).toHaveLength(60);
        const v = new ChainVerifier();
        for (const e of all) expect(v.push(e)).toBeUndefined();
        expect(await store.auditHead()).toEqual({ seq: 60, hash: all[59]?.hash });
        expect(await store.auditEntries({ subject: ADULT.id, limit: 100 })).toHaveLength(20);
        expect(await store.auditEntries({ subject: OTHER.id, limit: 100 })).toHaveLength(40);
        expect(await store.auditEntries({ actor: "key:k3", limit: 100 })).toHaveLength(20);
        expect(await store.auditEntries({ actor: "key:k3", action: "nothing", limit: 100 })).toHaveLength(0);
        const page = await store.auditEntries({ subject: OTHER.id, afterSeq: 30, limit: 5 });
        expect(page.map((e) => e.seq)).toEqual(all.filter((e) => e.seq > 30 && (e.subject === OTHER.id || e.subject === null)).slice(0, 5).map((e) => e.seq));
        // A failed transaction leaves no entry and no gap.
        await expect(
          store.transaction(async (tx) => {
            await tx.appendAudit([draft(99)]);
            throw new Error("changed my mind");
          }),
        ).rejects.toThrow("changed my mind");
        const [next] = await store.appendAudit([draft(100)]);
        expect(next?.seq).toBe(61);
        expect(next?.prev).toBe(all[59]?.hash);
        // Quotes, backslashes, dollar quotes and line breaks in any field come back as they went in, and the chain still verifies.
        const odd = draft(101, "x'y", "cli:o'brien\\", { note: "it's \\ a\nb \\' é 中", n: [1, null, "'"], dollars: "$q$ $$ $a$'\\" });
        await store.transaction((tx) => tx.appendAudit([odd]));
        const [back] = await store.auditEntries({ afterSeq: 61, limit: 10 });
        expect(back).toMatchObject({ ...odd, seq: 62 });
        const again = new ChainVerifier();
        for (const e of await store.auditEntries({ limit: 1000 })) expect(again.push(e)).toBeUndefined();
      }));

    it("an append that chained after a transaction which then failed is chained again, leaving no gap", () =>
      run(async (store) => {
        await store.appendAudit([draft(1)]);
        for (let round = 0; round < 3; round++) {
          let appended!: () => void;
          let fail!: () => void;
          const inA = new Promise<void>((resolve) => (appended = resolve));
          const failA = new Promise<void>((resolve) => (fail = resolve));
          const a = store.transaction(async (tx) => {
            await tx.appendAudit([draft(10 + round)]);
            appended();
            await failA;
            throw new Error("A changed its mind");
          });
          await inA;
          // B starts while A's entry is pending, then A fails.
          const b = store.transaction((tx) => tx.appendAudit([draft(20 + round, OTHER.id)]));
          await new Promise((resolve) => setTimeout(resolve, 20));
          fail();
          await expect(a).rejects.toThrow("A changed its mind");
          await b;
        }
        const all = await store.auditEntries({ limit: 100 });
        expect(all.map((e) => [e.seq, e.decisionId])).toEqual([[1, "d1"], [2, "d20"], [3, "d21"], [4, "d22"]]);
        const v = new ChainVerifier();
        for (const e of all) expect(v.push(e)).toBeUndefined();
      }));

    it("keeps checkpoints, replacing one at the same position, and API keys with their revocation", () =>
      run(async (store) => {
        await store.putCheckpoint({ seq: 2, hash: "h2", at: 20, signature: "s" });
        await store.putCheckpoint({ seq: 1, hash: "h1", at: 10, signature: "s" });
        await store.putCheckpoint({ seq: 2, hash: "h2", at: 21, signature: "t" });
        expect(await store.checkpoints()).toEqual([{ seq: 1, hash: "h1", at: 10, signature: "s" }, { seq: 2, hash: "h2", at: 21, signature: "t" }]);
        const key = { id: "k1", role: "enforcer" as const, source: null, measures: ["flight-ban"], subject: null, label: "airline", secretHash: "x", createdAt: 5, createdBy: "cli:root", revokedAt: null };
        await store.putKey(key);
        await store.putKey({ ...key, id: "k0", createdAt: 6, measures: null });
        expect(await store.getKey("k1")).toEqual(key);
        expect((await store.listKeys()).map((k) => k.id)).toEqual(["k1", "k0"]);
        expect(await store.revokeKey("k1", 9)).toBe(true);
        expect(await store.revokeKey("k1", 10)).toBe(false);
        expect(await store.revokeKey("nope", 10)).toBe(false);
        expect((await store.getKey("k1"))?.revokedAt).toBe(9);
      }));
  });

  describe("concurrency", () => {
    const people = Array.from({ length: 40 }, (_, i) => ({ ...ADULT, id: `11010519850612${String(1000 + i).slice(1)}X` }));
    const records = people.flatMap((p, i) => Array.from({ length: 5 }, (_, k) => fact(`c${i}-${k}`, p, T0 + k * DAY)));

    async function statusesOf(store: Store): Promise<unknown[]> {
      return Promise.all(people.map(async (p) => (await store.getStatus(p.id)) ?? null));
    }

    it("two importers at once of overlapping files: no lost or doubled record, statuses equal to a clean rescore", () =>
      run(async (store) => {
        const forward = records.map((r) => submit(r));
        const backward = [...forward].reverse();
        const batches = (ops: RecordOp[]) => Array.from({ length: Math.ceil(ops.length / 25) }, (_, i) => ops.slice(i * 25, i * 25 + 25));
        const importer = async (ops: RecordOp[]) => {
          const kinds: string[] = [];
          for (const b of batches(ops)) kinds.push(...(await store.writeRecords(b, evaluator(), 1)).map((o) => o.kind));
          return kinds;
        };
        const [a, b] = await Promise.all([importer(forward), importer(backward)]);
        // Each record accepted by exactly one of them, a duplicate for the other.
        expect([...a, ...b].filter((k) => k === "accepted")).toHaveLength(records.length);
        expect([...a, ...b].filter((k) => k === "duplicate")).toHaveLength(records.length);
        expect(await store.counts()).toEqual({ subjects: people.length, records: records.length, retracted: 0 });
        const imported = await statusesOf(store);
        expect(imported.every((s) => (s as { status: { score: number } } | null)?.status.score === 5)).toBe(true);
        await store.refreshStatuses(people.map((p) => p.id), evaluator());
        expect(await statusesOf(store)).toEqual(imported);
        expect(await store.listSizes(T0 + DAY)).toEqual(new Map([["blacklist", people.length]]));
        expect((await store.notices({ limit: 1000 })).filter((n) => n.kind === "list-entry")).toHaveLength(people.length);
      }));

    it("an importer and a rescore at once: the statuses are those of a clean rescore afterwards", () =>
      run(async (store) => {
        const half = records.length / 2;
        await store.writeRecords(records.slice(0, half).map((r) => submit(r)), evaluator(), 1);
        const importer = (async () => {
          for (let i = half; i < records.length; i += 10) await store.writeRecords(records.slice(i, i + 10).map((r) => submit(r)), evaluator(), 2);
        })();
        const rescorer = (async () => {
          for (let round = 0; round < 5; round++) await store.refreshStatuses(people.map((p) => p.id), evaluator());
        })();
        await Promise.all([importer, rescorer]);
        const after = await statusesOf(store);
        expect(after.every((s) => (s as { status: { score: number } } | null)?.status.score === 5)).toBe(true);
        await store.refreshStatuses(people.map((p) => p.id), evaluator());
        expect(await statusesOf(store)).toEqual(after);
        expect(await store.counts()).toEqual({ subjects: people.length, records: records.length, retracted: 0 });
      }));

    it("two processes appending to the audit log at once, each after heads the other moved: one unbroken chain", async () => {
      const where = await backend.location();
      const [one, two] = [openStore(where), openStore(where)];
      const draft = (i: number, subject: string, actor: string): AuditDraft => ({ actor, action: "check", subject, decisionId: `d${i}`, at: i, detail: { i } });
      try {
        // Rounds of concurrent transactions from both, so that each often chains after a head the other has moved since.
        for (let round = 0; round < 6; round++) {
          await Promise.all(
            [one, two].flatMap((store, k) =>
              Array.from({ length: 4 }, (_, t) => store.transaction((tx) => tx.appendAudit([draft(round * 100 + k * 10 + t, ADULT.id, `key:p${k}`)]))),
            ),
          );
          await one.appendAudit([draft(round * 100 + 50, OTHER.id, "key:p0")]);
          await two.appendAudit([draft(round * 100 + 60, OTHER.id, "key:p1")]);
        }
        const all = await one.auditEntries({ limit: 1000 });
        expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 6 * 10 }, (_, i) => i + 1));
        const v = new ChainVerifier();
        for (const e of all) expect(v.push(e)).toBeUndefined();
        expect(await two.auditHead()).toEqual({ seq: 60, hash: all[59]?.hash });
        expect(await one.auditEntries({ actor: "key:p1", limit: 1000 })).toHaveLength(30);
      } finally {
        await Promise.all([one.close(), two.close()]);
      }
    });

    it("a second process sees another's changes, and its remembered measures follow them", async () => {
      const where = await backend.location();
      const [one, two] = [openStore(where), openStore(where)];
      try {
        await one.writeRecords([submit(fact("A", ADULT))], evaluator(), 1);
        // Remembered by the second process now.
        expect((await two.getMeasures(ADULT.id))?.measures).toHaveLength(1);
        expect((await two.getMeasures(ADULT.id))?.measures).toHaveLength(1);
        await one.writeRecords([retract("A")], evaluator(), 2);
        // The notification of the commit travels to the second process: it must not answer from memory afterwards.
        await expect.poll(() => two.getMeasures(ADULT.id), { timeout: 2000 }).toBeUndefined();
        await one.writeRecords([submit(fact("B", ADULT))], evaluator(), 3);
        await expect.poll(async () => (await two.getMeasures(ADULT.id))?.measures.length, { timeout: 2000 }).toBe(1);
      } finally {
        await Promise.all([one.close(), two.close()]);
      }
    });
  });
});
