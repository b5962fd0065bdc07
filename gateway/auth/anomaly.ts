import type { Logger } from '../../lib/logger.js';
import { Counter } from '../../lib/metrics.js';
import { clientKey, clientLabel, type ClientIdentity } from '../identity.js';

export type Signal = 'requests' | 'denied_fields' | 'auth_failures';

export const anomalyMetrics = {
  spikes: new Counter(
    'client_anomalies_total',
    'Per-client spikes over that client’s own baseline, by signal.',
    ['client', 'signal'],
  ),
};

export interface AnomalyOptions {
  logger: Logger;
  /** Width of one counting window. @default 60000 */
  windowMs?: number;
  /** A window counts as a spike above this multiple of the client's baseline. @default 5 */
  factor?: number;
  /** ...and above this absolute count, so a quiet client's first requests are not spikes. @default 30 */
  minimum?: number;
}

interface Series {
  windowStart: number;
  count: number;
  /** Exponential moving average of past windows. */
  baseline: number | undefined;
  reported: boolean;
}

/**
 * Unusual usage per client: request rate, denied fields and failed authentications, each counted in
 * one-minute windows and compared with that client's own moving baseline. A spike logs one
 * structured warning per window and increments `client_anomalies_total` for alerting.
 */
export class AnomalyDetector {
  private readonly series = new Map<string, Series>();
  private readonly windowMs: number;
  private readonly factor: number;
  private readonly minimum: number;

  constructor(private readonly options: AnomalyOptions) {
    this.windowMs = options.windowMs ?? 60_000;
    this.factor = options.factor ?? 5;
    this.minimum = options.minimum ?? 30;
  }

  /** Counts for a client (keyed like every per-client state, by credential kind and id). */
  record(client: ClientIdentity, signal: Signal, by = 1, now = Date.now()): void {
    const key = `${clientKey(client)}\n${signal}`;
    let series = this.series.get(key);
    if (!series) {
      if (this.series.size > 50_000) this.series.clear();
      series = { windowStart: now, count: 0, baseline: undefined, reported: false };
      this.series.set(key, series);
    }
    const elapsed = Math.floor((now - series.windowStart) / this.windowMs);
    if (elapsed > 0) {
      // Close the finished window(s) into the baseline; empty windows pull it toward zero.
      for (let i = 0; i < Math.min(elapsed, 30); i++) {
        const value = i === 0 ? series.count : 0;
        series.baseline = series.baseline === undefined ? value : series.baseline * 0.8 + value * 0.2;
      }
      series.windowStart += elapsed * this.windowMs;
      series.count = 0;
      series.reported = false;
    }
    series.count += by;
    const threshold = Math.max(this.minimum, this.factor * (series.baseline ?? 0));
    if (!series.reported && series.count > threshold) {
      series.reported = true;
      anomalyMetrics.spikes.inc({ client: clientLabel(client), signal });
      this.options.logger.warn(
        {
          anomaly: signal,
          client: client.id,
          via: client.via,
          count: series.count,
          baseline: Math.round((series.baseline ?? 0) * 10) / 10,
          windowMs: this.windowMs,
        },
        'unusual usage for this client',
      );
    }
  }
}
