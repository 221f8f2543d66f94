// The row a status is stored as, on both backends, and the comparisons that let a refresh skip what did not change.
import type { Evaluation } from "../core/evaluate.js";
import type { StatusRow, StatusSummary } from "./store.js";

/** A statuses row as stored: the summary as JSON, and the measures (what a check reads) in a column of their own. */
export interface StoredStatus {
  body: string;
  measures: string;
  valid_from: number | null;
  valid_until: number | null;
}

/** A row as written, with the columns that are kept for queries. */
export type StatusWrite = StoredStatus & { subject: string; score: number; grade: string | null; ruleset_hash: string };

/**
 * The row of an evaluation. The explanation (effects, excluded records) is most of a status's size and is re-derived
 * on read: not stored. The body does not repeat the measures, and ends with the ruleset and the instant of
 * evaluation, so that sameStatus and sameContent can compare what comes before them.
 */
export function storedStatus(subject: string, e: Evaluation): StatusWrite {
  const st = e.status;
  // Spelled out rather than spread: a literal of fixed shape serialises several times faster, and the type still
  // insists on every field of the summary.
  const body: Omit<StatusSummary, "measures"> = {
    subject: st.subject,
    kind: st.kind,
    region: st.region,
    jurisdiction: st.jurisdiction,
    minor: st.minor,
    score: st.score,
    grade: st.grade,
    lists: st.lists,
    awaitingSignOff: st.awaitingSignOff,
    nextChangeAt: st.nextChangeAt,
    rulesetHash: st.rulesetHash,
    at: st.at,
  };
  return {
    subject,
    score: st.score,
    grade: st.grade,
    ruleset_hash: st.rulesetHash,
    valid_from: e.validFrom,
    valid_until: e.validUntil,
    body: JSON.stringify(body),
    measures: JSON.stringify(st.measures),
  };
}

const beforeInstant = (body: string) => body.slice(0, body.lastIndexOf(',"at":'));
const beforeRuleset = (body: string) => body.slice(0, body.lastIndexOf(',"rulesetHash":'));

/** True when two rows hold the same status but perhaps for the instant it was evaluated at. */
export function sameStatus(a: StoredStatus, b: StoredStatus): boolean {
  return a.measures === b.measures && a.valid_from === b.valid_from && a.valid_until === b.valid_until && (a.body === b.body || beforeInstant(a.body) === beforeInstant(b.body));
}

/**
 * True when two rows say the same of the subject (score, grade, lists, measures, sign-offs awaited) whatever the
 * ruleset, instant and validity: then no notice, list membership or sign-off request follows from the change.
 */
export function sameContent(a: StoredStatus, b: StoredStatus): boolean {
  return a.measures === b.measures && beforeRuleset(a.body) === beforeRuleset(b.body);
}

/** The status a row holds. */
export function statusOfRow(subject: string, row: StoredStatus): StatusRow {
  const status = { ...(JSON.parse(row.body) as Omit<StatusRow["status"], "measures">), measures: JSON.parse(row.measures) as StatusRow["status"]["measures"] };
  return { subject, status, validFrom: row.valid_from, validUntil: row.valid_until };
}
