import type { ConnectionHealth } from '../health.js';
import { readCondition } from './conditions.js';
import type { AlertRule } from './rules.js';

/** A notice to send: an alert fired, or one that fired has resolved. */
export interface AlertNotice {
  rule: string;
  connection: string;
  kind: ConnectionHealth['kind'];
  platform?: string;
  severity: AlertRule['severity'];
  state: 'firing' | 'resolved';
  /** ISO time of the evaluation that changed the state. */
  at: string;
  /** When the alert first fired (same as `at` for a firing notice). */
  firedAt: string;
  summary: string;
  channels: readonly string[];
  lastError?: ConnectionHealth['lastError'];
}

type Phase =
  | { phase: 'ok'; resolvedAt?: number }
  | { phase: 'pending'; since: number; resolvedAt?: number }
  | { phase: 'firing'; firedAt: number }
  | { phase: 'clearing'; firedAt: number; since: number };

function watches(rule: AlertRule, health: ConnectionHealth): boolean {
  const scope = rule.connections;
  if (!scope) return true;
  if (scope.kinds && !scope.kinds.includes(health.kind)) return false;
  if (scope.platforms && (!health.platform || !scope.platforms.includes(health.platform))) return false;
  if (scope.names && !scope.names.includes(health.name)) return false;
  return true;
}

/**
 * Turns health snapshots into alert notices, one state machine per (rule, connection):
 * ok → pending (the condition holds) → firing (it held for `for`, and the cooldown since the last
 * resolution has passed) → clearing (it is clear past the hysteresis margin) → ok (it stayed clear
 * for `clearFor`: a `resolved` notice). A condition that comes back while clearing returns to firing
 * without a second notice. Evaluation is synchronous and sends nothing itself: the notices go to
 * the notifier's queue, so a slow channel never delays the data path or the next evaluation.
 */
export class AlertEngine {
  private readonly phases = new Map<string, Phase>();

  constructor(private readonly rules: readonly AlertRule[]) {}

  evaluate(snapshot: readonly ConnectionHealth[], nowMs: number): AlertNotice[] {
    const notices: AlertNotice[] = [];
    for (const rule of this.rules) {
      for (const health of snapshot) {
        if (!watches(rule, health)) continue;
        const key = `${rule.name}\u0000${health.name}`;
        const reading = readCondition(rule.when, rule, health, nowMs);
        const phase = this.phases.get(key) ?? { phase: 'ok' };
        const notice = (state: AlertNotice['state'], firedAt: number): AlertNotice => ({
          rule: rule.name,
          connection: health.name,
          kind: health.kind,
          ...(health.platform ? { platform: health.platform } : {}),
          severity: rule.severity,
          state,
          at: new Date(nowMs).toISOString(),
          firedAt: new Date(firedAt).toISOString(),
          summary: reading.summary,
          channels: rule.channels,
          ...(health.lastError ? { lastError: health.lastError } : {}),
        });
        const next = this.step(rule, phase, reading, nowMs, (state, firedAt) =>
          notices.push(notice(state, firedAt)),
        );
        this.phases.set(key, next);
      }
    }
    return notices;
  }

  private step(
    rule: AlertRule,
    phase: Phase,
    reading: { active: boolean; clear: boolean },
    now: number,
    emit: (state: AlertNotice['state'], firedAt: number) => void,
  ): Phase {
    switch (phase.phase) {
      case 'ok':
      case 'pending': {
        if (!reading.active)
          return { phase: 'ok', ...(phase.resolvedAt !== undefined ? { resolvedAt: phase.resolvedAt } : {}) };
        const since = phase.phase === 'pending' ? phase.since : now;
        const heldLongEnough = now - since >= rule.for;
        const cooledDown = phase.resolvedAt === undefined || now - phase.resolvedAt >= rule.cooldown;
        if (heldLongEnough && cooledDown) {
          emit('firing', now);
          return { phase: 'firing', firedAt: now };
        }
        return {
          phase: 'pending',
          since,
          ...(phase.resolvedAt !== undefined ? { resolvedAt: phase.resolvedAt } : {}),
        };
      }
      case 'firing':
        return reading.clear
          ? this.step(rule, { phase: 'clearing', firedAt: phase.firedAt, since: now }, reading, now, emit)
          : phase;
      case 'clearing': {
        if (!reading.clear) return { phase: 'firing', firedAt: phase.firedAt };
        if (now - phase.since >= rule.clearFor) {
          emit('resolved', phase.firedAt);
          return { phase: 'ok', resolvedAt: now };
        }
        return phase;
      }
    }
  }

  /** Alerts firing now, for the status page. */
  firing(): { rule: string; connection: string; since: string }[] {
    return [...this.phases]
      .filter(([, p]) => p.phase === 'firing' || p.phase === 'clearing')
      .map(([key, p]) => {
        const [rule, connection] = key.split('\u0000') as [string, string];
        return { rule, connection, since: new Date((p as { firedAt: number }).firedAt).toISOString() };
      });
  }
}
