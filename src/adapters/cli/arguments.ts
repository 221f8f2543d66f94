// Parsers for option values that several commands take, with the message commander shows when one is wrong.
import { InvalidArgumentError } from "commander";

/** A whole number from 1 to `max`. */
export const atLeastOne = (max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`must be a whole number from 1 to ${max}`);
  return n;
};
