import type { PlatformDescriptor } from '../../platforms/kit/descriptor.js';
import type { EndpointCalls, ReviewIntegration } from './collect.js';

export type Recommendation = 'keep' | 'fix' | 'retire';

/** One connection's line in the review: its figures, what its credential is for, and the call. */
export interface ConnectionReview {
  name: string;
  kind: string;
  platform: string | null;
  /** The platform's title from its descriptor (`HubSpot`), else the connection's name. */
  title: string;
  status: string;
  /** Calls (webhooks, deliveries, runs) over the review's span (the history's, else the last 24 hours). */
  calls: number;
  errors: number;
  successRate: number | null;
  p95Ms: number | null;
  exhausted: number;
  version: ReviewIntegration['version'];
  /** The least scopes the credential needs, from the descriptor; null for connections without one. */
  scopes: { declared: readonly string[]; used: readonly string[]; unused: readonly string[] } | null;
  /** The platform endpoints called since the gateway started, busiest first. */
  endpoints: { endpoint: string; calls: number; failed: number }[] | null;
  recommendation: Recommendation;
  /** Why, in words a reviewer can act on. */
  reasons: string[];
}

/** Below this success rate over the span a connection needs fixing, whatever its status now. */
const RELIABILITY_TARGET = 0.99;

/**
 * The recommendation: `retire` a connection nothing used in the window (no call, webhook or
 * delivery: its credential is a risk with no benefit); `fix` one that is not OK now, failed more
 * than 1% of the day's calls, exhausted deliveries, is disabled or runs an API version with a
 * warning; `keep` the rest. Scopes: a platform's declared scopes count as used when its client
 * made calls in the window (the calls are reads and writes of those scopes); unused otherwise.
 */
export function assessConnection(
  integration: ReviewIntegration,
  descriptor: Pick<PlatformDescriptor, 'title' | 'credential'> | undefined,
  endpoints: EndpointCalls | null,
): ConnectionReview {
  const day = integration.period ?? integration.day;
  const reasons: string[] = [];
  let recommendation: Recommendation = 'keep';
  if (day.calls === 0 && integration.status === 'IDLE') {
    recommendation = 'retire';
    reasons.push('no traffic in the window: nothing depends on it, and its credential is still live');
  } else {
    if (integration.status !== 'OK') reasons.push(`status ${integration.status}`);
    if (day.successRate !== null && day.successRate < RELIABILITY_TARGET)
      reasons.push(
        `${((1 - day.successRate) * 100).toFixed(1)}% of ${day.calls} calls failed (target under ${((1 - RELIABILITY_TARGET) * 100).toFixed(0)}%)`,
      );
    if (day.exhausted > 0) reasons.push(`${day.exhausted} messages used every attempt`);
    if (integration.disabled) reasons.push('disabled');
    for (const warning of integration.version?.warnings ?? []) reasons.push(`API version: ${warning}`);
    if (reasons.length > 0) recommendation = 'fix';
    else reasons.push('healthy and in use');
  }
  const isPlatform = integration.kind === 'PLATFORM' && descriptor !== undefined;
  const declared = isPlatform ? descriptor.credential.scopes : [];
  const used = isPlatform && day.calls > 0 ? declared : [];
  return {
    name: integration.name,
    kind: integration.kind,
    platform: integration.platform,
    title: isPlatform ? descriptor.title : integration.name,
    status: integration.status,
    calls: day.calls,
    errors: day.errors,
    successRate: day.successRate,
    p95Ms: day.latency?.p95 ?? null,
    exhausted: day.exhausted,
    version: integration.version,
    scopes: isPlatform ? { declared, used, unused: declared.filter((s) => !used.includes(s)) } : null,
    endpoints:
      isPlatform && endpoints ? (endpoints.get(integration.platform ?? integration.name) ?? []) : null,
    recommendation,
    reasons,
  };
}
