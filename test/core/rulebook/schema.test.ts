// Tests for the published JSON Schema: docs/rulebook.schema.json stays current, and the shipped rulebooks validate against it.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { rulebookJsonSchema } from "../../../src/core/rulebook/schema.js";

const SHIPPED = ["national", "beijing", "jiangsu", "hangzhou", "rongcheng"] as const;

/** The command that writes docs/rulebook.schema.json; docs/rulebook-language.md documents the same command. */
const REGENERATE =
  'npm run build && node --input-type=module -e \'import { writeFileSync } from "node:fs"; ' +
  'import { rulebookJsonSchema } from "./dist/core/rulebook/schema.js"; ' +
  'writeFileSync("docs/rulebook.schema.json", JSON.stringify(rulebookJsonSchema(), null, 2) + "\\n");\'';

const committed = JSON.parse(readFileSync(new URL("../../../docs/rulebook.schema.json", import.meta.url), "utf8")) as unknown;
// What JSON.stringify would write: the same round trip the generating command makes.
const current = JSON.parse(JSON.stringify(rulebookJsonSchema())) as unknown;

describe("docs/rulebook.schema.json", () => {
  it("is the schema the code defines", () => {
    expect(committed, `docs/rulebook.schema.json is out of date; regenerate it with:\n  ${REGENERATE}\n`).toEqual(current);
  });

  it("is the regeneration command docs/rulebook-language.md gives", () => {
    const doc = readFileSync(new URL("../../../docs/rulebook-language.md", import.meta.url), "utf8");
    expect(doc).toContain(REGENERATE);
  });

  it("is a draft 2020-12 schema of a closed mapping with the required fields", () => {
    expect(committed).toMatchObject({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      additionalProperties: false,
      required: expect.arrayContaining(["id", "title", "version", "legalBasis"]) as unknown,
    });
  });
});

type Validate = ((data: unknown) => boolean) & { errors?: unknown };
type AjvConstructor = new (options: Record<string, unknown>) => { compile(schema: unknown): Validate };

/** Ajv 8's draft 2020-12 validator, when installed; ajv 6 (pulled in by eslint) cannot read draft 2020-12. */
async function loadAjv2020(): Promise<AjvConstructor | undefined> {
  const specifier = "ajv/dist/2020.js";
  try {
    const mod = (await import(/* @vite-ignore */ specifier)) as { default?: unknown };
    return typeof mod.default === "function" ? (mod.default as AjvConstructor) : undefined;
  } catch {
    return undefined;
  }
}

const Ajv2020 = await loadAjv2020();

describe.skipIf(!Ajv2020)("the shipped rulebooks against the JSON Schema (needs ajv 8)", () => {
  it.each(SHIPPED)("%s.yaml validates", (name) => {
    const Ajv = Ajv2020 as AjvConstructor;
    const validate = new Ajv({ allErrors: true, strict: false }).compile(committed);
    const data: unknown = parse(readFileSync(new URL(`../../../rulebooks/${name}.yaml`, import.meta.url), "utf8"));
    const ok = validate(data);
    expect(validate.errors ?? null, `${name}.yaml`).toBeNull();
    expect(ok).toBe(true);
  });
});
