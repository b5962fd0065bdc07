import type { ConnectionReview } from './assess.js';

export interface Review {
  /** `2026-Q4`. */
  quarter: string;
  gateway: string;
  collectedAt: string;
  /** False when `/metrics` refused the key: no per-endpoint calls. */
  endpointsKnown: boolean;
  /** What the health history held of the days asked; null: no history, the last 24 hours only. */
  span: {
    days: number;
    from: string | null;
    to: string | null;
    hoursCovered: number;
    retentionDays: number;
  } | null;
  connections: ConnectionReview[];
}

export const quarterOf = (date: Date) =>
  `${date.getUTCFullYear()}-Q${Math.floor(date.getUTCMonth() / 3) + 1}`;

const percent = (ratio: number | null) => (ratio === null ? '—' : `${(ratio * 100).toFixed(2)}%`);
const ms = (value: number | null) => (value === null ? '—' : `${value} ms`);
const versionText = (c: ConnectionReview) =>
  c.version?.inUse
    ? `${c.version.inUse}${c.version.supportedUntil ? ` (supported until ${c.version.supportedUntil})` : ''}${c.version.latest && c.version.latest !== c.version.inUse ? `, latest ${c.version.latest}` : ''}`
    : '—';
/** Markdown table cells: a pipe or a line break would end the cell. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

const days = (hours: number) => `${(hours / 24).toFixed(1).replace(/\.0$/, '')} days`;

/** What the figures cover, said plainly: a review of a new deployment covers less than its quarter. */
export function spanNote(review: Pick<Review, 'span'>): string {
  const span = review.span;
  if (!span || span.hoursCovered === 0 || !span.from || !span.to)
    return "Figures cover the last 24 hours the gateway's health model keeps: the health history holds none of the period asked.";
  return `Figures cover ${span.from} to ${span.to}: ${span.hoursCovered} hours with figures (${days(span.hoursCovered)}) of the ${span.days} days asked, from the health history (kept ${span.retentionDays} days).`;
}

/** The review as Markdown: a summary table, then one section per connection. */
export function reviewMarkdown(review: Review): string {
  const counts = { keep: 0, fix: 0, retire: 0 };
  for (const c of review.connections) counts[c.recommendation] += 1;
  const lines = [
    `# Integration review ${review.quarter}`,
    '',
    `Gateway ${review.gateway}, collected ${review.collectedAt}. ${spanNote(review)}`,
    '',
    `${review.connections.length} connections: ${counts.keep} keep, ${counts.fix} fix, ${counts.retire} retire.`,
    '',
    '| Connection | Kind | Status | Calls (period) | Success | Latency p95 | API version | Recommendation |',
    '| --- | --- | --- | ---: | ---: | ---: | --- | --- |',
    ...review.connections.map(
      (c) =>
        `| ${cell(c.name)} | ${c.kind.toLowerCase()} | ${c.status} | ${c.calls} | ${percent(c.successRate)} | ${ms(c.p95Ms)} | ${cell(versionText(c))} | **${c.recommendation}** |`,
    ),
    '',
  ];
  for (const c of review.connections) {
    lines.push(`## ${cell(c.title)} (${cell(c.name)}): ${c.recommendation}`, '');
    lines.push(...c.reasons.map((reason) => `- ${cell(reason)}`), '');
    lines.push(
      `Usage: ${c.calls} calls in the period, ${c.errors} failed${c.exhausted > 0 ? `, ${c.exhausted} messages exhausted` : ''}. Reliability: ${percent(c.successRate)}. Latency p95: ${ms(c.p95Ms)}. Version: ${cell(versionText(c))}.`,
      '',
    );
    if (c.scopes) {
      lines.push(
        `Credential scopes declared: ${c.scopes.declared.map((s) => `\`${s}\``).join(', ') || 'none (the platform has no scopes)'}; used in the window: ${c.scopes.used.map((s) => `\`${s}\``).join(', ') || 'none'}${c.scopes.unused.length > 0 ? `; unused: ${c.scopes.unused.map((s) => `\`${s}\``).join(', ')}` : ''}.`,
        '',
      );
    }
    if (c.endpoints && c.endpoints.length > 0) {
      lines.push('| Endpoint | Calls | Not 2xx |', '| --- | ---: | ---: |');
      lines.push(...c.endpoints.map((e) => `| \`${cell(e.endpoint)}\` | ${e.calls} | ${e.failed} |`), '');
    } else if (c.endpoints === null && c.scopes && !review.endpointsKnown)
      lines.push('Calls by endpoint: not available (the key lacks `metrics:read`).', '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!,
  );

const COLOURS = { keep: '#1a7f37', fix: '#bf8700', retire: '#6e7781' } as const;

/** A horizontal bar chart as inline SVG: one bar per connection, its value printed at the end. */
export function barChart(
  title: string,
  rows: readonly { label: string; value: number | null; colour: string }[],
  format: (value: number) => string,
  max?: number,
): string {
  const rowHeight = 22;
  const labelWidth = 190;
  const barWidth = 360;
  const height = rows.length * rowHeight + 30;
  const top = Math.max(max ?? 0, ...rows.map((r) => r.value ?? 0), 1);
  const bars = rows
    .map((row, i) => {
      const y = 26 + i * rowHeight;
      const width = row.value === null ? 0 : Math.max(1, (row.value / top) * barWidth);
      const text = row.value === null ? '—' : format(row.value);
      return (
        `<text x="${labelWidth - 6}" y="${y + 14}" text-anchor="end">${escapeHtml(row.label)}</text>` +
        `<rect x="${labelWidth}" y="${y + 3}" width="${width.toFixed(1)}" height="${rowHeight - 8}" fill="${row.colour}"/>` +
        `<text x="${labelWidth + width + 6}" y="${y + 14}">${escapeHtml(text)}</text>`
      );
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${labelWidth + barWidth + 110} ${height}" width="${labelWidth + barWidth + 110}" height="${height}" font-family="system-ui, sans-serif" font-size="12"><text x="0" y="14" font-weight="600">${escapeHtml(title)}</text>${bars}</svg>`;
}

/** The review as one self-contained HTML file: inline CSS and SVG charts, no script, nothing fetched. */
export function reviewHtml(review: Review): string {
  const rows = (value: (c: ConnectionReview) => number | null) =>
    review.connections.map((c) => ({ label: c.name, value: value(c), colour: COLOURS[c.recommendation] }));
  const charts = [
    barChart(
      'Calls in the period',
      rows((c) => c.calls),
      (v) => String(v),
    ),
    barChart(
      'Success rate',
      rows((c) => c.successRate),
      (v) => `${(v * 100).toFixed(2)}%`,
      1,
    ),
    barChart(
      'Latency p95',
      rows((c) => c.p95Ms),
      (v) => `${v} ms`,
    ),
  ];
  const table = review.connections
    .map(
      (c) =>
        `<tr><td>${escapeHtml(c.name)}</td><td>${escapeHtml(c.kind.toLowerCase())}</td><td>${escapeHtml(c.status)}</td><td class="n">${c.calls}</td><td class="n">${percent(c.successRate)}</td><td class="n">${ms(c.p95Ms)}</td><td>${escapeHtml(versionText(c))}</td><td>${escapeHtml(c.scopes ? `${c.scopes.used.length}/${c.scopes.declared.length} used` : '—')}</td><td class="rec ${c.recommendation}">${c.recommendation}</td><td>${escapeHtml(c.reasons.join('; '))}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Integration review ${escapeHtml(review.quarter)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1f2328; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
td.n { text-align: right; }
td.rec { font-weight: 600; }
td.keep { color: ${COLOURS.keep}; } td.fix { color: ${COLOURS.fix}; } td.retire { color: ${COLOURS.retire}; }
figure { margin: 1rem 0; }
</style>
</head>
<body>
<h1>Integration review ${escapeHtml(review.quarter)}</h1>
<p>Gateway ${escapeHtml(review.gateway)}, collected ${escapeHtml(review.collectedAt)}. ${escapeHtml(spanNote(review))}</p>
${charts.map((chart) => `<figure>${chart}</figure>`).join('\n')}
<table>
<thead><tr><th>Connection</th><th>Kind</th><th>Status</th><th>Calls (period)</th><th>Success</th><th>Latency p95</th><th>API version</th><th>Scopes</th><th>Recommendation</th><th>Why</th></tr></thead>
<tbody>
${table}
</tbody>
</table>
</body>
</html>
`;
}
