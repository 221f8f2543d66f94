// The characteristics a rulebook may never condition on, and how the linter recognises them in identifiers and literals.

/** Each protected characteristic with the words that name it in ids, names, enum values and condition literals. */
export const PROTECTED_CHARACTERISTICS: Readonly<Record<string, readonly string[]>> = {
  "political opinion": [
    "political", "politics", "opinion", "opinions", "speech", "dissent", "dissident", "protest",
    "petition", "petitioner", "petitioning", "party-line", "ideology", "loyalty",
  ],
  religion: [
    "religion", "religious", "faith", "belief", "beliefs", "worship", "church", "mosque", "temple",
    "christian", "muslim", "buddhist", "falun", "falungong", "prayer",
  ],
  // "Nationality" also translates minzu, the officially recognised ethnic groups.
  ethnicity: ["ethnic", "ethnicity", "race", "racial", "minzu", "nationality", "uyghur", "uighur", "tibetan", "hui"],
  sexuality: ["sexual", "sexuality", "orientation", "gay", "lesbian", "lgbt", "lgbtq", "homosexual", "transgender"],
  health: [
    "health", "medical", "disease", "illness", "diagnosis", "hiv", "aids", "disability", "disabled",
    "pregnancy", "pregnant", "mental", "psychiatric", "genetic",
  ],
  "relations and associations": [
    "relative", "relatives", "relation", "relations", "relationship", "relationships", "family",
    "spouse", "spouses", "parent", "parents", "child", "children", "kin", "kinship", "friend", "friends",
    "associate", "associates", "association", "associations", "contact", "contacts", "follower",
    "followers", "following", "acquaintance", "acquaintances", "household",
    "father", "fathers", "mother", "mothers", "son", "sons", "daughter", "daughters", "offspring",
    "sibling", "siblings", "brother", "brothers", "sister", "sisters", "guardian", "guardians",
    "marital", "marriage", "married",
    // A company's legal representative and shareholders are its associates, not the company itself.
    "representative", "shareholder", "shareholders",
  ],
};

const WORD_TO_CHARACTERISTIC = new Map<string, string>(
  Object.entries(PROTECTED_CHARACTERISTICS).flatMap(([c, words]) => words.map((w) => [w, c] as const)),
);

/** Splits an identifier or text into lower-case words: dots, hyphens, underscores, spaces and camelCase all separate. */
export function words(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/** The protected characteristic a text names, with the word that names it; undefined when it names none. */
export function protectedCharacteristic(text: string): { characteristic: string; word: string } | undefined {
  const ws = words(text);
  // Two-word phrases first, so "party line" is caught while "party" alone (a party to a lawsuit) is not.
  for (let i = 0; i + 1 < ws.length; i++) {
    const phrase = `${ws[i]}-${ws[i + 1]}`;
    const c = WORD_TO_CHARACTERISTIC.get(phrase);
    if (c) return { characteristic: c, word: phrase };
  }
  for (const w of ws) {
    const c = WORD_TO_CHARACTERISTIC.get(w);
    if (c) return { characteristic: c, word: w };
  }
  return undefined;
}
