import type { ConnectionHealth } from '../health.js';
import type { AlertRule, Condition } from './rules.js';

/** One condition on one connection at one moment. */
export interface Reading {
  /** The condition holds: the alert may fire. */
  active: boolean;
  /** The condition is clear past the hysteresis margin: a firing alert may resolve. */
  clear: boolean;
  /** The figure read, as a person reads it (`12.5% of calls failing`). */
  summary: string;
  value: number | null;
}

const percent = (ratio: number) => `${(ratio * 100).toFixed(1).replace(/\.0$/, '')}%`;
const DAY_MS = 86_400_000;

/** Never fires: the connection does not have the figure (no traffic, a kind the rule does not fit). */
const quiet = (summary: string): Reading => ({ active: false, clear: true, summary, value: null });

/**
 * Reads `condition` on `health`. A threshold condition is `active` past its threshold and `clear`
 * only past `clearAt` of it (an error rate alert at 5% clears at 4% with clearAt 0.8), so a figure
 * hovering at the threshold neither fires nor resolves twice.
 */
export function readCondition(
  condition: Condition,
  rule: Pick<AlertRule, 'clearAt'>,
  health: ConnectionHealth,
  nowMs: number,
): Reading {
  switch (condition.kind) {
    case 'error-rate-above': {
      const rate = health.errorRate;
      if (rate === null) return quiet('no traffic');
      return {
        active: rate > condition.threshold,
        clear: rate <= condition.threshold * rule.clearAt,
        summary: `${percent(rate)} failing (threshold ${percent(condition.threshold)})`,
        value: rate,
      };
    }
    case 'freshness-older-than': {
      const limitSeconds = condition.age !== undefined ? condition.age / 1000 : health.staleAfterSeconds;
      if (health.freshnessSeconds === null || limitSeconds === null) return quiet('no freshness figure');
      const age = health.freshnessSeconds;
      return {
        active: age > limitSeconds,
        clear: age <= limitSeconds * rule.clearAt,
        summary: `last success ${Math.round(age)} s ago (stale after ${Math.round(limitSeconds)} s)`,
        value: age,
      };
    }
    case 'sync-failed':
      if (health.lastRunFailed === undefined) return quiet('not a sync');
      return {
        active: health.lastRunFailed,
        clear: !health.lastRunFailed,
        summary: health.lastRunFailed ? 'the last run failed' : 'the last run succeeded',
        value: health.lastRunFailed ? 1 : 0,
      };
    case 'rows-rejected-above': {
      const rows = health.rowsRejected;
      if (rows === undefined) return quiet('not a sync');
      return {
        active: rows > condition.threshold,
        clear: rows <= condition.threshold * rule.clearAt,
        summary: `${rows} rows rejected in the last run (threshold ${condition.threshold})`,
        value: rows,
      };
    }
    case 'deliveries-exhausted': {
      const count = health.deliveriesExhausted;
      if (count === undefined) return quiet('no deliveries');
      return {
        active: count > 0,
        clear: count === 0,
        summary: `${count} messages used every attempt in the last hour`,
        value: count,
      };
    }
    case 'endpoint-disabled':
      if (health.disabled === undefined) return quiet('not an endpoint');
      return {
        active: health.disabled,
        clear: !health.disabled,
        summary: health.disabled ? 'disabled' : 'enabled',
        value: health.disabled ? 1 : 0,
      };
    case 'budget-below': {
      const left = health.budgetLeft;
      if (left === null) return quiet('no budget figure');
      return {
        active: left < condition.threshold,
        // The mirror of an upper threshold: a 10% floor clears at 12% with clearAt 0.8.
        clear: left >= condition.threshold * (2 - rule.clearAt),
        summary: `${percent(left)} of the rate-limit budget left (floor ${percent(condition.threshold)})`,
        value: left,
      };
    }
    case 'version-unsupported-within': {
      const until = health.version?.supportedUntil;
      if (!until) return quiet('no support window known');
      const daysLeft = Math.floor((Date.parse(until) - nowMs) / DAY_MS);
      const active = daysLeft < condition.days;
      return {
        active,
        clear: !active,
        summary: `API version ${health.version!.inUse} supported until ${until} (${daysLeft} days)`,
        value: daysLeft,
      };
    }
    case 'client-anomalies-above': {
      const count = health.clientAnomalies;
      if (count === undefined) return quiet('no anomaly figure');
      return {
        active: count > condition.threshold,
        clear: count <= condition.threshold * rule.clearAt,
        summary: `${count} client usage anomalies in 15 minutes (threshold ${condition.threshold})`,
        value: count,
      };
    }
    case 'client-usage-anomalous':
      return readClientUsage(condition, rule, health);
    case 'client-denied-first-time': {
      const denials = health.clientFirstDenials;
      if (!denials) return quiet('not a client');
      const recent = denials.filter((denial) => nowMs - denial.at < condition.quiet);
      const span =
        condition.quiet < 60_000
          ? `${Math.round(condition.quiet / 1000)} s`
          : `${Math.round(condition.quiet / 60_000)} min`;
      return {
        active: recent.length > 0,
        clear: recent.length === 0,
        summary:
          recent.length > 0
            ? `denied for the first time: ${recent.map((denial) => denial.item).join(', ')} (in the last ${span})`
            : `no new denial in ${span}`,
        value: recent.length,
      };
    }
  }
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * The busiest of the client's watched signals, over the window under way and the one before (each
 * against the baseline of its own time), as a share of its threshold: max(minimum, factor ×
 * baseline). Active past 1; clear at `clearAt` or under, so a burst fires once and resolves once
 * the client is back to its usual rate for a full window.
 */
function readClientUsage(
  condition: Extract<Condition, { kind: 'client-usage-anomalous' }>,
  rule: Pick<AlertRule, 'clearAt'>,
  health: ConnectionHealth,
): Reading {
  const usage = health.clientUsage;
  if (!usage) return quiet('not a client');
  let worst: { ratio: number; summary: string } | undefined;
  for (const signal of condition.signals) {
    const figures = usage.signals[signal];
    if (!figures) continue;
    const windows = [
      { count: figures.current, baseline: figures.baseline },
      ...(figures.previous ? [figures.previous] : []),
    ];
    for (const window of windows) {
      const threshold = Math.max(condition.minimum, condition.factor * (window.baseline ?? 0));
      const ratio = window.count / threshold;
      if (!worst || ratio > worst.ratio)
        worst = {
          ratio,
          summary: `${signal.replace('_', ' ')}: ${window.count} in ${Math.round(usage.windowMs / 1000)} s, usually ${round(window.baseline ?? 0)} (threshold ${round(threshold)})`,
        };
    }
  }
  if (!worst) return quiet('no usage of the watched signals');
  return {
    active: worst.ratio > 1,
    clear: worst.ratio <= rule.clearAt,
    summary: worst.summary,
    value: worst.ratio,
  };
}
