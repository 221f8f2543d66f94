// Errors that are the user's to fix, kept apart from bugs so that every adapter can report them plainly.

/** A request the system refuses, with a message that says what to change. */
export class UserError extends Error {
  constructor(
    message: string,
    /** Extra lines (such as rulebook problems) that explain the refusal. */
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = "UserError";
  }
}
