// Writes a publication snapshot as open data: per list a CSV, a JSON and an HTML page, plus statistics and an index, in a dated folder.
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "csv-stringify/sync";
import type { PublishedEntry, Snapshot } from "../../app/publication.js";
import { escapeHtml } from "./what-if-html.js";

const e = (x: string | number | null | undefined) => escapeHtml(x === null || x === undefined ? "" : String(x));

/** The CSV of one list: a header row, then one row per entry. */
export function listCsv(entries: readonly PublishedEntry[]): string {
  return stringify(entries.map((x) => [x.name ?? "", x.id, x.since, x.until, x.publishedUntil]), { header: true, columns: ["name", "id", "since", "until", "publishedUntil"] });
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#1b1f24}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #d7dde4}th{background:#eef2f6}td.num{text-align:right}.note{color:#55606e}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${e(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>\n`;
}

/** The HTML page of one list. */
export function listHtml(snapshot: Snapshot, list: Snapshot["lists"][number]): string {
  const rows = list.entries.map((x) => `<tr><td>${e(x.name)}</td><td><code>${e(x.id)}</code></td><td>${e(x.since.slice(0, 10))}</td><td>${e(x.until.slice(0, 10))}</td><td>${e(x.publishedUntil.slice(0, 10))}</td></tr>`).join("");
  return page(
    `${list.name} (${snapshot.date})`,
    `<h1>${e(list.name)}</h1><p>Snapshot of ${e(snapshot.date)}. ${list.entries.length.toLocaleString("en-US")} entries. Legal basis: ${e(list.legalBasis)}.
     Entries stay published for at most ${e(list.publication)}${list.tier ? ` (${e(list.tier)} tier)` : ""}.</p>
     <p class="note">Person ID numbers are masked: only the first and last four characters are shown. Anyone listed may object to the record behind their entry and ask for credit restoration.</p>
     <table><thead><tr><th>Name</th><th>ID</th><th>Since</th><th>Until</th><th>Published until</th></tr></thead><tbody>${rows}</tbody></table>
     <p><a href="index.html">All lists and statistics</a></p>`,
  );
}

/** The index page: every list with its counts, and the objection statistics. */
export function indexHtml(snapshot: Snapshot): string {
  const s = snapshot.statistics;
  const rows = s.lists
    .map((l) => `<tr><td><a href="${e(l.list)}.html">${e(l.name)}</a></td><td>${e(l.kind)}</td><td>${e(l.tier)}</td><td class="num">${l.members}</td><td class="num">${l.entries}</td><td class="num">${l.exits}</td><td><a href="${e(l.list)}.csv">CSV</a> <a href="${e(l.list)}.json">JSON</a></td></tr>`)
    .join("");
  const o = s.objections;
  return page(
    `Public credit lists (${snapshot.date})`,
    `<h1>Public credit lists, ${e(snapshot.date)}</h1>
     <table><thead><tr><th>List</th><th>Kind</th><th>Tier</th><th>Published entries</th><th>Entries ever</th><th>Exits ever</th><th>Data</th></tr></thead><tbody>${rows}</tbody></table>
     <h2>Objections</h2><p>Open ${o.open} (overdue ${o.overdue}); upheld ${o.upheld}; dismissed ${o.dismissed}; median time to decision ${o.medianDaysToDecision === null ? "n/a" : `${o.medianDaysToDecision} days`}.</p>
     <p class="note">Minor items are never published. <a href="statistics.json">statistics.json</a></p>`,
  );
}

/**
 * Writes the snapshot into DIR/DATE/, first into a temporary folder renamed at the end, so a reader never sees half a
 * snapshot. Returns the folder written.
 */
export async function writeSnapshot(dir: string, snapshot: Snapshot): Promise<string> {
  const target = join(dir, snapshot.date);
  const temp = `${target}.tmp-${process.pid}`;
  await mkdir(temp, { recursive: true });
  for (const l of snapshot.lists) {
    await writeFile(join(temp, `${l.list}.csv`), listCsv(l.entries));
    await writeFile(join(temp, `${l.list}.json`), JSON.stringify({ date: snapshot.date, ...l }, null, 2) + "\n");
    await writeFile(join(temp, `${l.list}.html`), listHtml(snapshot, l));
  }
  await writeFile(join(temp, "statistics.json"), JSON.stringify(snapshot.statistics, null, 2) + "\n");
  await writeFile(join(temp, "index.html"), indexHtml(snapshot));
  // A second snapshot the same day replaces the first.
  await rm(target, { recursive: true, force: true });
  await rename(temp, target);
  return target;
}
