import { connectionWindows, type ConnectionWindows, type WindowFigures } from '../lib/health/recorder.js';
import { apiVersionRecord } from '../lib/upstream/api-version.js';
import type { Platform } from '../lib/errors.js';
import type { ApiVersionPolicy } from '../platforms/kit/descriptor.js';
import { PLATFORMS } from '../platforms/registry.js';
import type { ConnectionHealth } from './health.js';

/**
 * The health model (issue 16): one integration per connection, with a status a person can act on,
 * built from the process's recorder (lib/health/recorder.ts), the API version records and each
 * platform's published version support. Read by the GraphQL `integrations` field, `/status`
 * and the alert engine.
 */
export type IntegrationStatus = 'OK' | 'DEGRADED' | 'DOWN' | 'STALE' | 'IDLE';

export interface IntegrationVersion {
  inUse: string | null;
  latest: string | null;
  supportedUntil: string | null;
  warnings: string[];
}

export interface Integration {
  name: string;
  kind: ConnectionWindows['kind'];
  platform: string | null;
  status: IntegrationStatus;
  /** Seconds since the last success; null when never. */
  freshnessSeconds: number | null;
  /** No success for this long counts as stale, from the usual rate; null when there is no usual rate yet. */
  staleAfterSeconds: number | null;
  successRate: number | null;
  errorRate: number | null;
  latencyMs: WindowFigures['latencyMs'];
  windows: ConnectionWindows['windows'];
  /** Share of the rate-limit budget left at the last call; null when the platform does not say. */
  budgetLeft: number | null;
  breaker: 'open' | 'closed' | null;
  version: IntegrationVersion | null;
  lastError: ConnectionWindows['lastError'];
  /** A sync's last run, an endpoint disabled: what the alert conditions beyond rates read. */
  facts: ConnectionWindows['facts'];
  /** Messages that used every attempt over the last hour (endpoints and actions); null for other kinds. */
  deliveriesExhausted: number | null;
  history: ConnectionWindows['history'];
}

const DAY_MS = 86_400_000;
/** Version warnings start this long before a version leaves support; alerts default to 30 days. */
export const VERSION_WARNING_DAYS = 90;
/** Never stale sooner than this: a quiet 10 minutes is normal for most sources. */
const MIN_STALE_AFTER_S = 600;
/** Stale after this many usual gaps without a success (30 a minute: 2 s apart, stale after 10 min). */
const STALE_GAPS = 20;
/** A usual rate needs this many successes in the last hour. */
const MIN_SUCCESSES_FOR_RATE = 10;

/** The kinds that deliver messages with retries, so can exhaust them. */
const DELIVERING = new Set<ConnectionWindows['kind']>(['endpoint', 'action']);

const POLICIES = new Map<string, ApiVersionPolicy>(
  PLATFORMS.flatMap((platform) => (platform.apiVersions ? [[platform.name, platform.apiVersions]] : [])),
);

function versionOf(platform: string | undefined, nowMs: number): IntegrationVersion | null {
  if (!platform) return null;
  const policy = POLICIES.get(platform);
  const record = apiVersionRecord(platform as Platform);
  const inUse = record?.inUse ?? record?.requested ?? null;
  if (!policy && !record) return null;
  const supportedUntil = inUse && policy ? policy.supportedUntil(inUse) : null;
  const warnings: string[] = [];
  if (supportedUntil) {
    const daysLeft = Math.floor((Date.parse(supportedUntil) - nowMs) / DAY_MS);
    if (daysLeft < 0) warnings.push(`${inUse} has been unsupported since ${supportedUntil}`);
    else if (daysLeft <= VERSION_WARNING_DAYS)
      warnings.push(
        `${inUse} leaves support on ${supportedUntil} (${daysLeft} days): move to ${policy!.latest}`,
      );
  }
  if (record?.deprecatedReason) warnings.push(`deprecated: ${record.deprecatedReason}`);
  if (record?.sunset) warnings.push(`the platform announced a sunset: ${record.sunset}`);
  return { inUse, latest: policy?.latest ?? null, supportedUntil, warnings };
}

function statusOf(
  windows: ConnectionWindows,
  figures: { freshnessSeconds: number | null; staleAfterSeconds: number | null; budgetLeft: number | null },
  version: IntegrationVersion | null,
  nowMs: number,
): IntegrationStatus {
  const recent = windows.windows['5m'];
  const errorRate = recent.calls === 0 ? 0 : recent.errors / recent.calls;
  if (windows.breaker === 'open' || windows.facts.disabled || (recent.calls >= 3 && errorRate >= 0.5))
    return 'DOWN';
  if (windows.windows['24h'].calls === 0) return 'IDLE';
  if (
    figures.freshnessSeconds !== null &&
    figures.staleAfterSeconds !== null &&
    figures.freshnessSeconds > figures.staleAfterSeconds
  )
    return 'STALE';
  const versionEnding =
    version?.supportedUntil !== null &&
    version?.supportedUntil !== undefined &&
    Date.parse(version.supportedUntil) - nowMs < 30 * DAY_MS;
  if (
    errorRate > 0.05 ||
    (figures.budgetLeft !== null && figures.budgetLeft < 0.1) ||
    versionEnding ||
    windows.windows['1h'].exhausted > 0
  )
    return 'DEGRADED';
  return 'OK';
}

export function integrationFrom(windows: ConnectionWindows, nowMs: number): Integration {
  const freshnessSeconds =
    windows.lastSuccessAt === null ? null : Math.max(0, (nowMs - Date.parse(windows.lastSuccessAt)) / 1000);
  const successesLastHour = windows.successesPerMinute * 60;
  const staleAfterSeconds =
    successesLastHour >= MIN_SUCCESSES_FOR_RATE
      ? Math.max(MIN_STALE_AFTER_S, Math.round((STALE_GAPS * 60) / windows.successesPerMinute))
      : null;
  const budgetLeft = windows.budget ? windows.budget.free / windows.budget.of : null;
  const version = windows.kind === 'platform' ? versionOf(windows.platform, nowMs) : null;
  const recent = windows.windows['5m'];
  return {
    name: windows.name,
    kind: windows.kind,
    platform: windows.platform ?? null,
    status: statusOf(windows, { freshnessSeconds, staleAfterSeconds, budgetLeft }, version, nowMs),
    freshnessSeconds,
    staleAfterSeconds,
    successRate: recent.successRate,
    errorRate: recent.successRate === null ? null : 1 - recent.successRate,
    latencyMs: recent.latencyMs ?? windows.windows['1h'].latencyMs,
    windows: windows.windows,
    budgetLeft,
    breaker: windows.breaker,
    version,
    lastError: windows.lastError,
    facts: windows.facts,
    deliveriesExhausted: DELIVERING.has(windows.kind) ? windows.windows['1h'].exhausted : null,
    history: windows.history,
  };
}

/** Every connection this process has seen, by name; the gateway's clients after the connections data flows through. */
export function integrations(nowMs = Date.now()): Integration[] {
  const clientsLast = (integration: Integration) => (integration.kind === 'client' ? 1 : 0);
  return connectionWindows(nowMs)
    .map((windows) => integrationFrom(windows, nowMs))
    .sort((a, b) => clientsLast(a) - clientsLast(b) || a.name.localeCompare(b.name));
}

/** What the alert rules read about an integration. */
export function connectionHealthOf(integration: Integration): ConnectionHealth {
  return {
    name: integration.name,
    kind: integration.kind,
    ...(integration.platform ? { platform: integration.platform } : {}),
    errorRate: integration.errorRate,
    freshnessSeconds: integration.freshnessSeconds,
    staleAfterSeconds: integration.staleAfterSeconds,
    budgetLeft: integration.budgetLeft,
    ...(integration.version?.inUse
      ? { version: { inUse: integration.version.inUse, supportedUntil: integration.version.supportedUntil } }
      : {}),
    ...(integration.lastError ? { lastError: integration.lastError } : {}),
    ...(integration.facts.lastRunFailed !== undefined
      ? { lastRunFailed: integration.facts.lastRunFailed }
      : {}),
    ...(integration.facts.rowsRejected !== undefined ? { rowsRejected: integration.facts.rowsRejected } : {}),
    ...(integration.facts.disabled !== undefined ? { disabled: integration.facts.disabled } : {}),
    ...(integration.deliveriesExhausted !== null
      ? { deliveriesExhausted: integration.deliveriesExhausted }
      : {}),
  };
}
