// Errors that are the user's to fix, kept apart from bugs so that every adapter can report them plainly.

/** What kind of refusal: adapters map it to an exit code or an HTTP status. */
export type RefusalKind = "invalid" | "not-found" | "forbidden" | "conflict";

/** One input problem and where it is: a JSON pointer into the request ("/checks/3/subject") or a line of NDJSON. */
export interface FieldProblem {
  pointer?: string;
  line?: number;
  detail: string;
}

/** "line 4: detail" or "/checks/3/subject: detail", for text output. */
export function describeProblem(p: FieldProblem): string {
  const where = p.line !== undefined ? `line ${p.line}` : (p.pointer ?? "");
  return where ? `${where}: ${p.detail}` : p.detail;
}

/** A request the system refuses, with a message that says what to change. */
export class UserError extends Error {
  constructor(
    message: string,
    /** Extra lines (such as rulebook problems) that explain the refusal. */
    readonly details: readonly string[] = [],
    readonly kind: RefusalKind = "invalid",
    /** The input problems, each with its place, when the refusal is about input. */
    readonly problems: readonly FieldProblem[] = [],
    /** Facts a program acts on, such as the date a refused request becomes possible; problem details carry them as members. */
    readonly facts: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "UserError";
  }
}

/** Refuses input that has problems, naming each; nothing has been done when this is thrown. */
export function invalidInput(message: string, problems: readonly FieldProblem[]): UserError {
  return new UserError(message, problems.map(describeProblem), "invalid", problems);
}
