// SHA-256 of text as lower-case hex: how records, audit entries, list entries, rulebooks and keys are fingerprinted.
import { hash } from "node:crypto";

/**
 * The SHA-256 of a string's UTF-8 bytes, in hex. Node's one-shot hash, about twice as fast as a Hash object for the
 * short texts hashed once per record and per audit entry.
 */
export const sha256 = (text: string): string => hash("sha256", text, "hex");
