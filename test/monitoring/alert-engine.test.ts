import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/config/env.js';
import { AlertEngine } from '../../monitoring/alerts/engine.js';
import { loadAlertsFile, parseAlertsFile } from '../../monitoring/alerts/rules.js';
import type { ConnectionHealth } from '../../monitoring/health.js';

/**
 * Issue 16, alerts: rules over the health model fire after their `for`, resolve after `clearFor`
 * past the hysteresis margin (no flapping around a threshold), respect their cooldown, and a bad
 * rules file is refused naming the rule and the field.
 */
const RULES = `
channels:
  ops-slack: { type: slack, webhookUrlEnv: SLACK_WEBHOOK_URL }
  oncall: { type: email, from: alerts@example.com, to: [oncall@example.com] }
rules:
  - name: platform errors
    when: { kind: error-rate-above, threshold: 0.05 }
    connections: { kinds: [platform] }
    severity: critical
    channels: [ops-slack, oncall]
    for: 2m
    clearFor: 1m
    cooldown: 10m
  - name: webhooks stale
    when: { kind: freshness-older-than }
    connections: { kinds: [webhook-source] }
    severity: warning
    channels: [ops-slack]
  - name: version leaving support
    when: { kind: version-unsupported-within, days: 30 }
    severity: warning
    channels: [oncall]
  - name: budget low
    when: { kind: budget-below, threshold: 0.1 }
    severity: info
    channels: [ops-slack]
`;
const MINUTE = 60_000;
const T0 = Date.parse('2026-12-04T12:00:00Z');

const platform = (errorRate: number | null, extra: Partial<ConnectionHealth> = {}): ConnectionHealth => ({
  name: 'hubspot',
  kind: 'platform',
  platform: 'hubspot',
  errorRate,
  freshnessSeconds: 5,
  staleAfterSeconds: null,
  budgetLeft: 0.9,
  ...extra,
});

/** Feeds one snapshot a minute; returns the notices of each minute as `state@minute`. */
function run(engine: AlertEngine, minutes: readonly ConnectionHealth[][]): string[] {
  return minutes.flatMap((snapshot, minute) =>
    engine.evaluate(snapshot, T0 + minute * MINUTE).map((n) => `${n.rule}:${n.state}@${minute}`),
  );
}

describe('alert rules', () => {
  const file = parseAlertsFile(RULES, 'alerts.yaml');

  it('should fire once the condition held for `for`, and resolve once it stayed clear for `clearFor`', () => {
    const engine = new AlertEngine(file.rules.filter((r) => r.name === 'platform errors'));
    const rates = [0.01, 0.2, 0.2, 0.2, 0.2, 0.01, 0.01, 0.01];
    expect(
      run(
        engine,
        rates.map((r) => [platform(r)]),
      ),
    ).toEqual([
      'platform errors:firing@3', // active from minute 1, held 2 minutes
      'platform errors:resolved@6', // clear from minute 5, stayed clear 1 minute
    ]);
  });

  it('should not flap when the error rate hovers at the threshold', () => {
    const engine = new AlertEngine(file.rules.filter((r) => r.name === 'platform errors'));
    // Over 5% and back to 4.5% (not below 4%, the clearing margin at clearAt 0.8) every minute.
    const hovering = Array.from({ length: 20 }, (_, i) => [platform(i % 2 === 0 ? 0.06 : 0.045)]);
    const notices = run(engine, [[platform(0.06)], [platform(0.06)], [platform(0.06)], ...hovering]);
    expect(notices).toEqual(['platform errors:firing@2']);
    expect(engine.firing()).toEqual([
      { rule: 'platform errors', connection: 'hubspot', since: new Date(T0 + 2 * MINUTE).toISOString() },
    ]);
  });

  it('should not fire a condition that does not last `for`, and keep the cooldown after a resolution', () => {
    const engine = new AlertEngine(file.rules.filter((r) => r.name === 'platform errors'));
    const minutes = [
      0.2, 0.01, 0.2, 0.01, 0.2, 0.2, 0.2, 0.0, 0.0, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2,
    ].map((r) => [platform(r)]);
    // Blips at 0 and 2 never last 2 minutes. Fires at 6, resolves at 8; active again from 9 but the
    // 10-minute cooldown holds it until 18.
    expect(run(engine, minutes)).toEqual([
      'platform errors:firing@6',
      'platform errors:resolved@8',
      'platform errors:firing@18',
    ]);
  });

  it('should read staleness from the connection’s usual rate, the version’s support window and the budget floor', () => {
    const rules = file.rules.filter((r) => r.name !== 'platform errors');
    const source: ConnectionHealth = {
      name: 'webhooks:shopify',
      kind: 'webhook-source',
      platform: 'shopify',
      errorRate: null,
      freshnessSeconds: 700,
      staleAfterSeconds: 600,
      budgetLeft: null,
    };
    const shopify = platform(0, {
      name: 'shopify',
      platform: 'shopify',
      version: { inUse: '2026-01', supportedUntil: '2026-12-20' },
      budgetLeft: 0.05,
    });
    const notices = new AlertEngine(rules).evaluate([source, shopify], T0);
    expect(notices.map((n) => `${n.rule} ${n.connection}: ${n.summary}`).sort()).toEqual([
      'budget low shopify: 5% of the rate-limit budget left (floor 10%)',
      'version leaving support shopify: API version 2026-01 supported until 2026-12-20 (15 days)',
      'webhooks stale webhooks:shopify: last success 700 s ago (stale after 600 s)',
    ]);
    const healthy = new AlertEngine(rules).evaluate(
      [
        { ...source, freshnessSeconds: 30 },
        { ...shopify, budgetLeft: 0.5, version: { inUse: '2026-10', supportedUntil: '2027-10-01' } },
      ],
      T0,
    );
    expect(healthy).toEqual([]);
  });

  it('should refuse a bad rules file, naming the rule and the field', () => {
    const bad = `
channels:
  ops: { type: slack, webhookUrlEnv: SLACK_WEBHOOK_URL }
rules:
  - name: platform errors
    when: { kind: error-rate-above, threshold: 5 }
    severity: critical
    channels: [ops, pager]
    for: 5 minutes
`;
    let error: unknown;
    try {
      parseAlertsFile(bad, 'alerts.yaml');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toContain(
      'rule "platform errors" > when > threshold: Too big: expected number to be <=1',
    );
    expect(problems).toContain(
      'rule "platform errors" > for: expected a duration such as 90s, 5m, 2h or 30d',
    );
    expect(problems).toContain('rule "platform errors" > channels > 1: no channel "pager" in channels');
  });

  it('should load the demo rules, a platform rule with hysteresis and every channel the log', () => {
    const demo = loadAlertsFile('monitoring/demo-alerts.yaml');
    expect(Object.values(demo.channels)).toEqual([{ type: 'log' }]);
    const rule = demo.rules.find((rule) => rule.name === 'platform failing')!;
    expect(rule).toMatchObject({ for: 30_000, clearFor: 30_000, clearAt: 0.8, severity: 'critical' });
    // Fires after 30 s of failures and resolves 30 s after they stop, as the README says.
    const engine = new AlertEngine([rule]);
    const seconds = (s: number) => T0 + s * 1000;
    expect(engine.evaluate([platform(0.5)], seconds(0))).toEqual([]);
    expect(engine.evaluate([platform(0.5)], seconds(30)).map((n) => n.state)).toEqual(['firing']);
    expect(engine.evaluate([platform(0.0)], seconds(45))).toEqual([]);
    expect(engine.evaluate([platform(0.0)], seconds(75)).map((n) => n.state)).toEqual(['resolved']);
  });
});
