// Errors that are the user's to fix, kept apart from bugs so that every adapter can report them plainly.

/** What kind of refusal: adapters map it to an exit code or an HTTP status. */
export type RefusalKind = "invalid" | "not-found" | "forbidden" | "conflict";

/** One input problem and where it is: a JSON pointer ("/checks/3/subject") or a line ("line 17"). */
export interface FieldProblem {
  at: string;
  detail: string;
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
  ) {
    super(message);
    this.name = "UserError";
  }
}

/** Refuses input that has problems, naming each; nothing has been done when this is thrown. */
export function invalidInput(message: string, problems: readonly FieldProblem[]): UserError {
  return new UserError(message, problems.map((p) => `${p.at}: ${p.detail}`), "invalid", problems);
}
