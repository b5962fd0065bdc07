import { createHash, randomUUID } from 'node:crypto';
import { recordOutcome } from '../../lib/health/recorder.js';
import { UpstreamError } from '../../lib/errors.js';
import type { StoredEvent } from '../../lib/events/event.js';
import type { Logger } from '../../lib/logger.js';
import { Counter } from '../../lib/metrics.js';
import { createRequestContext } from '../../lib/request-context.js';
import { writeFailure } from '../../lib/upstream/writes.js';
import type { ActionEvent, ActionExecutor, ActionOutcome } from '../../platforms/kit/actions.js';
import { actionKind, type RegisteredActionKind } from '../../platforms/registry.js';
import { matchingRules, type CustomerContext, type RoutingRule } from '../routing.js';
import type { ActionOutbox, ActionRecord, NewAction, Settlement } from './outbox.js';

export const actionMetrics = {
  accepted: new Counter(
    'actions_accepted_total',
    'Actions the rules asked for, by platform and type (the outbox records each once, however often its event is processed).',
    ['platform', 'type'],
  ),
  calls: new Counter('action_calls_total', 'Calls made to run actions, by platform and type.', [
    'platform',
    'type',
  ]),
  settled: new Counter(
    'actions_settled_total',
    'Action attempts settled, by platform, type and outcome (done, retried, failed).',
    ['platform', 'type', 'outcome'],
  ),
};

export interface ActionRunnerOptions {
  outbox: ActionOutbox;
  rules: readonly RoutingRule[];
  /** An executor per platform with a connection; actions of other platforms are not accepted. */
  executors: Partial<Record<string, ActionExecutor>>;
  logger: Logger;
  /** Attempts before a retryable failure (429, 5xx, network) is recorded as failed. @default 8 */
  maxAttempts?: number;
  /** First retry delay, doubling per attempt up to `maxRetryDelayMs`. @default 1000 */
  retryBaseMs?: number;
  /** @default 300000 (5 minutes) */
  maxRetryDelayMs?: number;
  /**
   * A partial batch of a kind that batches (Meta's 1,000 events a request) is sent once no action
   * of its kind has arrived for this long: while events keep coming, the batch waits to fill,
   * which spends fewer calls of the platform's budget. @default 1000
   */
  lingerMs?: number;
  /** The longest a partial batch waits for more, however fast actions arrive. @default 10000 */
  maxLingerMs?: number;
  /** Calls in flight per platform (each also waits on the client's own throttle). @default 4 */
  concurrency?: number;
  /** Time budget of one call, retries inside the client included. @default 60000 */
  callBudgetMs?: number;
  /** With a shared outbox (`sharedClaims`), how often expired claims are taken back. @default 2000 */
  recoverEveryMs?: number;
  /** Settled actions kept this long for operators, then pruned. @default 7 days */
  retentionMs?: number;
}

/** The outbox key of one rule's action for one event: the same however often the event is processed. */
export function actionKey(rule: string, index: number, eventId: string): string {
  return `act_${createHash('sha256').update(`${rule}\n${index}\n${eventId}`).digest('hex').slice(0, 32)}`;
}

/** The event as its actions see it, with the customer reference the processor completed. */
function actionEventOf(event: StoredEvent, customer: CustomerContext | null): ActionEvent {
  const id = event.customer?.id ?? customer?.id ?? undefined;
  const email = event.customer?.email ?? customer?.email ?? undefined;
  return {
    id: event.id,
    type: event.type,
    source: event.source,
    occurredAt: event.occurredAt,
    customer: id || email ? { ...(id ? { id } : {}), ...(email ? { email } : {}) } : null,
    properties: event.properties,
    personal: event.personal,
  };
}

/** What a failed call means for its actions. */
type CallFailure =
  | { kind: 'retry'; code: string; reason: string; afterMs: number }
  | { kind: 'failed'; code: string; reason: string };

function classify(error: unknown, kind: RegisteredActionKind): CallFailure {
  if (!(error instanceof UpstreamError)) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { kind: 'failed', code: 'ACTION_ERROR', reason: reason.slice(0, 500) };
  }
  const { upstreamCode, code, retryAfterSeconds } = error.details;
  const errorCode = upstreamCode ? `${code}:${upstreamCode}` : code;
  const reason = error.message.slice(0, 500);
  // A send that may have left is never sent again (see the platform's actions.ts).
  if (!kind.idempotent && writeFailure(error) === 'ambiguous')
    return { kind: 'failed', code: 'ACTION_OUTCOME_UNKNOWN', reason };
  // Throttled (a 429, or Meta's 400 with a throttling code), a 5xx, a timeout, the breaker open.
  const passing = error.retryable || upstreamCode === 'CIRCUIT_OPEN' || upstreamCode === 'CLIENT_THROTTLE';
  // Anything else (400, 401, 403, 404, 422...) will be refused again: fix the rule or the data.
  if (!passing) return { kind: 'failed', code: errorCode, reason };
  return { kind: 'retry', code: errorCode, reason, afterMs: (retryAfterSeconds ?? 0) * 1000 };
}

/**
 * Runs the actions routing rules ask for: `accept` records them in the outbox (the processor calls
 * it before the event counts as processed, so an accepted action is never lost), and a loop claims
 * due actions per kind, up to the kind's batch size, and runs them through the platform's executor
 * (its client's throttle, breaker and retries). 429s, 5xx and network failures are retried with
 * backoff (and the platform's Retry-After) up to `maxAttempts`; a refusal (4xx) or a rejected
 * action is recorded as failed with its code and logged (`ACTION_FAILED`).
 */
export class ActionRunner {
  private readonly rules: readonly RoutingRule[];
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private readonly inFlight = new Map<string, number>();
  private readonly calls = new Set<Promise<void>>();
  private readonly warnedMissing = new Set<string>();
  private pruneTimer: NodeJS.Timeout | undefined;
  private recoverTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ActionRunnerOptions) {
    this.rules = options.rules.filter((rule) => rule.actions !== undefined);
  }

  /** Whether any rule names an action: without one the runner need not run at all. */
  get hasActions(): boolean {
    return this.rules.length > 0;
  }

  /**
   * Records the actions of every rule this event matches (idempotently, by key), and wakes the
   * loop. Answers how many were new. Throws what the outbox throws: the processor retries the event.
   */
  async accept(event: StoredEvent, customer: CustomerContext | null): Promise<number> {
    if (this.rules.length === 0) return 0;
    const actions: NewAction[] = [];
    let actionEvent: ActionEvent | undefined;
    for (const rule of matchingRules(this.rules, event, customer)) {
      for (const [index, action] of (rule.actions ?? []).entries()) {
        if (!this.options.executors[action.platform]) {
          this.warnMissing(action.platform);
          continue;
        }
        actionEvent ??= actionEventOf(event, customer);
        actions.push({
          key: actionKey(rule.name, index, event.id),
          rule: rule.name,
          platform: action.platform,
          type: action.type,
          params: action.params,
          event: actionEvent,
        });
      }
    }
    if (actions.length === 0) return 0;
    const added = await this.options.outbox.enqueue(actions);
    for (const action of actions)
      actionMetrics.accepted.inc({ platform: action.platform, type: action.type });
    this.wake();
    return added;
  }

  private warnMissing(platform: string): void {
    if (this.warnedMissing.has(platform)) return;
    this.warnedMissing.add(platform);
    this.options.logger.warn(
      { platform, code: 'ACTION_PLATFORM_NOT_CONNECTED' },
      'a routing rule names an action on a platform with no connection here; those actions are not run',
    );
  }

  /** Recovers what a crash left under way, then runs the loop. */
  async start(): Promise<void> {
    const { outbox, logger } = this.options;
    await this.recover();
    // A shared outbox's claims run out when their worker dies: another worker takes them back
    // while it runs, not only when it starts.
    if (outbox.sharedClaims) {
      this.recoverTimer = setInterval(() => {
        this.recover().catch((error: unknown) =>
          logger.warn({ err: error }, 'taking back expired action claims failed; retrying'),
        );
      }, this.options.recoverEveryMs ?? 2_000);
      this.recoverTimer.unref();
    }
    const prune = () =>
      outbox
        .prune(Date.now() - (this.options.retentionMs ?? 7 * 86_400_000))
        .catch((error: unknown) => logger.warn({ err: error }, 'pruning settled actions failed'));
    void prune();
    this.pruneTimer = setInterval(() => void prune(), 3_600_000);
    this.pruneTimer.unref();
    this.running = true;
    this.loop = this.run();
  }

  wake(): void {
    this.wakeUp?.();
  }

  /** Claims left under way (by a dead process, or a worker whose lease ran out): due again or failed. */
  private async recover(): Promise<void> {
    const recovered = await this.options.outbox.recover(
      (platform, type) => actionKind(platform, type)?.idempotent ?? false,
      Date.now(),
    );
    if (recovered.requeued > 0) {
      this.options.logger.info(
        { requeued: recovered.requeued },
        'actions left under way by a stopped runner are due again',
      );
      this.wake();
    }
    for (const action of recovered.unknown)
      this.logFailure(action, 'ACTION_OUTCOME_UNKNOWN', 'the process stopped during the call');
  }

  /** Stops claiming, and waits for the calls under way to settle. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    if (this.recoverTimer) clearInterval(this.recoverTimer);
    this.wake();
    await this.loop;
    await Promise.all([...this.calls]);
  }

  private async run(): Promise<void> {
    const { outbox, logger } = this.options;
    const linger = this.options.lingerMs ?? 1_000;
    const maxLinger = this.options.maxLingerMs ?? 10_000;
    const concurrency = this.options.concurrency ?? 4;
    let failing = false;
    while (this.running) {
      let wakeAt = Date.now() + 1_000;
      try {
        const now = Date.now();
        for (const group of await outbox.due(now)) {
          const kind = actionKind(group.platform, group.type);
          const executor = this.options.executors[group.platform];
          if (!kind || !executor) continue;
          let remaining = group.count;
          while (remaining > 0 && (this.inFlight.get(group.platform) ?? 0) < concurrency) {
            // A partial batch waits while it is still growing, up to the longest wait.
            const growing = now - group.newestDueAt < linger && now - group.oldestDueAt < maxLinger;
            if (remaining < kind.batchSize && growing) {
              wakeAt = Math.min(wakeAt, group.newestDueAt + linger, group.oldestDueAt + maxLinger);
              break;
            }
            const claimed = await outbox.claim(group.platform, group.type, kind.batchSize, now);
            if (claimed.length === 0) break;
            remaining -= claimed.length;
            this.dispatch(kind, executor, claimed);
          }
        }
        const next = await outbox.nextDueAt();
        if (next !== null) wakeAt = Math.min(wakeAt, Math.max(next, Date.now() + 10));
        if (failing) logger.info('the action outbox answers again');
        failing = false;
      } catch (error) {
        if (!failing) logger.warn({ err: error }, 'reading the action outbox failed; retrying');
        failing = true;
      }
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(10, wakeAt - Date.now()));
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }

  private dispatch(kind: RegisteredActionKind, executor: ActionExecutor, claimed: ActionRecord[]): void {
    this.inFlight.set(kind.platform, (this.inFlight.get(kind.platform) ?? 0) + 1);
    const stopRenewing = this.renewWhileUnderWay(claimed);
    const call = this.execute(kind, executor, claimed)
      .catch((error: unknown) => {
        // Settling failed (the outbox is unwritable): the actions stay `sending` until the next start.
        this.options.logger.error(
          { err: error, platform: kind.platform },
          'recording action outcomes failed',
        );
      })
      .finally(() => {
        stopRenewing();
        this.inFlight.set(kind.platform, (this.inFlight.get(kind.platform) ?? 1) - 1);
        this.calls.delete(call);
        this.wake();
      });
    this.calls.add(call);
  }

  /**
   * With a shared outbox, renews the claim's lease every third of it while the call is under way,
   * so a call slower than the lease (a platform's Retry-After, a slow batch) is not taken back and
   * made twice by another worker. A worker that dies stops renewing, and its claims run out as
   * before. Returns the stop.
   */
  private renewWhileUnderWay(claimed: readonly ActionRecord[]): () => void {
    const { outbox, logger } = this.options;
    const leaseMs = outbox.claimLeaseMs;
    if (!outbox.renew || leaseMs === undefined) return () => undefined;
    const keys = claimed.map((action) => action.key);
    const timer = setInterval(
      () => {
        outbox
          .renew?.(keys, Date.now())
          .catch((error: unknown) =>
            logger.warn({ err: error }, 'renewing the lease of actions under way failed; retrying'),
          );
      },
      Math.max(1, Math.floor(leaseMs / 3)),
    );
    timer.unref();
    return () => clearInterval(timer);
  }

  private async execute(
    kind: RegisteredActionKind,
    executor: ActionExecutor,
    claimed: ActionRecord[],
  ): Promise<void> {
    const { logger } = this.options;
    const ctx = createRequestContext(logger, `actions-${randomUUID()}`, this.options.callBudgetMs ?? 60_000);
    actionMetrics.calls.inc({ platform: kind.platform, type: kind.type });
    let outcomes: ActionOutcome[];
    try {
      outcomes = await executor.run(
        ctx,
        kind.type,
        claimed.map((a) => ({ key: a.key, params: a.params, event: a.event })),
      );
    } catch (error) {
      const failure = classify(error, kind);
      outcomes = claimed.map(() =>
        failure.kind === 'failed'
          ? { status: 'rejected', code: failure.code, reason: failure.reason, retryable: false }
          : { status: 'rejected', code: failure.code, reason: failure.reason, retryable: true },
      );
      if (failure.kind === 'retry') return this.settle(kind, claimed, outcomes, failure.afterMs);
    }
    await this.settle(kind, claimed, outcomes, 0);
  }

  private async settle(
    kind: RegisteredActionKind,
    claimed: readonly ActionRecord[],
    outcomes: readonly ActionOutcome[],
    retryAfterMs: number,
  ): Promise<void> {
    const maxAttempts = this.options.maxAttempts ?? 8;
    const base = this.options.retryBaseMs ?? 1_000;
    const cap = this.options.maxRetryDelayMs ?? 300_000;
    const settlements: Settlement[] = [];
    const failed: { action: ActionRecord; code: string; reason: string }[] = [];
    for (const [i, action] of claimed.entries()) {
      const outcome = outcomes[i] ?? {
        status: 'rejected',
        code: 'ACTION_NO_ANSWER',
        reason: 'the executor answered no outcome',
        retryable: false,
      };
      const labels = { platform: kind.platform, type: kind.type };
      // The action's connection in the health model (`action:<platform>/<type>`).
      recordOutcome(
        { name: `action:${kind.platform}/${kind.type}`, kind: 'action', platform: kind.platform },
        outcome.status === 'done'
          ? { ok: true }
          : {
              ok: false,
              errorClass: outcome.retryable ? 'retryable' : 'rejected',
              code: outcome.code,
              message: `${kind.type} on ${kind.platform} not done`,
            },
      );
      if (outcome.status === 'done') {
        settlements.push({
          key: action.key,
          status: 'done',
          ...(outcome.detail ? { detail: outcome.detail } : {}),
        });
        actionMetrics.settled.inc({ ...labels, outcome: 'done' });
      } else if (outcome.retryable && action.attempts < maxAttempts) {
        const delay = Math.max(retryAfterMs, Math.min(cap, base * 2 ** (action.attempts - 1)));
        settlements.push({
          key: action.key,
          status: 'pending',
          code: outcome.code,
          reason: outcome.reason,
          dueAt: Date.now() + delay,
        });
        actionMetrics.settled.inc({ ...labels, outcome: 'retried' });
      } else {
        const code = outcome.retryable ? 'ACTION_ATTEMPTS_EXHAUSTED' : outcome.code;
        const reason = outcome.retryable ? `${outcome.code}: ${outcome.reason}` : outcome.reason;
        settlements.push({ key: action.key, status: 'failed', code, reason });
        failed.push({ action, code, reason });
        actionMetrics.settled.inc({ ...labels, outcome: 'failed' });
      }
    }
    await this.options.outbox.settle(settlements);
    for (const { action, code, reason } of failed) this.logFailure(action, code, reason);
  }

  /** One line per failed action, with its code: what monitoring counts and an operator reads. */
  private logFailure(action: ActionRecord, code: string, reason: string): void {
    this.options.logger.warn(
      {
        code: 'ACTION_FAILED',
        actionCode: code,
        // The platform's reason may echo an address or a number: it stays in the outbox row.
        reasonLength: reason.length,
        action: action.key,
        rule: action.rule,
        platform: action.platform,
        type: action.type,
        eventId: action.event.id,
        attempts: action.attempts,
      },
      'action failed',
    );
  }
}
