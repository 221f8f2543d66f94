// Reads one rulebook layer from YAML text, keeping where each value stands so that problems name file, line and item.
import { LineCounter, isMap, isSeq, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { rulebookLayerSchema, type RulebookLayer } from "./schema.js";

/** One problem found in a rulebook, with its place. */
export interface RulebookProblem {
  file: string;
  line: number;
  column: number;
  /** The rule, list, measure or source the problem is in, e.g. "rule debtor-entry". */
  item?: string;
  message: string;
}

/** A layer as read from its file: the validated value, its text, and a way back from a path to a line. */
export interface ParsedLayer {
  file: string;
  text: string;
  layer: RulebookLayer;
  /** Builds a problem located at the value under `path` (or the nearest existing parent). */
  problemAt(path: readonly (string | number)[], message: string): RulebookProblem;
}

/** Formats a problem the way compilers do: file:line:column: item: message. */
export function formatProblem(p: RulebookProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.item ? `${p.item}: ` : ""}${p.message}`;
}

const ITEM_KINDS: Record<string, string> = {
  rules: "rule",
  lists: "list",
  measures: "measure",
  sources: "source",
  grades: "grade",
};

/** Parses and validates one layer; returns the layer or the problems that keep it from loading. */
export function parseLayer(file: string, text: string): { parsed?: ParsedLayer; problems: RulebookProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const raw: unknown = doc.toJS();

  const problemAt = (path: readonly (string | number)[], message: string): RulebookProblem => {
    const offset = offsetOf(doc, path);
    const pos = lineCounter.linePos(offset);
    const item = itemName(raw, path);
    return { file, line: pos.line, column: pos.col, ...(item ? { item } : {}), message };
  };

  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { file, line: pos.line, column: pos.col, message: `YAML: ${e.message.split("\n")[0]}` };
      }),
    };
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return { problems: [{ file, line: 1, column: 1, message: "a rulebook layer is a YAML mapping with id, title, version, ..." }] };
  }

  const result = rulebookLayerSchema.safeParse(raw);
  if (!result.success) {
    return { problems: result.error.issues.map((issue) => problemAt(issuePath(issue), describeIssue(issue))) };
  }
  return { parsed: { file, text, layer: result.data, problemAt }, problems: [] };
}

function issuePath(issue: z.core.$ZodIssue): (string | number)[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  // For an unknown key, point at the key itself rather than at the object holding it.
  if (issue.code === "unrecognized_keys" && issue.keys.length > 0) return [...path, issue.keys[0] as string];
  return path;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length > 0 ? issue.path.map(String).join(".") : "(document)";
  if (issue.code === "unrecognized_keys") {
    return `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'`).join(", ")} in ${field}`;
  }
  if (issue.code === "invalid_value") return `${field}: ${issue.message}`;
  return issue.message.startsWith("Invalid input") ? `${field}: ${issue.message}` : issue.message;
}

/** Names the enclosing rule, list, measure, source or grade of a path, by its id. */
function itemName(raw: unknown, path: readonly (string | number)[]): string | undefined {
  const [section, index] = path;
  if (typeof section !== "string" || typeof index !== "number") return undefined;
  const kind = ITEM_KINDS[section];
  if (!kind || raw === null || typeof raw !== "object") return undefined;
  const items = (raw as Record<string, unknown>)[section];
  if (!Array.isArray(items)) return undefined;
  const item: unknown = items[index];
  const itemId = item !== null && typeof item === "object" ? (item as Record<string, unknown>).id : undefined;
  return typeof itemId === "string" ? `${kind} ${itemId}` : `${kind} #${index + 1}`;
}

/** The source offset of the deepest existing node along a path; the key's offset for a missing child. */
function offsetOf(doc: Document, path: readonly (string | number)[]): number {
  let node: unknown = doc.contents;
  let offset = 0;
  for (const step of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === step);
      if (!pair) break;
      const keyRange = (pair.key as { range?: [number, number, number] }).range;
      if (keyRange) offset = keyRange[0];
      node = pair.value;
    } else if (isSeq(node) && typeof step === "number") {
      node = node.items[step];
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (!range) break;
      offset = range[0];
    } else {
      break;
    }
  }
  return offset;
}
