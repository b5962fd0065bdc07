import { afterEach, describe, expect, it } from 'vitest';
import {
  connectionWindows,
  recordExhausted,
  recordFacts,
  recordLimits,
  recordOutcome,
  resetConnectionHealth,
} from '../../lib/health/recorder.js';
import { recordApiVersion, resetApiVersionRecords } from '../../lib/upstream/api-version.js';
import { connectionHealthOf, integrations } from '../../monitoring/health-model.js';
import { recordDeliveryNotice } from '../../events/delivery-health.js';
import { silentLogger } from '../helpers/context.js';

/**
 * Issue 16, the health model: per connection over 5 minutes, 1 hour and 24 hours, calls and errors
 * by class, latency percentiles, freshness judged against the connection's usual rate, budget,
 * breaker and the API version's support window, turned into a status.
 */
const NOW = Date.parse('2026-12-04T12:00:00Z');
const MINUTE = 60_000;
const hubspot = { name: 'hubspot', kind: 'platform' as const, platform: 'hubspot' };
const shopifyHooks = { name: 'webhooks:shopify', kind: 'webhook-source' as const, platform: 'shopify' };

afterEach(() => {
  resetConnectionHealth();
  resetApiVersionRecords();
});

describe('health model', () => {
  it('should count calls and errors by class in each window, with latency percentiles', () => {
    // 100 calls two hours ago (outside 1 h), 20 in the last 5 minutes: 4 of them 429s, 1 a timeout.
    for (let i = 0; i < 100; i++) recordOutcome(hubspot, { ok: true, latencyMs: 40 }, NOW - 120 * MINUTE);
    for (let i = 0; i < 15; i++) recordOutcome(hubspot, { ok: true, latencyMs: 80 }, NOW - MINUTE);
    for (let i = 0; i < 4; i++)
      recordOutcome(
        hubspot,
        { ok: false, latencyMs: 20, errorClass: 'rate-limited', code: 'UPSTREAM_RATE_LIMITED' },
        NOW - MINUTE,
      );
    recordOutcome(
      hubspot,
      { ok: false, errorClass: 'timeout', code: 'UPSTREAM_TIMEOUT', message: 'contacts: timeout' },
      NOW - 30_000,
    );
    const [windows] = connectionWindows(NOW);
    expect(windows!.windows['5m']).toEqual({
      calls: 20,
      errors: 5,
      exhausted: 0,
      errorsByClass: { 'rate-limited': 4, timeout: 1 },
      successRate: 0.75,
      latencyMs: { p50: 100, p95: 100, p99: 100 },
      throttledMs: 0,
    });
    expect(windows!.windows['1h'].calls).toBe(20);
    expect(windows!.windows['24h'].calls).toBe(120);
    expect(windows!.windows['24h'].latencyMs).toEqual({ p50: 50, p95: 100, p99: 100 });
    const [integration] = integrations(NOW);
    expect(integration!.status).toBe('DEGRADED'); // 25% failing
    expect(integration!.lastError).toEqual({
      at: new Date(NOW - 30_000).toISOString(),
      code: 'UPSTREAM_TIMEOUT',
      message: 'contacts: timeout',
    });
  });

  it('should call a connection DOWN when its breaker is open or most calls fail, and IDLE with no traffic in 24 hours', () => {
    recordOutcome(hubspot, { ok: true }, NOW - MINUTE);
    recordLimits(hubspot, { breaker: 'open' }, NOW);
    recordOutcome(shopifyHooks, { ok: true }, NOW - 25 * 60 * MINUTE);
    const byName = Object.fromEntries(integrations(NOW).map((i) => [i.name, i.status]));
    expect(byName).toEqual({ hubspot: 'DOWN', 'webhooks:shopify': 'IDLE' });
  });

  it('should call a source STALE after 20 of its usual gaps without a success, never sooner than 10 minutes', () => {
    // 30 webhooks a minute for the hour before the last 12 minutes, then silence.
    for (let m = 72; m > 12; m--)
      for (let i = 0; i < 30; i++) recordOutcome(shopifyHooks, { ok: true }, NOW - m * MINUTE);
    const [stale] = integrations(NOW);
    expect(stale!.staleAfterSeconds).toBe(600);
    expect(stale!.freshnessSeconds).toBe(13 * 60); // the last success 13 minutes ago
    expect(stale!.status).toBe('STALE');
    const [fresh] = integrations(NOW - 5 * MINUTE);
    expect(fresh!.status).toBe('OK');
  });

  it('should warn 90 days before the API version in use leaves support, and mark it DEGRADED within 30', () => {
    recordOutcome({ name: 'shopify', kind: 'platform', platform: 'shopify' }, { ok: true }, NOW);
    const observe = (version: string) =>
      recordApiVersion(
        'shopify',
        { inUse: version, requested: version, deprecatedReason: null, deprecation: null, sunset: null },
        silentLogger,
      );
    observe('2026-01');
    let [shopify] = integrations(NOW);
    expect(shopify!.version).toEqual({
      inUse: '2026-01',
      latest: '2026-10',
      supportedUntil: '2027-01-01',
      warnings: ['2026-01 leaves support on 2027-01-01 (27 days): move to 2026-10'],
    });
    expect(shopify!.status).toBe('DEGRADED');
    expect(connectionHealthOf(shopify!).version).toEqual({ inUse: '2026-01', supportedUntil: '2027-01-01' });
    observe('2026-10');
    [shopify] = integrations(NOW);
    expect(shopify!.version?.warnings).toEqual([]);
    expect(shopify!.status).toBe('OK');
  });

  it('should hand the alert rules a sync’s last run and an endpoint’s disabling', () => {
    const sync = { name: 'sync:vip-customers', kind: 'sync' as const, platform: 'mailchimp' };
    recordOutcome(sync, { ok: false, errorClass: 'run-failed', code: 'SYNC_FAILED' }, NOW);
    recordFacts(sync, { lastRunFailed: true, rowsRejected: 3 });
    const endpoint = { name: 'endpoint:ep_1', kind: 'endpoint' as const };
    recordOutcome(endpoint, { ok: false, errorClass: 'status' }, NOW);
    recordFacts(endpoint, { disabled: true });
    const health = Object.fromEntries(integrations(NOW).map((i) => [i.name, connectionHealthOf(i)]));
    expect(health['sync:vip-customers']).toMatchObject({
      kind: 'sync',
      lastRunFailed: true,
      rowsRejected: 3,
    });
    expect(health['endpoint:ep_1']).toMatchObject({ kind: 'endpoint', disabled: true });
  });

  it('should count exhausted messages per endpoint over the hour from the delivery notices, and say a disabled endpoint is DOWN', () => {
    const endpoint = { name: 'endpoint:ep_2', kind: 'endpoint' as const };
    for (let i = 0; i < 20; i++) recordOutcome(endpoint, { ok: true }, NOW - MINUTE);
    recordExhausted(endpoint, NOW - 30 * MINUTE, NOW);
    recordExhausted(endpoint, NOW - 90 * MINUTE, NOW); // in the 24 hours, not the hour
    recordExhausted(endpoint, NOW - 25 * 60 * MINUTE, NOW); // too old: dropped
    let [integration] = integrations(NOW);
    expect(integration!.deliveriesExhausted).toBe(1);
    expect(integration!.windows['24h'].exhausted).toBe(2);
    expect(integration!.status).toBe('DEGRADED');
    expect(connectionHealthOf(integration!).deliveriesExhausted).toBe(1);
    // The windows still read in minute order after a notice dated in the past.
    expect(connectionWindows(NOW)[0]!.windows['5m'].calls).toBe(20);

    // The notices as the hub delivers them (their own time, now).
    resetConnectionHealth();
    const notice = (type: 'WEBHOOK_ATTEMPTS_EXHAUSTED' | 'WEBHOOK_ENDPOINT_DISABLED') => ({
      type,
      occurredAt: new Date().toISOString(),
      properties: { endpointId: 'ep_3', reason: 'gone' },
    });
    recordDeliveryNotice(notice('WEBHOOK_ATTEMPTS_EXHAUSTED'));
    recordDeliveryNotice(notice('WEBHOOK_ATTEMPTS_EXHAUSTED'));
    recordDeliveryNotice({ ...notice('WEBHOOK_ATTEMPTS_EXHAUSTED'), properties: {} }); // names no endpoint
    [integration] = integrations();
    expect(integration).toMatchObject({ name: 'endpoint:ep_3', kind: 'endpoint', deliveriesExhausted: 2 });
    recordDeliveryNotice(notice('WEBHOOK_ENDPOINT_DISABLED'));
    [integration] = integrations();
    expect(integration!.status).toBe('DOWN');
    expect(connectionHealthOf(integration!)).toMatchObject({ disabled: true, deliveriesExhausted: 2 });
    // Other kinds deliver nothing: no count for the alert rule to read.
    recordOutcome(hubspot, { ok: true }, NOW);
    const platform = integrations().find((i) => i.name === 'hubspot')!;
    expect(platform.deliveriesExhausted).toBeNull();
    expect(connectionHealthOf(platform).deliveriesExhausted).toBeUndefined();
  });
});
