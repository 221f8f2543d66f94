// Masking of subject IDs for anything shown beyond the subject's own file: what-if reports, public lists, open data.
import { parseSubjectId } from "./subject-id.js";

/** How many characters a masked person ID keeps at each end. */
export const MASK_KEEP = 4;

/** The character that stands for a hidden one. */
export const MASK_CHAR = "*";

const RESIDENT_ID_SHAPE = /^\d{17}[\dXx]$/;

/**
 * A subject ID as it may be shown in reports and public lists.
 *
 * - A resident ID (a person) keeps its first 4 and last 4 characters and hides the 10 between them:
 *   `110105198506120034` becomes `1101**********0034`. The first four digits name the province and city, and
 *   the last four the sequence and check character: enough to tell entries apart and for the person to
 *   recognise their own, never the district, the birth date or the whole number.
 * - A unified social credit code (an enterprise) is not personal data: enterprises are published whole.
 * - Anything else (a malformed ID, an old 15-digit resident ID) is treated as personal: it keeps 4 characters at
 *   each end only when at least 8 would still be hidden, and is hidden whole otherwise.
 *
 * Pure: the same text always masks the same way. Characters are counted as code points, as a person sees them.
 */
export function maskSubjectId(id: string): string {
  if (RESIDENT_ID_SHAPE.test(id)) return keepEnds(Array.from(id.toUpperCase()));
  const parsed = parseSubjectId(id);
  if (parsed.ok && parsed.subject.kind === "enterprise") return parsed.subject.id;
  return keepEnds(Array.from(id));
}

function keepEnds(chars: readonly string[]): string {
  const hidden = chars.length - 2 * MASK_KEEP;
  if (hidden < 8) return MASK_CHAR.repeat(chars.length);
  return chars.slice(0, MASK_KEEP).join("") + MASK_CHAR.repeat(hidden) + chars.slice(-MASK_KEEP).join("");
}

/**
 * The valid resident IDs written out in full anywhere in a text: a guard for reports and publications, which must
 * hold none. Digits that merely look like an ID but fail its checksum or date are not counted.
 */
export function unmaskedResidentIds(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(/(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/g)) {
    if (parseSubjectId(m[0]).ok) found.add(m[0].toUpperCase());
  }
  return [...found];
}
