// Rule conditions in CEL: compiling them once, running them on a record, and listing what they refer to.
import { celEnv, isCelError, mapType, parse, plan, CelScalar } from "@bufbuild/cel";

/** What a condition sees: the record, the subject's kind and age. Nothing else exists to condition on. */
export interface CelInput {
  record: {
    source: string;
    category: string;
    occurredAt: string;
    attributes: Record<string, unknown>;
  };
  subject: { kind: string; age: number };
}

type Expr = ReturnType<typeof parse>["expr"];

export const RECORD_FIELDS = ["source", "category", "occurredAt", "attributes"] as const;
// No region: the region code of a resident ID tells where a person was first registered, a proxy for
// origin and ethnicity; jurisdiction layers already apply rules by region.
export const SUBJECT_FIELDS = ["kind", "age"] as const;

const env = celEnv({
  variables: {
    record: mapType(CelScalar.STRING, CelScalar.DYN),
    subject: mapType(CelScalar.STRING, CelScalar.DYN),
  },
});

/** A compiled expression; `run` returns undefined where CEL reports an error (a missing attribute, a type mismatch). */
export interface CelProgram {
  text: string;
  run(input: CelInput): unknown;
}

/** What an expression refers to: field paths from its variables, string literals, functions called, and unknown names. */
export interface CelReferences {
  paths: string[][];
  strings: string[];
  unknownNames: string[];
  /** Every function and operator called, once each, by its CEL name (`matches`, `_+_`, `size`, ...). */
  functions: string[];
  /** Whether `+` joins a string literal with something: a literal built in pieces that no reader sees whole. */
  stringConcatenation: boolean;
}

/** Compiles an expression, or returns the parser's message. */
export function compileCel(text: string): { program: CelProgram; refs: CelReferences } | { error: string } {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(text);
  } catch (e) {
    return { error: `CEL syntax error in "${text}": ${(e as Error).message.replace(/^<input>:/, "at ")}` };
  }
  const run = plan(env, parsed);
  const quick = shortcut(parsed.expr);
  const program: CelProgram = {
    text,
    run(input) {
      if (quick) {
        const answer = quick(input);
        if (answer !== UNDECIDED) return answer;
      }
      const out = run(input as never);
      if (isCelError(out)) return undefined;
      // CEL integers arrive as bigint; the rest of the system counts in plain numbers.
      return typeof out === "bigint" ? Number(out) : out;
    },
  };
  const refs: CelReferences = { paths: [], strings: [], unknownNames: [], functions: [], stringConcatenation: false };
  walk(parsed.expr, new Set(), refs);
  return { program, refs };
}

/** What a shortcut returns when the input is not of the plain kind it answers for: the interpreter decides then. */
const UNDECIDED = Symbol("undecided");

const COMPARISONS: Record<string, (a: number, b: number) => boolean> = {
  "_==_": (a, b) => a === b,
  "_!=_": (a, b) => a !== b,
  "_<_": (a, b) => a < b,
  "_<=_": (a, b) => a <= b,
  "_>_": (a, b) => a > b,
  "_>=_": (a, b) => a >= b,
};

/**
 * Plain JavaScript for the two shapes nearly every rule uses, `record.attributes.x` and `record.attributes.x OP
 * number`, answering only when the attribute is a string, boolean or finite number, where CEL's result is plain;
 * anything else (a missing attribute, another type, another shape) goes to the interpreter. Rules run once per record
 * in every evaluation, and the interpreter's conversions of the input cost several times the comparison. A property
 * test holds the two to the same answers.
 */
function shortcut(expr: Expr): ((input: CelInput) => unknown) | undefined {
  const attribute = (e: Expr | undefined): string | undefined => {
    // has(record.attributes.x) is a select marked test-only: it asks whether the attribute is there, a boolean.
    if (e?.exprKind.case === "selectExpr" && e.exprKind.value.testOnly) return undefined;
    const path = e && selectPath(e);
    return path?.length === 3 && path[0] === "record" && path[1] === "attributes" ? path[2] : undefined;
  };
  const plain = (v: unknown) => typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));
  const whole = attribute(expr);
  if (whole !== undefined) {
    return (input) => {
      const v = Object.hasOwn(input.record.attributes, whole) ? input.record.attributes[whole] : undefined;
      return plain(v) ? v : UNDECIDED;
    };
  }
  const k = expr.exprKind;
  if (k.case !== "callExpr" || k.value.target || k.value.args.length !== 2) return undefined;
  const compare = COMPARISONS[k.value.function];
  const name = attribute(k.value.args[0]);
  const literal = k.value.args[1]?.exprKind;
  if (!compare || name === undefined || literal?.case !== "constExpr") return undefined;
  const c = literal.value.constantKind;
  const bound = c.case === "int64Value" || c.case === "uint64Value" ? Number(c.value) : c.case === "doubleValue" ? c.value : undefined;
  // Integers beyond 2^53 would compare rounded in JavaScript.
  if (bound === undefined || !Number.isSafeInteger(Math.trunc(bound))) return undefined;
  return (input) => {
    const v = Object.hasOwn(input.record.attributes, name) ? input.record.attributes[name] : undefined;
    return typeof v === "number" && Number.isFinite(v) ? compare(v, bound) : UNDECIDED;
  };
}

function walk(expr: Expr | undefined, bound: Set<string>, refs: CelReferences): void {
  if (!expr) return;
  const k = expr.exprKind;
  switch (k.case) {
    case "identExpr":
      if (!bound.has(k.value.name) && k.value.name !== "record" && k.value.name !== "subject") {
        refs.unknownNames.push(k.value.name);
      }
      return;
    case "selectExpr": {
      const path = selectPath(expr);
      if (path && !bound.has(path[0] as string)) refs.paths.push(path);
      else walk(k.value.operand, bound, refs);
      return;
    }
    case "callExpr": {
      // record.attributes["x"] is the index operator; read it as a field path too.
      if (k.value.function === "_[_]") {
        const path = selectPath(expr);
        if (path && !bound.has(path[0] as string)) {
          refs.paths.push(path);
          return;
        }
      }
      if (!refs.functions.includes(k.value.function)) refs.functions.push(k.value.function);
      if (k.value.function === "_+_" && k.value.args.some(isStringLiteral)) refs.stringConcatenation = true;
      walk(k.value.target, bound, refs);
      for (const a of k.value.args) walk(a, bound, refs);
      return;
    }
    case "listExpr":
      for (const e of k.value.elements) walk(e, bound, refs);
      return;
    case "structExpr":
      for (const entry of k.value.entries) {
        if (entry.keyKind.case === "mapKey") walk(entry.keyKind.value, bound, refs);
        walk(entry.value, bound, refs);
      }
      return;
    case "comprehensionExpr": {
      const c = k.value;
      walk(c.iterRange, bound, refs);
      const inner = new Set(bound);
      inner.add(c.iterVar);
      if (c.iterVar2) inner.add(c.iterVar2);
      inner.add(c.accuVar);
      walk(c.accuInit, inner, refs);
      walk(c.loopCondition, inner, refs);
      walk(c.loopStep, inner, refs);
      walk(c.result, inner, refs);
      return;
    }
    case "constExpr":
      if (k.value.constantKind.case === "stringValue") refs.strings.push(k.value.constantKind.value);
      return;
    default:
      return;
  }
}

function isStringLiteral(expr: Expr): boolean {
  const k = expr.exprKind;
  return k.case === "constExpr" && k.value.constantKind.case === "stringValue";
}

/** The chain ident.field.field (or ident["field"]) an expression selects, if it is one. */
function selectPath(expr: Expr): string[] | undefined {
  const k = expr.exprKind;
  if (k.case === "identExpr") return [k.value.name];
  if (k.case === "selectExpr") {
    const base = k.value.operand ? selectPath(k.value.operand) : undefined;
    return base ? [...base, k.value.field] : undefined;
  }
  if (k.case === "callExpr" && k.value.function === "_[_]" && k.value.args.length === 2) {
    const [operand, index] = k.value.args;
    const base = operand ? selectPath(operand) : undefined;
    const ik = index?.exprKind;
    if (base && ik?.case === "constExpr" && ik.value.constantKind.case === "stringValue") {
      return [...base, ik.value.constantKind.value];
    }
  }
  return undefined;
}
