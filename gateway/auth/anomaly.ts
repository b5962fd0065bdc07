import type { Logger } from '../../lib/logger.js';
import { Counter } from '../../lib/metrics.js';
import type { CLIENT_SIGNALS } from '../../monitoring/alerts/rules.js';
import { clientKey, clientLabel, type ClientIdentity } from '../identity.js';

/** One list with the alert rules' schema, so a rule cannot name a signal that is never counted. */
export type Signal = (typeof CLIENT_SIGNALS)[number];

/** One signal of one client now, for the alert rules (monitoring/client-usage.ts). */
export interface SignalUsage {
  /** Count in the window under way. */
  current: number;
  /** The baseline the window under way is judged against (moving average of past windows); null before one closed. */
  baseline: number | null;
  /**
   * The window that closed last, with the baseline it was judged against, when it ended less than
   * one window ago: a spike stays visible for one more window after its own closes, so an alert
   * does not resolve merely because a new window started.
   */
  previous: { count: number; baseline: number | null } | null;
}

/** A client's figures now: what the `client-usage-anomalous` and `client-anomalies-above` rules read. */
export interface ClientUsage {
  /** The metrics' label for the client (`personalization-service`, `oidc:abc`). */
  client: string;
  via: ClientIdentity['via'];
  windowMs: number;
  signals: Partial<Record<Signal, SignalUsage>>;
  /** Windows that spiked past the detector's own factor and minimum over the last 15 minutes. */
  anomalies: number;
  /**
   * Fields the client was denied for the first time ever (first-seen set kept in the health
   * history, so a restart or another gateway does not call an old denial new), over the last
   * 24 hours, oldest first: what the `client-denied-first-time` rule reads.
   */
  firstDenials: { item: string; at: number }[];
}

/** How long a first denial is remembered for `ClientUsage.firstDenials` (the longest quiet period a rule may ask). */
export const FIRST_DENIAL_MEMORY_MS = 24 * 3_600_000;

/** How long a spike counts in `ClientUsage.anomalies`. */
const ANOMALY_MEMORY_MS = 15 * 60_000;

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
  /**
   * Whether (client label, denied item) was never noted before, anywhere: the health history's
   * first-seen set (lib/health/history). @default this process's memory alone
   */
  firstSeen?: (client: string, item: string) => Promise<boolean>;
}

interface Series {
  windowStart: number;
  count: number;
  /** Exponential moving average of past windows. */
  baseline: number | undefined;
  reported: boolean;
  /** The last closed window and the baseline it was judged against. */
  previous: { count: number; baseline: number | undefined; endedAt: number } | undefined;
  client: ClientIdentity;
  signal: Signal;
}

/**
 * Unusual usage per client: request rate, denied fields and failed authentications, each counted in
 * one-minute windows and compared with that client's own moving baseline. A spike logs one
 * structured warning per window and increments `client_anomalies_total` for alerting.
 */
export class AnomalyDetector {
  private readonly series = new Map<string, Series>();
  /** Spike times by client key, for `usage().anomalies`. */
  private readonly spikes = new Map<string, number[]>();
  /** Items each client was denied, as far as this process knows (a cache before the shared set). */
  private readonly denied = new Set<string>();
  /** First denials by client key, with when. */
  private readonly firstDenials = new Map<string, { client: ClientIdentity; item: string; at: number }[]>();
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
      if (this.series.size > 50_000) {
        this.series.clear();
        this.spikes.clear();
      }
      series = {
        windowStart: now,
        count: 0,
        baseline: undefined,
        reported: false,
        previous: undefined,
        client,
        signal,
      };
      this.series.set(key, series);
    }
    this.roll(series, now);
    series.count += by;
    const threshold = Math.max(this.minimum, this.factor * (series.baseline ?? 0));
    if (!series.reported && series.count > threshold) {
      series.reported = true;
      this.rememberSpike(clientKey(client), now);
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

  /**
   * Fields the client was just denied (`Customer.phone`): each counts as `denied_fields`, and one
   * it was never denied before is a first denial, logged and kept for the alert rules. Asking the
   * shared first-seen set is asynchronous; the request does not wait for it.
   */
  recordDenied(client: ClientIdentity, items: readonly string[], now = Date.now()): void {
    if (items.length === 0) return;
    this.record(client, 'denied_fields', items.length, now);
    const key = clientKey(client);
    for (const item of new Set(items)) {
      const seen = `${key}\n${item}`;
      if (this.denied.has(seen)) continue;
      if (this.denied.size > 50_000) this.denied.clear();
      this.denied.add(seen);
      const label = clientLabel(client);
      const firstSeen = this.options.firstSeen ?? (() => Promise.resolve(true));
      void firstSeen(label, item)
        .then((first) => {
          if (!first) return;
          const list = (this.firstDenials.get(key) ?? []).filter(
            (denial) => now - denial.at < FIRST_DENIAL_MEMORY_MS,
          );
          list.push({ client, item, at: now });
          this.firstDenials.set(key, list.slice(-100));
          this.options.logger.warn(
            { client: client.id, via: client.via, field: item },
            'client denied a field for the first time',
          );
        })
        .catch((error: unknown) => {
          // Not known: tried again at the next denial.
          this.denied.delete(seen);
          this.options.logger.warn({ err: error }, 'checking a first denial failed');
        });
    }
  }

  /** Closes the finished window(s) into the baseline; empty windows pull it toward zero. */
  private roll(series: Series, now: number): void {
    const elapsed = Math.floor((now - series.windowStart) / this.windowMs);
    if (elapsed <= 0) return;
    const closedEnd = series.windowStart + this.windowMs;
    // Only a window that closed just now stays "previous"; after an empty one, the previous is that empty one.
    series.previous =
      elapsed === 1
        ? { count: series.count, baseline: series.baseline, endedAt: closedEnd }
        : { count: 0, baseline: undefined, endedAt: series.windowStart + elapsed * this.windowMs };
    for (let i = 0; i < Math.min(elapsed, 30); i++) {
      const value = i === 0 ? series.count : 0;
      if (elapsed > 1 && i === elapsed - 1) series.previous.baseline = series.baseline;
      series.baseline = series.baseline === undefined ? value : series.baseline * 0.8 + value * 0.2;
    }
    series.windowStart += elapsed * this.windowMs;
    series.count = 0;
    series.reported = false;
  }

  private rememberSpike(key: string, now: number): void {
    const times = (this.spikes.get(key) ?? []).filter((at) => now - at < ANOMALY_MEMORY_MS);
    times.push(now);
    this.spikes.set(key, times);
  }

  /**
   * Every client seen, with each signal's window under way, the window before and their
   * baselines. Reading rolls the windows forward, so a client that went quiet reads as quiet.
   */
  usage(now = Date.now()): ClientUsage[] {
    const byClient = new Map<string, ClientUsage>();
    for (const series of this.series.values()) {
      this.roll(series, now);
      const key = clientKey(series.client);
      let usage = byClient.get(key);
      if (!usage) {
        const spikes = (this.spikes.get(key) ?? []).filter((at) => now - at < ANOMALY_MEMORY_MS);
        usage = {
          client: clientLabel(series.client),
          via: series.client.via,
          windowMs: this.windowMs,
          signals: {},
          anomalies: spikes.length,
          firstDenials: this.firstDenialsOf(key, now),
        };
        byClient.set(key, usage);
      }
      const previous = series.previous;
      usage.signals[series.signal] = {
        current: series.count,
        baseline: series.baseline ?? null,
        previous:
          previous && now - previous.endedAt < this.windowMs
            ? { count: previous.count, baseline: previous.baseline ?? null }
            : null,
      };
    }
    return [...byClient.values()];
  }

  private firstDenialsOf(key: string, now: number): ClientUsage['firstDenials'] {
    return (this.firstDenials.get(key) ?? [])
      .filter((denial) => now - denial.at < FIRST_DENIAL_MEMORY_MS)
      .map(({ item, at }) => ({ item, at }));
  }
}
