// A citizen's right to their whole file: records with history, status with explanation, notices, reviews, and who read it.
import type { Restoration, SignOff } from "../core/due-process.js";
import type { Status } from "../core/evaluate.js";
import type { Notice } from "../core/notices.js";
import { formatInstant } from "../core/time.js";
import type { RecordRevision, StoredRecord } from "../storage/store.js";
import { accessEntries, type AccessEntry } from "./audit.js";
import type { AppContext } from "./context.js";
import { objectionView, type ObjectionView } from "./objections.js";
import { explainedStatus, newDecisionId, requireSubject, type Audited } from "./statuses.js";

/** Everything the system holds about one subject. */
export interface SubjectFile {
  subject: string;
  generatedAt: string;
  status: Status;
  records: (StoredRecord & { history: RecordRevision[] })[];
  notices: Notice[];
  objections: ObjectionView[];
  restorations: Restoration[];
  signOffs: SignOff[];
  accessLog: AccessEntry[];
}

const PAGE = 1000;

/** Pages through a sequence-numbered read until it runs dry. */
async function all<T>(read: (after: number) => Promise<T[]>, seqOf: (t: T) => number): Promise<T[]> {
  const out: T[] = [];
  let after = 0;
  for (;;) {
    const page = await read(after);
    out.push(...page);
    if (page.length < PAGE) return out;
    after = seqOf(page[page.length - 1] as T);
  }
}

/** The whole file of a subject, in one consistent read, audited as such. */
export async function downloadFile(ctx: AppContext, actor: string, rawSubject: string): Promise<Audited<{ file: SubjectFile }>> {
  const ruleset = await ctx.requireRuleset();
  const subject = requireSubject(rawSubject);
  const at = ctx.clock.now();
  const decisionId = newDecisionId();
  const file = await ctx.store.transaction(async (tx) => {
    const stored = await tx.recordsOf(subject.id);
    const records = [];
    for (const r of stored) records.push({ ...r, history: await tx.recordHistory(r.id) });
    const status = await explainedStatus(tx, ruleset, subject, at, stored);
    const f: SubjectFile = {
      subject: subject.id,
      generatedAt: formatInstant(at),
      status,
      records,
      notices: await all((after) => tx.notices({ subject: subject.id, afterSeq: after, limit: PAGE }), (n) => n.seq),
      objections: (await tx.objections({ subject: subject.id, limit: 100_000 })).map((o) => objectionView(o, at)),
      restorations: await tx.restorations({ subject: subject.id, limit: 100_000 }),
      signOffs: await tx.signOffs({ subject: subject.id, limit: 100_000 }),
      accessLog: await all((after) => accessEntries(tx, subject.id, after, PAGE), (e) => e.seq),
    };
    await tx.appendAudit([{ actor, action: "subject.file.download", subject: subject.id, decisionId, at, detail: { records: records.length, notices: f.notices.length } }]);
    return f;
  });
  return { file, decisionId };
}
