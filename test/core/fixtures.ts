// Shared test builders: rulesets from inline YAML or the shipped rulebooks, valid subjects, records and instants.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { recordId, type RecordFact } from "../../src/core/record.js";
import { formatProblem, parseLayer, type ParsedLayer } from "../../src/core/rulebook/load.js";
import { buildRuleset, type Ruleset } from "../../src/core/rulebook/ruleset.js";
import { creditCodeCheckChar, parseSubjectId, residentIdCheckChar, type Subject } from "../../src/core/subject-id.js";
import { parseInstant, type Instant } from "../../src/core/time.js";

/** The repository's root folder (this file is test/core/fixtures.ts). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A rulebook file as the loader sees it. */
export interface LayerText {
  file: string;
  text: string;
}

/** Parses layers (inline YAML texts, or named files) and builds the ruleset; throws with every problem, formatted, when it does not load. */
export function rulesetOf(...layers: (string | LayerText)[]): Ruleset {
  const parsed: ParsedLayer[] = [];
  const problems: string[] = [];
  layers.forEach((l, i) => {
    const { file, text } = typeof l === "string" ? { file: `inline-${i + 1}.yaml`, text: l } : l;
    const r = parseLayer(file, text);
    problems.push(...r.problems.map(formatProblem));
    if (r.parsed) parsed.push(r.parsed);
  });
  if (problems.length === 0) {
    const built = buildRuleset(parsed);
    if (built.ruleset) return built.ruleset;
    problems.push(...built.problems.map(formatProblem));
  }
  throw new Error(`test rulebook does not load:\n${problems.join("\n")}`);
}

/** The shipped rulebook files (rulebooks/*.yaml), sorted by name. */
export function shippedLayerTexts(): LayerText[] {
  const dir = join(REPO_ROOT, "rulebooks");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => ({ file: `rulebooks/${f}`, text: readFileSync(join(dir, f), "utf8") }));
}

/** The ruleset of all shipped rulebooks together. */
export function shippedRuleset(): Ruleset {
  return rulesetOf(...shippedLayerTexts());
}

/** An instant from ISO 8601 text (a bare date is midnight China Standard Time); throws on invalid text. */
export function instant(text: string): Instant {
  const t = parseInstant(text);
  if (typeof t === "string") throw new Error(t);
  return t;
}

/** ISO 8601 UTC text of a date or date-time given in the record format, as statuses write it. */
export function iso(text: string): string {
  return new Date(instant(text)).toISOString();
}

function parsedSubject(id: string): Subject {
  const r = parseSubjectId(id);
  if (!r.ok) throw new Error(`test subject ${id} is invalid: ${r.reason}`);
  return r.subject;
}

/** A person with a valid resident ID born on birthDate (YYYY-MM-DD), registered in region (6 digits); sequence is 3 digits. */
export function person(birthDate: string, region = "110105", sequence = "001"): Subject {
  const first17 = `${region}${birthDate.replaceAll("-", "")}${sequence}`;
  return parsedSubject(first17 + residentIdCheckChar(first17));
}

/** An enterprise with a valid unified social credit code in region (6 digits); serial is 9 characters of the GB 32100 alphabet. */
export function enterprise(region = "110105", serial = "MA0000001"): Subject {
  const first17 = `91${region}${serial}`;
  return parsedSubject(first17 + creditCodeCheckChar(first17));
}

/** What a test says about a record; the rest gets defaults. */
export interface RecordSpec {
  category: string;
  /** An instant, or ISO 8601 text (a bare date is midnight China Standard Time). */
  occurredAt: Instant | string;
  source?: string;
  externalId?: string;
  subject?: Subject | string;
  attributes?: Record<string, unknown>;
  legalRef?: string;
  evidenceRef?: string;
}

let nextExternalId = 1;

/** A record fact; the source defaults to the category's first word, the external id to a fresh one. */
export function record(spec: RecordSpec): RecordFact {
  const source = spec.source ?? (spec.category.split(".")[0] as string);
  const externalId = spec.externalId ?? `ext-${nextExternalId++}`;
  const subject = typeof spec.subject === "object" ? spec.subject.id : (spec.subject ?? "unspecified");
  return {
    id: recordId(source, externalId),
    source,
    externalId,
    subject,
    category: spec.category,
    occurredAt: typeof spec.occurredAt === "number" ? spec.occurredAt : instant(spec.occurredAt),
    attributes: { ...(spec.attributes ?? {}) },
    legalRef: spec.legalRef ?? "test legal reference",
    ...(spec.evidenceRef ? { evidenceRef: spec.evidenceRef } : {}),
  };
}

export const DAY_MS = 86_400_000;
