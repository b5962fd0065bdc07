import type { ClientUsage } from '../gateway/auth/anomaly.js';
import type { ConnectionHealth } from './health.js';

/**
 * A gateway client as the alert rules read it: a `client` connection named `client:<label>`, with
 * the anomaly detector's figures (least-privilege work: requests, denied fields, failed
 * authentications per window against the client's own baseline), its recent spikes and first
 * denials, over the health model's row of the client (its requests and refusals), when it has one.
 */
export function clientHealthOf(usage: ClientUsage, recorded?: ConnectionHealth): ConnectionHealth {
  return {
    // The health model's row of the same client (its requests, those refused), when it has one.
    ...(recorded ?? {
      errorRate: null,
      freshnessSeconds: null,
      staleAfterSeconds: null,
      budgetLeft: null,
    }),
    name: `client:${usage.client}`,
    kind: 'client',
    clientAnomalies: usage.anomalies,
    clientUsage: { windowMs: usage.windowMs, signals: usage.signals },
    clientFirstDenials: usage.firstDenials,
  };
}
