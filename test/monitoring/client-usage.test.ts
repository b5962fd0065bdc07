import { describe, expect, it } from 'vitest';
import { AnomalyDetector } from '../../gateway/auth/anomaly.js';
import type { ClientIdentity } from '../../gateway/identity.js';
import { createLogger } from '../../lib/logger.js';
import { AlertEngine } from '../../monitoring/alerts/engine.js';
import { parseAlertsFile } from '../../monitoring/alerts/rules.js';
import { clientHealthOf } from '../../monitoring/client-usage.js';

/**
 * The anomaly detector's per-client figures as the alert rules read them: each window against the
 * client's own baseline, the window before kept for one more window, quiet clients rolled forward
 * on read; and the `client-usage-anomalous` rule firing and resolving on them, with its defaults.
 */
const WINDOW = 60_000;
const T0 = Date.parse('2026-12-04T12:00:00Z');
const CLIENT: ClientIdentity = { id: 'reporting-dashboard', scopes: ['ads:read'], via: 'api-key' };
const OTHER: ClientIdentity = { id: 'admin', scopes: [], via: 'api-key' };

const detector = () => new AnomalyDetector({ logger: createLogger({ name: 'test', level: 'silent' }) });
const rules = parseAlertsFile(
  `
channels: { log: { type: log } }
rules:
  - name: request spike
    when: { kind: client-usage-anomalous, signals: [requests] }
    severity: warning
    channels: [log]
    clearFor: 0s
  - name: anomalies
    when: { kind: client-anomalies-above, threshold: 0 }
    connections: { kinds: [client] }
    severity: info
    channels: [log]
    clearFor: 0s
`,
  'test',
);

describe('client usage figures for the alert rules', () => {
  it('should keep each window with the baseline it was judged against, and roll a quiet client forward', () => {
    const anomalies = detector();
    for (let minute = 0; minute < 3; minute++)
      for (let i = 0; i < 10; i++) anomalies.record(CLIENT, 'requests', 1, T0 + minute * WINDOW + i);
    anomalies.record(CLIENT, 'requests', 90, T0 + 3 * WINDOW);
    let [usage] = anomalies.usage(T0 + 3 * WINDOW + 1);
    expect(usage).toMatchObject({ client: 'reporting-dashboard', via: 'api-key', anomalies: 1 });
    expect(usage!.signals.requests).toEqual({
      current: 90,
      baseline: 10,
      previous: { count: 10, baseline: 10 },
    });
    // The next window: the spike is the previous one, judged against the baseline of its time.
    [usage] = anomalies.usage(T0 + 4 * WINDOW + 1);
    expect(usage!.signals.requests).toEqual({
      current: 0,
      baseline: 26,
      previous: { count: 90, baseline: 10 },
    });
    // Two quiet windows later the spike is out of sight (but still counted as an anomaly for 15 minutes).
    [usage] = anomalies.usage(T0 + 6 * WINDOW + 1);
    expect(usage!.signals.requests!.previous).toEqual({ count: 0, baseline: 20.8 });
    expect(usage!.anomalies).toBe(1);
    [usage] = anomalies.usage(T0 + 19 * WINDOW);
    expect(usage!.anomalies).toBe(0);
  });

  it('should fire on a client past five times its usual rate, not on another client, and resolve after', () => {
    const anomalies = detector();
    const engine = new AlertEngine(rules.rules);
    const notices: string[] = [];
    const evaluate = (now: number) =>
      notices.push(
        ...engine
          .evaluate(
            anomalies.usage(now).map((usage) => clientHealthOf(usage)),
            now,
          )
          .map((n) => `${n.rule}:${n.connection}:${n.state}:${n.summary}`),
      );
    for (let minute = 0; minute < 3; minute++) {
      for (let i = 0; i < 10; i++) anomalies.record(CLIENT, 'requests', 1, T0 + minute * WINDOW + i);
      // Another client with a busier usual rate: 45 a minute is its normal (after a first, quieter minute).
      anomalies.record(OTHER, 'requests', minute === 0 ? 20 : 45, T0 + minute * WINDOW);
      evaluate(T0 + minute * WINDOW + 100);
    }
    expect(notices).toEqual([]);
    // 45 requests: past the 30 minimum, but under 5 × 10 = 50 for this client, and usual for the other.
    anomalies.record(CLIENT, 'requests', 45, T0 + 3 * WINDOW);
    anomalies.record(OTHER, 'requests', 45, T0 + 3 * WINDOW);
    evaluate(T0 + 3 * WINDOW + 100);
    expect(notices).toEqual([]);
    anomalies.record(CLIENT, 'requests', 10, T0 + 3 * WINDOW + 200);
    evaluate(T0 + 3 * WINDOW + 300);
    expect(notices).toEqual([
      'request spike:client:reporting-dashboard:firing:requests: 55 in 60 s, usually 10 (threshold 50)',
      'anomalies:client:reporting-dashboard:firing:1 client usage anomalies in 15 minutes (threshold 0)',
    ]);
    // Still firing through the next window (the spike is its previous one), resolved in the one after.
    evaluate(T0 + 4 * WINDOW + 100);
    expect(notices).toHaveLength(2);
    evaluate(T0 + 5 * WINDOW + 100);
    expect(notices.slice(2)).toEqual([
      expect.stringMatching(/^request spike:client:reporting-dashboard:resolved:requests: 0 in 60 s/),
    ]);
    evaluate(T0 + 19 * WINDOW);
    expect(notices.slice(3)).toEqual([
      expect.stringMatching(/^anomalies:client:reporting-dashboard:resolved:0 client usage anomalies/),
    ]);
  });

  it('should default the rule to every signal, ×5 and 30, and refuse a signal the gateway does not count', () => {
    expect(rules.rules[0]!.when).toEqual({
      kind: 'client-usage-anomalous',
      signals: ['requests'],
      factor: 5,
      minimum: 30,
    });
    const defaults = parseAlertsFile(
      `
channels: { log: { type: log } }
rules:
  - { name: any, when: { kind: client-usage-anomalous }, severity: info, channels: [log] }
`,
      'test',
    );
    expect(defaults.rules[0]!.when).toEqual({
      kind: 'client-usage-anomalous',
      signals: ['requests', 'denied_fields', 'auth_failures'],
      factor: 5,
      minimum: 30,
    });
    expect(() =>
      parseAlertsFile(
        `
channels: { log: { type: log } }
rules:
  - { name: odd, when: { kind: client-usage-anomalous, signals: [downloads] }, severity: info, channels: [log] }
`,
        'test',
      ),
    ).toThrow(/rule "odd" > when > signals > 0/);
  });
});
