// The audit chain's promise: any edit, deletion or reordering of an entry is reported, at the entry where it happened.
import canonicalize from "canonicalize";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalEntry, chain, ChainVerifier, checkpointPayload, entryHash, GENESIS_HASH, type AuditDraft, type AuditEntry, type ChainBreak } from "../../src/core/audit.js";

const draftArb: fc.Arbitrary<AuditDraft> = fc.record({
  actor: fc.string({ maxLength: 12 }),
  action: fc.string({ maxLength: 12 }),
  subject: fc.option(fc.string({ maxLength: 18 }), { nil: null }),
  decisionId: fc.string({ maxLength: 36 }),
  at: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  detail: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
});

const draftsArb = (minLength: number) => fc.array(draftArb, { minLength, maxLength: 12 });

/** Feeds entries in order and returns the first break, as verifyAudit does. */
function firstBreak(entries: readonly AuditEntry[], remember: ReadonlySet<number> = new Set()): { broken?: ChainBreak; verifier: ChainVerifier } {
  const verifier = new ChainVerifier(remember);
  for (const e of entries) {
    const broken = verifier.push(e);
    if (broken) return { broken, verifier };
  }
  return { verifier };
}

type Field = "actor" | "action" | "subject" | "detail" | "at" | "decisionId";

/** A change to one field that is a real change in canonical JSON (-0 and 0, or undefined members, would not be). */
function tampered(e: AuditEntry, field: Field, junk: { text: string; n: number; value: fc.JsonValue }): AuditEntry {
  switch (field) {
    case "actor":
    case "action":
    case "decisionId":
      return { ...e, [field]: e[field] + "·" + junk.text };
    case "subject":
      return { ...e, subject: e.subject === null ? junk.text : null };
    case "at":
      return { ...e, at: e.at + 1 + junk.n };
    case "detail":
      return { ...e, detail: { ...e.detail, ["tamper·" + junk.text]: junk.value ?? 0 } };
  }
}

/** The same JSON value with the keys of every object in reverse order. */
function reorder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reorder);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reorder(x)]));
  return v;
}

describe("chain", () => {
  it("numbers entries from 1, links the first to the genesis hash, and any chain of drafts verifies", () => {
    fc.assert(
      fc.property(draftsArb(0), (drafts) => {
        const entries = chain(drafts, undefined);
        expect(entries.map((e) => e.seq)).toEqual(drafts.map((_, i) => i + 1));
        if (entries[0]) expect(entries[0].prev).toBe(GENESIS_HASH);
        const { broken, verifier } = firstBreak(entries);
        expect(broken).toBeUndefined();
        expect(verifier.length).toBe(drafts.length);
      }),
    );
  });

  it("appending in batches after the head gives the same chain as appending all at once", () => {
    // The store chains each transaction's drafts after the current head: batches must not change the hashes.
    fc.assert(
      fc.property(draftsArb(0), draftsArb(0), (first, second) => {
        const a = chain(first, undefined);
        const last = a.at(-1);
        const b = chain(second, last ? { seq: last.seq, hash: last.hash } : undefined);
        expect([...a, ...b]).toEqual(chain([...first, ...second], undefined));
      }),
    );
  });
});

describe("ChainVerifier", () => {
  const fieldArb = fc.constantFrom<Field>("actor", "action", "subject", "detail", "at", "decisionId");
  const junkArb = fc.record({ text: fc.string({ maxLength: 4 }), n: fc.nat(1000), value: fc.jsonValue({ maxDepth: 1 }) });

  it("reports exactly the entry whose actor, action, subject, detail, at or decisionId was changed", () => {
    fc.assert(
      fc.property(draftsArb(1), fc.nat(), fieldArb, junkArb, (drafts, pick, field, junk) => {
        const entries = chain(drafts, undefined);
        const i = pick % entries.length;
        const edited = [...entries];
        edited[i] = tampered(entries[i] as AuditEntry, field, junk);
        const { broken } = firstBreak(edited);
        expect(broken?.seq).toBe(i + 1);
        expect(broken?.reason).toMatch(/edited/);
      }),
    );
  });

  it("an edited entry whose hash was recomputed is still caught, at the entry after it", () => {
    // A forger who re-hashes the entry they changed cannot re-link its successor without rewriting the rest of the log.
    fc.assert(
      fc.property(draftsArb(2), fc.nat(), fieldArb, junkArb, (drafts, pick, field, junk) => {
        const entries = chain(drafts, undefined);
        const i = pick % (entries.length - 1);
        const { hash: _h, ...rest } = tampered(entries[i] as AuditEntry, field, junk);
        const edited = [...entries];
        edited[i] = { ...rest, hash: entryHash(rest) };
        expect(firstBreak(edited).broken?.seq).toBe(i + 2);
      }),
    );
  });

  it("reports a deleted entry by its missing sequence number", () => {
    // The last entry has no successor to miss it: that is what checkpoints are for (tested below).
    fc.assert(
      fc.property(draftsArb(2), fc.nat(), (drafts, pick) => {
        const entries = chain(drafts, undefined);
        const i = pick % (entries.length - 1);
        const { broken } = firstBreak(entries.filter((_, j) => j !== i));
        expect(broken?.seq).toBe(i + 1);
        expect(broken?.reason).toMatch(new RegExp(`entry ${i + 1} is missing`));
      }),
    );
  });

  it("reports two swapped adjacent entries at the first swapped position, whether their seqs moved with them or not", () => {
    fc.assert(
      fc.property(draftsArb(2), fc.nat(), fc.boolean(), (drafts, pick, keepSeq) => {
        const entries = chain(drafts, undefined);
        const i = pick % (entries.length - 1);
        const a = entries[i] as AuditEntry;
        const b = entries[i + 1] as AuditEntry;
        const swapped = [...entries];
        // keepSeq: rows exchanged their seq column (what an UPDATE does); otherwise the rows are simply out of order.
        swapped[i] = keepSeq ? { ...b, seq: a.seq } : b;
        swapped[i + 1] = keepSeq ? { ...a, seq: b.seq } : a;
        expect(firstBreak(swapped).broken?.seq).toBe(i + 1);
      }),
    );
  });

  it("remembers the verified hash only at the positions asked for, which is how a checkpoint catches truncation and rewriting", () => {
    fc.assert(
      fc.property(draftsArb(2), fc.nat(), (drafts, pick) => {
        const entries = chain(drafts, undefined);
        const at = (pick % entries.length) + 1;
        const { verifier } = firstBreak(entries, new Set([at]));
        expect(verifier.hashAt(at)).toBe(entries[at - 1]?.hash);
        expect(verifier.hashAt(at === 1 ? 2 : 1)).toBeUndefined();
        // Dropping the tail down to before the checkpoint leaves nothing at its position.
        const truncated = firstBreak(entries.slice(0, at - 1), new Set([at])).verifier;
        expect(truncated.length).toBe(at - 1);
        expect(truncated.hashAt(at)).toBeUndefined();
      }),
    );
  });
});

describe("entryHash", () => {
  it("is independent of the key order of detail (canonical JSON), so a round trip through storage keeps it", () => {
    fc.assert(
      fc.property(draftArb, fc.integer({ min: 1, max: 1000 }), (draft, seq) => {
        const e = { ...draft, seq, prev: GENESIS_HASH };
        const shuffled = { ...e, detail: reorder(e.detail) as Record<string, unknown> };
        expect(entryHash(shuffled)).toBe(entryHash(e));
        expect(entryHash(JSON.parse(JSON.stringify(e)) as typeof e)).toBe(entryHash(e));
      }),
    );
  });

  it("differs when the detail differs in content", () => {
    const base = { seq: 1, prev: GENESIS_HASH, at: 0, actor: "a", action: "b", subject: null, decisionId: "d" };
    expect(entryHash({ ...base, detail: { a: 1, b: 2 } })).toBe(entryHash({ ...base, detail: { b: 2, a: 1 } }));
    expect(entryHash({ ...base, detail: { a: 1, b: 2 } })).not.toBe(entryHash({ ...base, detail: { a: 2, b: 1 } }));
    expect(entryHash({ ...base, detail: { a: [1, 2] } })).not.toBe(entryHash({ ...base, detail: { a: [2, 1] } }));
  });
});

describe("checkpointPayload", () => {
  it("covers seq, hash and at, in canonical JSON, and nothing else", () => {
    const payload = checkpointPayload({ seq: 7, hash: "ab", at: 5 });
    expect(payload.toString("utf8")).toBe(canonicalize({ at: 5, hash: "ab", seq: 7 }));
    expect(checkpointPayload({ seq: 8, hash: "ab", at: 5 }).equals(payload)).toBe(false);
  });
});

describe("canonicalEntry", () => {
  // The fast layout must give exactly the bytes of RFC 8785 as the canonicalize library writes them, or old hashes break.
  it("is byte-identical to canonicalize() of the entry's fields, whatever they hold", () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" }));
    const json: fc.Arbitrary<unknown> = fc.jsonValue();
    fc.assert(
      fc.property(
        fc.record({
          seq: fc.oneof(fc.nat(), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
          prev: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), text),
          at: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
          actor: text,
          action: text,
          subject: fc.option(text, { nil: null }),
          decisionId: fc.oneof(fc.uuid(), text),
          detail: fc.dictionary(fc.string(), json),
        }),
        (e) => {
          let expected: string | undefined;
          try {
            expected = canonicalize({ seq: e.seq, prev: e.prev, at: e.at, actor: e.actor, action: e.action, subject: e.subject, decisionId: e.decisionId, detail: e.detail });
          } catch {
            expected = undefined;
          }
          if (expected === undefined) expect(() => canonicalEntry(e)).toThrow();
          else expect(canonicalEntry(e)).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
