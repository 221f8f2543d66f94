// The what-if report as one self-contained HTML page: inline CSS and SVG charts, no script, no external asset.
import type { BreakdownRow, MembershipChange, WhatIfReport } from "../../app/simulate.js";

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

const e = (x: string | number | null | undefined) => escapeHtml(x === null || x === undefined ? "" : String(x));
const fmt = (n: number) => n.toLocaleString("en-US");
const signed = (n: number) => (n > 0 ? `+${fmt(n)}` : fmt(n));

const BEFORE = "#8a9bb0";
const AFTER = "#1f5fa8";

interface Bar {
  label: string;
  values: number[];
}

/** A horizontal grouped bar chart, one group per row, one bar per series. */
function barChart(title: string, rows: readonly Bar[], series: readonly { name: string; color: string }[]): string {
  if (rows.length === 0) return `<p class="empty">${e(title)}: nothing to show.</p>`;
  const labelWidth = 280;
  const barArea = 420;
  const valueWidth = 80;
  const barHeight = 12;
  const gap = 10;
  const legend = 24;
  const groupHeight = series.length * barHeight + gap;
  const height = legend + rows.length * groupHeight + 4;
  const width = labelWidth + barArea + valueWidth;
  const max = Math.max(1, ...rows.flatMap((r) => r.values));
  const parts: string[] = [];
  series.forEach((s, i) => {
    const x = labelWidth + i * 120;
    parts.push(`<rect x="${x}" y="4" width="12" height="12" fill="${s.color}"/><text x="${x + 16}" y="14" class="legend">${e(s.name)}</text>`);
  });
  rows.forEach((r, i) => {
    const y0 = legend + i * groupHeight;
    parts.push(`<text x="${labelWidth - 8}" y="${y0 + (series.length * barHeight) / 2 + 4}" text-anchor="end" class="label">${e(truncate(r.label, 40))}<title>${e(r.label)}</title></text>`);
    r.values.forEach((v, k) => {
      const w = Math.max(v > 0 ? 1 : 0, Math.round((v / max) * barArea));
      const y = y0 + k * barHeight;
      const s = series[k] as { name: string; color: string };
      parts.push(`<rect x="${labelWidth}" y="${y}" width="${w}" height="${barHeight - 2}" fill="${s.color}"><title>${e(`${r.label}, ${s.name}: ${fmt(v)}`)}</title></rect>`);
      parts.push(`<text x="${labelWidth + w + 4}" y="${y + barHeight - 3}" class="value">${e(fmt(v))}</text>`);
    });
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${e(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><title>${e(title)}</title>${parts.join("")}</svg>`;
}

function truncate(s: string, n: number): string {
  const chars = Array.from(s);
  return chars.length <= n ? s : chars.slice(0, n - 1).join("") + "…";
}

function membershipSection(title: string, what: string, rows: readonly MembershipChange[]): string {
  const chart = barChart(
    `${title}: subjects before and after`,
    rows.map((r) => ({ label: r.id, values: [r.before, r.after] })),
    [
      { name: "before", color: BEFORE },
      { name: "after", color: AFTER },
    ],
  );
  const body = rows
    .map((r) => `<tr${r.entered + r.left > 0 ? ' class="moved"' : ""}><td><code>${e(r.id)}</code><br><span class="muted">${e(r.name)}</span></td><td>${e(r.kind)}</td><td class="n">${fmt(r.before)}</td><td class="n">${fmt(r.after)}</td><td class="n">${signed(r.after - r.before)}</td><td class="n">${fmt(r.entered)}</td><td class="n">${fmt(r.left)}</td></tr>`)
    .join("");
  return `<section><h2>${e(title)}</h2>${chart}<table><thead><tr><th>${e(what)}</th><th>kind</th><th>before</th><th>after</th><th>change</th><th>entered</th><th>left</th></tr></thead><tbody>${body || '<tr><td colspan="7" class="muted">none</td></tr>'}</tbody></table></section>`;
}

/** The grade transition matrix as a table whose cells are shaded by how many subjects they hold. */
function heatTable(labels: readonly string[], matrix: readonly (readonly number[])[]): string {
  const offMax = Math.max(1, ...matrix.flatMap((row, i) => row.filter((_, j) => j !== i)));
  const diagMax = Math.max(1, ...matrix.map((row, i) => row[i] ?? 0));
  const shade = (n: number, diagonal: boolean) => {
    if (n === 0) return "";
    const t = Math.log1p(n) / Math.log1p(diagonal ? diagMax : offMax);
    const alpha = (0.12 + 0.78 * t).toFixed(2);
    return diagonal ? ` style="background: rgba(31, 95, 168, ${alpha})"` : ` style="background: rgba(196, 62, 28, ${alpha})"`;
  };
  const head = labels.map((l) => `<th>${e(l)}</th>`).join("");
  const body = labels
    .map((from, i) => `<tr><th>${e(from)}</th>${labels.map((to, j) => `<td class="n heat"${shade(matrix[i]?.[j] ?? 0, i === j)} title="${e(`${from} → ${to}: ${matrix[i]?.[j] ?? 0}`)}">${fmt(matrix[i]?.[j] ?? 0)}</td>`).join("")}</tr>`)
    .join("");
  return `<table class="matrix"><thead><tr><th>before ↓ after →</th>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function breakdownTable(first: string, rows: readonly (BreakdownRow & { label: string })[]): string {
  const body = rows
    .map((r) => `<tr><td>${e(r.label)}</td><td class="n">${fmt(r.evaluated)}</td><td class="n">${fmt(r.changed)}</td><td class="n">${r.evaluated === 0 ? "" : ((100 * r.changed) / r.evaluated).toFixed(1) + "%"}</td><td class="n">${fmt(r.scoreUp)}</td><td class="n">${fmt(r.scoreDown)}</td></tr>`)
    .join("");
  return `<table><thead><tr><th>${e(first)}</th><th>evaluated</th><th>changed</th><th>share</th><th>score up</th><th>score down</th></tr></thead><tbody>${body}</tbody></table>`;
}

const layerList = (layers: readonly { id: string; version: string; sha256: string }[]) =>
  layers.map((l) => `<code>${e(l.id)}</code> ${e(l.version)} <span class="muted">${e(l.sha256.slice(0, 12))}</span>`).join(", ");

const ids = (xs: readonly string[]) => (xs.length === 0 ? "" : xs.map((x) => `<code>${e(x)}</code>`).join(" "));

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1f24; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
table { border-collapse: collapse; margin: .8rem 0; } th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f5f8; } td.n { text-align: right; font-variant-numeric: tabular-nums; } tr.moved td { background: #fff8e6; }
.matrix td.heat { min-width: 3.2rem; } .muted { color: #667085; } .empty { color: #667085; font-style: italic; }
.cards { display: flex; flex-wrap: wrap; gap: .8rem; margin: 1rem 0; } .card { border: 1px solid #d0d7de; border-radius: 6px; padding: .6rem .9rem; min-width: 9rem; }
.card b { display: block; font-size: 1.5rem; } .warn { background: #fff1f0; border: 1px solid #f5b5ad; padding: .6rem .9rem; border-radius: 6px; }
svg { display: block; margin: .6rem 0; max-width: 100%; height: auto; } svg text { font: 12px system-ui, sans-serif; fill: #1b1f24; } svg .legend { font-size: 12px; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
`;

/** The whole report as one HTML document; every text from the report is escaped, and person IDs arrive masked. */
export function renderWhatIfHtml(r: WhatIfReport): string {
  const s = r.subjects;
  const regions = r.breakdown.region.filter((x) => x.changed > 0).slice(0, 30);
  const regionChart = barChart(
    "Changed subjects by region",
    regions.map((x) => ({ label: `${x.code}${x.name ? ` ${x.name}` : ""}`, values: [x.changed] })),
    [{ name: "changed subjects", color: AFTER }],
  );
  const bandChart = barChart(
    "Changed subjects by age band",
    r.breakdown.ageBand.map((x) => ({ label: x.band, values: [x.evaluated, x.changed] })),
    [
      { name: "evaluated", color: BEFORE },
      { name: "changed", color: AFTER },
    ],
  );
  const top = r.top
    .map(
      (t, i) =>
        `<tr><td class="n">${i + 1}</td><td><code>${e(t.subject)}</code></td><td>${e(t.kind)}</td><td>${e(t.region)} ${e(t.regionName)}</td><td>${e(t.ageBand)}</td><td class="n">${fmt(t.score.before)}</td><td class="n">${fmt(t.score.after)}</td><td class="n">${signed(t.score.change)}</td><td>${e(t.grade.before ?? "none")} → ${e(t.grade.after ?? "none")}</td><td>${ids(t.lists.entered) ? `+ ${ids(t.lists.entered)} ` : ""}${ids(t.lists.left) ? `− ${ids(t.lists.left)}` : ""}</td><td>${ids(t.measures.entered) ? `+ ${ids(t.measures.entered)} ` : ""}${ids(t.measures.left) ? `− ${ids(t.measures.left)}` : ""}</td></tr>`,
    )
    .join("");
  const bases = r.unreported.bases
    .map(
      (b) =>
        `<tr${b.changed ? ' class="moved"' : ""}><td>${e(b.regions)} ${e(b.regionName)}</td><td>${e(b.kind)}</td><td>${e(b.jurisdiction.before)}${b.jurisdiction.before === b.jurisdiction.after ? "" : ` → ${e(b.jurisdiction.after)}`}</td><td>${fmt(b.before.score)} ${e(b.before.grade ?? "")} ${ids(b.before.measures)}</td><td>${fmt(b.after.score)} ${e(b.after.grade ?? "")} ${ids(b.after.measures)}</td><td>${b.changed ? "yes" : "no"}</td></tr>`,
    )
    .join("");

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>What-if report: ${e(r.draft.map((l) => `${l.id} ${l.version}`).join(", "))}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>What the draft rulebook would do</h1>
<p>Evaluated at <b>${e(r.at)}</b>. Nothing was changed; this run is recorded in the audit log as decision <code>${e(r.decisionId)}</code>.</p>
<table>
<tr><th>draft</th><td>${layerList(r.draft)}</td></tr>
${r.against ? `<tr><th>compared against</th><td>${layerList(r.against)}</td></tr>` : ""}
<tr><th>before</th><td>ruleset <code>${e(r.before.rulesetHash.slice(0, 12))}</code>: ${layerList(r.before.layers)}</td></tr>
<tr><th>after</th><td>ruleset <code>${e(r.after.rulesetHash.slice(0, 12))}</code>: ${layerList(r.after.layers)}</td></tr>
</table>
<div class="cards">
<div class="card">evaluated<b>${fmt(s.evaluated)}</b></div>
<div class="card">changed<b>${fmt(s.changed)}</b>${s.evaluated === 0 ? "" : `${((100 * s.changed) / s.evaluated).toFixed(2)}%`}</div>
<div class="card">score up / down<b>${fmt(r.score.up)} / ${fmt(r.score.down)}</b></div>
<div class="card">mean score<b>${r.score.meanBefore ?? "–"} → ${r.score.meanAfter ?? "–"}</b></div>
<div class="card">only a period changes<b>${fmt(s.periodsOnly)}</b></div>
</div>
<p class="muted">A subject changes when its score, grade, lists or measures differ. "Only a period changes" counts subjects whose lists and measures are the same but start or end on other dates.${s.allRetracted > 0 ? ` ${fmt(s.allRetracted)} subject${s.allRetracted === 1 ? "" : "s"} whose every record was retracted count as never reported and were not evaluated.` : ""}</p>
${r.unreported.changes > 0 ? `<p class="warn">${e(r.unreported.note)}</p>` : ""}
<section><h2>Grade transitions</h2>
<p class="muted">Rows: grade under the rulebook in force; columns: grade under the draft. The diagonal (blue) did not move; off the diagonal (red) did. "none": minors and jurisdictions without grades.</p>
${heatTable(r.grades.labels, r.grades.matrix)}
</section>
${membershipSection("Lists", "list", r.lists)}
${membershipSection("Measures", "measure", r.measures)}
<section><h2>Changes by region</h2>
${regionChart}
${r.breakdown.region.length > regions.length ? `<p class="muted">The chart shows the ${regions.length} regions with the most changes; the table lists all ${r.breakdown.region.length} regions evaluated.</p>` : ""}
${breakdownTable("region", r.breakdown.region.map((x) => ({ ...x, label: `${x.code}${x.name ? ` ${x.name}` : ""}` })))}
</section>
<section><h2>Changes by age band and kind</h2>
${bandChart}
${breakdownTable("age band", r.breakdown.ageBand.map((x) => ({ ...x, label: x.band })))}
${breakdownTable("kind", r.breakdown.kind.map((x) => ({ ...x, label: x.kind })))}
</section>
<section><h2>The ${r.top.length} subjects who change most</h2>
<p class="muted">By absolute score change, then by the number of lists and measures entered or left. Person IDs are masked; enterprise codes are public.</p>
<table><thead><tr><th>#</th><th>subject</th><th>kind</th><th>region</th><th>age band</th><th>score before</th><th>after</th><th>change</th><th>grade</th><th>lists</th><th>measures</th></tr></thead>
<tbody>${top || '<tr><td colspan="11" class="muted">nobody changes</td></tr>'}</tbody></table>
</section>
<section><h2>Subjects with no records</h2>
<p>${e(r.unreported.note)}</p>
<table><thead><tr><th>regions</th><th>without records</th><th>jurisdiction</th><th>before</th><th>after</th><th>changes</th></tr></thead><tbody>${bases}</tbody></table>
</section>
<p class="muted">Evaluated in ${fmt(r.elapsedMs)} ms. Generated by <code>social-credit simulate</code>.</p>
</body>
</html>
`;
}
