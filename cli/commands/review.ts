import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assessConnection } from '../../monitoring/review/assess.js';
import { collectReview } from '../../monitoring/review/collect.js';
import {
  quarterOf,
  reviewHtml,
  reviewMarkdown,
  spanNote,
  type Review,
} from '../../monitoring/review/report.js';
import { PLATFORMS } from '../../platforms/registry.js';
import { flagsOf, text } from '../flags.js';
import { UsageError } from '../usage.js';

export const REVIEW_USAGE = `Usage: marketing-graph review [--out <dir>] [--quarter <YYYY-Qn>] [--days <n>]   (calls GATEWAY_URL with MARKETING_GRAPH_API_KEY)

Writes the quarterly integration review, integration-review-<quarter>.md and .html (inline SVG
charts, no script), into --out (default ./review): per connection its usage, reliability, latency,
calls by endpoint, API version status, credential scopes declared and used, and a recommendation
(keep, fix, retire) with the reasons. Reads the gateway's health model and its health history
over the last --days (default 90, at most what HEALTH_HISTORY_RETENTION_DAYS keeps) and says the
span the history actually covered; the key needs monitoring:read (and metrics:read for the calls
by endpoint).`;

interface Output {
  write(text: string): unknown;
}

export async function reviewCommand(
  args: readonly string[],
  options: { gatewayOrigin: string; apiKey: string | undefined; now?: Date; stdout?: Output },
): Promise<number> {
  const flags = flagsOf(args, { out: 'string', quarter: 'string', days: 'string' });
  const quarter = text(flags, 'quarter') ?? quarterOf(options.now ?? new Date());
  if (!/^\d{4}-Q[1-4]$/.test(quarter))
    throw new UsageError(`--quarter must look like 2026-Q4, got "${quarter}"`);
  const days = Number(text(flags, 'days') ?? '90');
  if (!Number.isInteger(days) || days < 1 || days > 3650)
    throw new UsageError(`--days must be a whole number from 1 to 3650, got "${text(flags, 'days')}"`);
  if (!options.apiKey)
    throw new UsageError('MARKETING_GRAPH_API_KEY is not set: the review needs a key with monitoring:read');
  const input = await collectReview({
    gatewayOrigin: options.gatewayOrigin,
    apiKey: options.apiKey,
    days,
    ...(options.now ? { now: options.now } : {}),
  });
  const descriptors = new Map(PLATFORMS.map((platform) => [platform.name as string, platform]));
  const review: Review = {
    quarter,
    gateway: input.gateway,
    collectedAt: input.collectedAt,
    endpointsKnown: input.endpoints !== null,
    span: input.history,
    connections: input.integrations.map((integration) =>
      assessConnection(
        integration,
        integration.platform ? descriptors.get(integration.platform) : undefined,
        input.endpoints,
      ),
    ),
  };
  const out = text(flags, 'out') ?? 'review';
  mkdirSync(out, { recursive: true });
  const base = join(out, `integration-review-${quarter}`);
  writeFileSync(`${base}.md`, reviewMarkdown(review));
  writeFileSync(`${base}.html`, reviewHtml(review));
  const counts = { keep: 0, fix: 0, retire: 0 };
  for (const connection of review.connections) counts[connection.recommendation] += 1;
  (options.stdout ?? process.stdout).write(
    `${base}.md\n${base}.html\n${spanNote(review)}\n${review.connections.length} connections: ${counts.keep} keep, ${counts.fix} fix, ${counts.retire} retire\n`,
  );
  return 0;
}
