// The feed's NATS names: subjects agencies publish on, the dead-letter and receipt subjects, and the streams that keep them.

/**
 * Every name the feed uses, derived from an optional prefix so that several deployments (or test runs) can share one
 * NATS server without their streams' subjects overlapping, which JetStream refuses.
 */
export interface FeedNames {
  /** Stream of incoming records (work-queue retention: a message is removed once acknowledged). */
  recordsStream: string;
  /** Stream of dead letters: messages refused, with the reason; kept until an operator removes them. */
  deadStream: string;
  /** Stream of receipts published to the per-source receipt subjects, kept for a week for agencies that were away. */
  receiptsStream: string;
  /** The subjects agencies publish on: one token per source, `records.<source>`. */
  recordsFilter: string;
  deadFilter: string;
  receiptsFilter: string;
  /** Where a refused message of a source goes: `records.dead.<source>`. */
  dead(source: string): string;
  /** Where a source's receipts go when its message named no `Reply-To`: `receipts.<source>`. */
  receipts(source: string): string;
  /** The subject a source publishes on. */
  records(source: string): string;
  /** The source a record subject names, or undefined when the subject is not `records.<source>`. */
  sourceOf(subject: string): string | undefined;
}

/** A token usable both in a subject and in a stream name. */
const TOKEN = /^[A-Za-z0-9_-]+$/;

/** The names under a prefix ("" for the plain names documented in docs/feed.md); throws naming the prefix when it is not one token. */
export function feedNames(prefix = ""): FeedNames {
  if (prefix !== "" && !TOKEN.test(prefix)) throw new Error(`prefix ${JSON.stringify(prefix)}: must be letters, digits, '_' or '-' (one subject token)`);
  const s = prefix === "" ? "" : `${prefix}.`;
  const n = prefix === "" ? "" : `${prefix}_`;
  const recordsRoot = `${s}records.`;
  return {
    recordsStream: `${n}RECORDS`,
    deadStream: `${n}RECORDS_DEAD`,
    receiptsStream: `${n}RECEIPTS`,
    // `records.*` and `records.dead.*` never match the same subject (one token after `records.` against two), so the
    // dead letters can sit beside the records in the subject space and still be kept in a stream of their own.
    recordsFilter: `${recordsRoot}*`,
    deadFilter: `${recordsRoot}dead.*`,
    receiptsFilter: `${s}receipts.*`,
    dead: (source) => `${recordsRoot}dead.${source}`,
    receipts: (source) => `${s}receipts.${source}`,
    records: (source) => `${recordsRoot}${source}`,
    sourceOf: (subject) => {
      if (!subject.startsWith(recordsRoot)) return undefined;
      const rest = subject.slice(recordsRoot.length);
      // A subject token is never empty and holds no '.', so the rest is one token exactly when it has no dot.
      return rest !== "" && !rest.includes(".") ? rest : undefined;
    },
  };
}
