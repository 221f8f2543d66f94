// Module hooks for the benchmarks (Node >= 20.6), in plain JavaScript because they are what makes TypeScript loadable.
//
// Why: the benchmarks are TypeScript under bench/, type-checked and linted with the rest (`npm run typecheck`,
// `npm run lint`), and they import the application from ../src/*.js as tests do. tsx is not a dependency, and
// compiling bench/ with tsc would also emit a second copy of src/ (whose server reads ../../../package.json
// relative to itself, so the copy would not even start). So at run time:
//   - a bench/*.ts file is stripped of its types by TypeScript's own transpileModule (no type checking here:
//     `npm run typecheck` does that), and "./x.js" imported from it loads ./x.ts;
//   - "../src/x.js" imported from bench/ loads dist/x.js: the build `npm run build` makes, which is what runs in
//     production. `npm run bench` builds first.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath, URL } from "node:url";
import ts from "typescript";

const bench = new URL("./", import.meta.url).href;
const src = new URL("../src/", import.meta.url).href;
const dist = new URL("../dist/", import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL;
  if (parent?.startsWith(bench) && /^\.\.?\//.test(specifier) && specifier.endsWith(".js")) {
    const url = new URL(specifier, parent).href;
    if (url.startsWith(src)) return { url: dist + url.slice(src.length), shortCircuit: true };
    if (url.startsWith(bench)) {
      const asTs = url.replace(/\.js$/, ".ts");
      if (existsSync(fileURLToPath(asTs))) return { url: asTs, shortCircuit: true };
    }
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (url.startsWith(bench) && url.endsWith(".ts")) {
    const source = await readFile(fileURLToPath(url), "utf8");
    const out = ts.transpileModule(source, {
      fileName: fileURLToPath(url),
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true, inlineSourceMap: true },
    });
    return { format: "module", source: out.outputText, shortCircuit: true };
  }
  return nextLoad(url, context);
}
