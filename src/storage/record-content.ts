// What of a record is its content (everything but its identity), and the hash by which both backends recognise it again.
import { canonicalJson } from "../core/canonical-json.js";
import type { RecordFact } from "../core/record.js";
import { sha256 } from "../core/sha256.js";

/** A record without its identity: what a correction may change and what its history keeps. */
export type Content = Omit<RecordFact, "id" | "source" | "externalId">;

/**
 * The content of a record, with no absent optional field. Its members are listed in canonical order, so that
 * canonicalJson writes it in one call whenever the attributes are in order too (a single attribute always is).
 */
export function contentOf(r: RecordFact): Content {
  return r.evidenceRef
    ? { attributes: r.attributes, category: r.category, evidenceRef: r.evidenceRef, legalRef: r.legalRef, occurredAt: r.occurredAt, subject: r.subject }
    : { attributes: r.attributes, category: r.category, legalRef: r.legalRef, occurredAt: r.occurredAt, subject: r.subject };
}

/** Hash of a record's content in canonical JSON, so "the same record again" is recognised whatever the key order. */
export function contentHash(r: RecordFact): string {
  return sha256(canonicalJson(contentOf(r)));
}
