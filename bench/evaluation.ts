// The evaluation-core benchmark: evaluations per second in process, `evaluate(ruleset, subject, records, at)` over the
// subjects of a synthetic city that have records (the ones every write and rescore evaluates), with the shipped
// rulebooks. No store, no I/O. The issue sets no target; the baseline is a JSON round trip
// (JSON.parse(JSON.stringify(records))) of the same subjects' records, which says what a pass over the same data with
// no rules costs.
import { evaluate } from "../src/core/evaluate.js";
import { recordId, type RecordFact } from "../src/core/record.js";
import { parseSubjectId, type Subject } from "../src/core/subject-id.js";
import { parseInstant, type Instant } from "../src/core/time.js";
import { figure, summarize, type Benchmark, type BenchOptions, type Interference } from "./harness.js";
import { AT, cityOptions, citySubjects, interferenceNotes, round, shippedRuleset, timed, type CityBenchOptions } from "./import.js";

/** Each measured pass repeats the subjects until it has run this long. */
const PASS_MS = 2000;

export const evaluationBench: Benchmark = {
  name: "evaluation",
  title: "Evaluation core in process: evaluate(ruleset, subject, records, at) per subject with records",
  async run(o: BenchOptions & CityBenchOptions) {
    const { people, regions } = cityOptions(o);
    o.log(`evaluation: generating a ${regions} city of ${people.toLocaleString("en-US")} people into memory (not timed)...`);
    const ruleset = await shippedRuleset();
    const subjects: { subject: Subject; records: RecordFact[] }[] = [];
    let records = 0;
    for (const s of citySubjects(ruleset, people, regions)) {
      if (s.records.length === 0) continue;
      const parsed = parseSubjectId(s.id);
      if (!parsed.ok) throw new Error(`generated subject ${s.id}: ${parsed.reason}`);
      subjects.push({ subject: parsed.subject, records: s.records.map((r) => ({ ...r, id: recordId(r.source, r.externalId), occurredAt: parseInstant(r.occurredAt) as Instant })) });
      records += s.records.length;
    }
    let sink = 0;
    /** Evaluations (or round trips) per second over whole passes of the subjects, for about PASS_MS. */
    const pass = (one: (x: (typeof subjects)[number]) => number) => () => {
      let done = 0;
      const t0 = performance.now();
      let ms: number;
      do {
        for (const x of subjects) sink += one(x);
        done += subjects.length;
        ms = performance.now() - t0;
      } while (ms < PASS_MS);
      return (done / ms) * 1000;
    };
    const evaluatePass = pass((x) => evaluate(ruleset, x.subject, x.records, AT).status.measures.length);
    const jsonPass = pass((x) => (JSON.parse(JSON.stringify(x.records)) as unknown[]).length);
    // Warm-up, not counted: both functions optimised before they are timed.
    evaluatePass();
    jsonPass();
    const evalRates: number[] = [];
    const jsonRates: number[] = [];
    const cpu: [string, Interference | undefined][] = [];
    for (let r = 1; r <= o.rounds; r++) {
      const label = o.rounds > 1 ? ` (round ${r} of ${o.rounds})` : "";
      o.log(`evaluation: baseline, JSON round trip of each subject's records${label}...`);
      const j = await timed(jsonPass);
      jsonRates.push(j.result);
      cpu.push([`JSON run ${r}`, j.interference]);
      o.log(`evaluation: evaluate over ${subjects.length.toLocaleString("en-US")} subjects${label}...`);
      const e = await timed(evaluatePass);
      evalRates.push(e.result);
      cpu.push([`evaluate run ${r}`, e.interference]);
    }
    if (sink < 0) throw new Error("unreachable");
    const ev = summarize(evalRates).median;
    const js = summarize(jsonRates).median;
    return {
      name: "evaluation",
      title: this.title,
      figures: [
        figure("evaluations", "subjects/s", round(ev, 0), { name: "JSON.parse(JSON.stringify(records)) per subject", value: round(js, 0) }),
        figure("time per evaluation", "µs", round(1e6 / ev), { name: "JSON round trip", value: round(1e6 / js) }),
      ],
      notes: [
        ...interferenceNotes(cpu),
        `subjects: the ${subjects.length.toLocaleString("en-US")} with records of a ${regions} city of ${people.toLocaleString("en-US")} people and ${Math.round(people / 10).toLocaleString("en-US")} enterprises (seed 1, 10 years), ${round(records / subjects.length)} records each on average, at the generation instant`,
        `each figure: whole passes over the subjects for ${PASS_MS / 1000} s after one pass of each not counted; ${o.rounds} round${o.rounds === 1 ? "" : "s"} (medians)`,
      ],
      details: { people, regions, subjects: subjects.length, records, evaluationsPerS: evalRates, jsonPerS: jsonRates },
    };
  },
};
