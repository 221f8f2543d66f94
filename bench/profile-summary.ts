// Where a server child's time went: reads a .cpuprofile written with `npm run bench -- --profile DIR` and prints the
// functions with the most self time, the most inclusive time, and the time by package or directory.
//   node --import ./bench/register.mjs bench/profile-summary.ts DIR/CPU....cpuprofile [--top N]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: "string", default: "25" } } });
const file = positionals[0];
if (!file) {
  console.error("usage: node --import ./bench/register.mjs bench/profile-summary.ts FILE.cpuprofile [--top N]");
  process.exit(2);
}
const top = Number(values.top);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n] as const));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const root = process.cwd();
const where = (url: string) => url.replace(/^file:\/\//, "").replace(`${root}/`, "");
const label = (n: ProfileNode) => {
  const f = n.callFrame;
  return f.url === "" ? f.functionName || "(anonymous)" : `${f.functionName || "(anonymous)"} ${where(f.url)}:${f.lineNumber + 1}`;
};
/** The package (node_modules/x) or the directory of our own code a frame belongs to. */
const area = (n: ProfileNode) => {
  const url = where(n.callFrame.url);
  if (url === "") return n.callFrame.functionName.startsWith("(") ? n.callFrame.functionName : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.startsWith("node:")) return "node: core";
  return url.split("/").slice(0, -1).join("/") || url;
};

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const areas = new Map<string, number>();
let total = 0;
let idle = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  const node = byId.get(id) as ProfileNode;
  if (node.callFrame.functionName === "(idle)") {
    idle += dt;
    return;
  }
  total += dt;
  self.set(label(node), (self.get(label(node)) ?? 0) + dt);
  areas.set(area(node), (areas.get(area(node)) ?? 0) + dt);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur) as ProfileNode);
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + dt);
  }
});

const pct = (x: number) => `${((100 * x) / total).toFixed(1).padStart(5)}%`;
const list = (title: string, m: Map<string, number>, n: number) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`  ${pct(v)}  ${(v / 1000).toFixed(0).padStart(7)} ms  ${k}`);
};

console.log(`${file}: ${(total / 1e6).toFixed(2)} s busy, ${(idle / 1e6).toFixed(2)} s idle`);
list("self time by package or directory", areas, top);
list("self time by function", self, top);
inclusive.delete("(root)");
list("inclusive time by function", inclusive, top);
