import type { ClientUsage } from '../gateway/auth/anomaly.js';
import type { ConnectionHealth } from './health.js';

/**
 * A gateway client as the alert rules read it: a `client` connection named `client:<label>`, with
 * the anomaly detector's figures (least-privilege work: requests, denied fields, failed
 * authentications per window against the client's own baseline) and its recent spikes. Clients
 * have no error rate, freshness or budget, so the other conditions stay quiet on them.
 */
export function clientHealthOf(usage: ClientUsage): ConnectionHealth {
  return {
    name: `client:${usage.client}`,
    kind: 'client',
    errorRate: null,
    freshnessSeconds: null,
    staleAfterSeconds: null,
    budgetLeft: null,
    clientAnomalies: usage.anomalies,
    clientUsage: { windowMs: usage.windowMs, signals: usage.signals },
  };
}
