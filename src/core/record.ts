// A record as the core sees it: one fact one source reported about one subject.
import type { Instant } from "./time.js";

/** One current, unretracted record; corrections replace its content, keeping its id. */
export interface RecordFact {
  /** `source:externalId`, unique and stable. */
  id: string;
  source: string;
  externalId: string;
  subject: string;
  category: string;
  occurredAt: Instant;
  attributes: Record<string, unknown>;
  legalRef: string;
  evidenceRef?: string;
}

/** The id of a record: unique by (source, externalId) and readable in explanations. */
export function recordId(source: string, externalId: string): string {
  return `${source}:${externalId}`;
}
