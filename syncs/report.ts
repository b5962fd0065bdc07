import type { RunProgress, RunSummary } from './engine.js';
import type { SyncListing } from './service.js';

/** What `sync list` and `sync run` print: plain text, one fact a line, no personal data beyond samples. */

const pad = (cells: readonly string[][]) => {
  const widths = cells[0]?.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length))) ?? [];
  return cells
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
};

const iso = (ms: number | undefined) =>
  ms === undefined ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function formatList(listings: readonly SyncListing[]): string {
  const rows = [['NAME', 'DESTINATION', 'MODE', 'SCHEDULE', 'LAST RUN', 'STATUS', 'RECORDS', 'NEXT RUN']];
  for (const { definition, lastRun, nextRunAt, records } of listings)
    rows.push([
      definition.name,
      definition.destination.type,
      definition.mode,
      definition.schedule?.text ?? 'manual',
      iso(lastRun?.startedAt),
      lastRun?.status ?? '-',
      String(records),
      iso(nextRunAt),
    ]);
  return `${pad(rows)}\n`;
}

export function formatProgress(progress: RunProgress): string {
  if (progress.phase === 'reading')
    return `reading source: ${progress.sourceRows} rows, ${progress.toWrite} to write`;
  const width = 30;
  const share = progress.toWrite === 0 ? 1 : progress.done / progress.toWrite;
  const filled = Math.round(share * width);
  return `writing [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${progress.done}/${progress.toWrite}`;
}

export function formatSummary(summary: RunSummary): string {
  const c = summary.counts;
  const lines = [
    summary.status === 'DRY_RUN'
      ? `sync ${summary.sync}: dry run, nothing written`
      : `sync ${summary.sync}: run ${summary.id} ${summary.status}${summary.resumed ? ' (resumed)' : ''}`,
    `  source      ${c.sourceRows} rows in ${c.sourceCalls} pages`,
    `  inserts     ${c.inserts}`,
    `  updates     ${c.updates}`,
    `  removals    ${c.removals}`,
    `  unchanged   ${c.unchanged}`,
    `  quarantined ${c.quarantined}`,
  ];
  if (summary.status === 'DRY_RUN') lines.push(`  write calls ${summary.lowerBound} needed`);
  else
    lines.push(
      `  written     ${c.written}`,
      `  rejected    ${c.rejected}`,
      `  write calls ${c.calls} (lower bound ${summary.lowerBound})`,
    );
  for (const sample of summary.samples)
    lines.push(`  sample ${sample.change} ${sample.key} ${JSON.stringify(sample.record)}`);
  for (const q of summary.quarantinedSamples)
    lines.push(`  quarantined ${q.key || '(no key)'} ${q.code}: ${q.reason}`);
  if (summary.error) lines.push(`  error       ${summary.error}`);
  return `${lines.join('\n')}\n`;
}
