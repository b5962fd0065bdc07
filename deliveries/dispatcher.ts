import type { Span } from '@opentelemetry/api';
import { markSpanFailed, withStoredSpan } from '../lib/telemetry/tracing.js';
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { Agent } from 'undici';
import { recordFacts, recordOutcome } from '../lib/health/recorder.js';
import type { Logger } from '../lib/logger.js';
import { AttemptAbortedError, sendAttempt, type AttemptResult } from './attempt.js';
import type { Clock } from './clock.js';
import type { DeliveriesConfig } from './config.js';
import type { DisabledReason, Endpoint } from './endpoint.js';
import { deliveryMetrics } from './metrics.js';
import { noticeEvent } from './notices.js';
import { TokenBucket } from './rate-limit.js';
import { verdictFor, type Verdict } from './retry-policy.js';
import type { SecretSealer } from './secrets.js';
import { SerialRunner } from './serial-runner.js';
import { signatureHeaders } from './signing.js';
import type { SsrfGuard } from './ssrf/guard.js';
import type { DeliveryStore, OutboxMessage } from './store/types.js';

/** Runs `then` after the next poll of the event loop: a setImmediate queued from a setImmediate. */
const afterNextPoll = (then: () => void): void => {
  setImmediate(() => setImmediate(then));
};

/** A message of `lane` is due at `dueMs`: its next due time is that, if earlier. */
function lowerDue(lane: Lane, dueMs: number): void {
  lane.nextDueMs = Math.min(lane.nextDueMs, dueMs);
  lane.dueDuringClaimMs = Math.min(lane.dueDuringClaimMs, dueMs);
}

/** What the management side tells the dispatcher, so it never has to poll the store for changes. */
export interface DeliveryScheduler {
  /** An endpoint was created, changed, enabled, disabled, deleted, or its secret rotated. */
  endpointChanged(endpointId: string): Promise<void>;
  /** Messages of these endpoints became due now (enqueued, replayed, recovered). */
  due(endpointIds: Iterable<string>): void;
}

export interface DispatcherOptions {
  store: DeliveryStore;
  config: DeliveriesConfig;
  guard: SsrfGuard;
  sealer: SecretSealer;
  clock: Clock;
  logger: Logger;
  /** Called after a notice was stored, so the relay emits it. */
  onNotice?: () => void;
}

export const USER_AGENT = 'marketing-graph-webhooks/1';
const UNRECORDED_RETRY_MS = 30_000;
/**
 * The shortest wait between a claiming pass and a pass woken by a retry coming due. A failing
 * endpoint's retries come due one by one (each failure schedules its own), and waking a pass for
 * each cost a store transaction apiece between the healthy endpoints' claims: within this gap they
 * are claimed together, by the next pass (most often one woken by a finished attempt anyway). A
 * retry is then late by at most this, against a schedule of seconds to hours.
 */
const RETRY_WAKE_GAP_MS = 25;
/**
 * A lane enters a failing streak at a failed attempt that comes this long or more after the first
 * failure since its last success, and leaves it at its next success. Long against a healthy
 * endpoint's answers, which come every few ms: an endpoint failing half its attempts (a success
 * among every few answers) never gets there, so it keeps its full concurrency and its passes; a
 * dead one (every attempt times out) does at its second round of timeouts. It changes only when an
 * attempt's result comes in, never by time alone, so each change is followed by a wake-up.
 */
export const FAILING_STREAK_MS = 250;
/**
 * Lanes in a failing streak are claimed in a pass of their own, at most once per this gap, never in
 * the passes that claim for the healthy lanes: a dead endpoint frees a slot after every timeout and
 * its backlog only grows, and claiming for it in every pass (and waking a pass for each freed slot)
 * added its statements to the transactions the healthy endpoints' deliveries wait for. A retry of a
 * failing endpoint is then late by at most this (when its lane has room).
 */
export const FAILING_PASS_GAP_MS = 100;
/**
 * Attempts in flight at most for a lane in a failing streak (the configured per-endpoint
 * concurrency otherwise): enough to see it recover, while a dead endpoint holds 2 sockets and
 * claims 2 messages per attempt timeout instead of 16.
 */
export const FAILING_LANE_CONCURRENCY = 2;
/**
 * A lane that answered a failure (any non-2xx, timeout or connection error) within this is
 * **demoted**, though not in a failing streak: an endpoint failing half its attempts, with a
 * success every few ms. Its work goes after the healthy lanes' in each turn of the event loop: in a
 * pass, its claims come after theirs, and its attempts start after the next poll of the event loop
 * (theirs at once); a slot it frees (or a retry of it coming due) does not wake a pass at once but
 * one deferred past the next poll, so responses and new messages of healthy lanes that are ready
 * by then are read and claimed first, its claims riding in their pass when one comes. Its
 * throughput is not capped (full concurrency, every pass claims it): it is only later in the turn.
 * Short, so a lane that recovered is promoted again after a second of successes.
 */
export const RECENT_FAILURE_MS = 1_000;

/** One endpoint's queue: its own concurrency, rate limit and due time, apart from every other's. */
interface Lane {
  endpoint: Endpoint;
  inFlight: number;
  /** When its first unclaimed pending message is due; Infinity when none is known. */
  nextDueMs: number;
  /**
   * The earliest due time learnt (`lowerDue`) while a claiming pass for this lane was waiting for
   * the store: the store's answer was read before it, so the pass keeps the earlier of the two.
   */
  dueDuringClaimMs: number;
  bucket: TokenBucket | undefined;
  /**
   * When this dispatcher first saw an attempt of it fail since its last success (or, for a lane
   * just made, the store's streak); null while its last attempt succeeded.
   */
  failingSinceMs: number | null;
  /** In a failing streak (`FAILING_STREAK_MS`): claimed apart, at most once per gap, 2 at a time. */
  failing: boolean;
  /** When an attempt of it last failed, as this dispatcher saw it: demoted until `RECENT_FAILURE_MS` after. */
  lastFailedMs: number;
  /** Opened secrets, until the first of them expires. */
  secrets: { values: string[]; untilMs: number } | undefined;
}

/**
 * Sends the outbox's messages to their endpoints. Each endpoint has a lane: messages are claimed
 * per endpoint, at most `perEndpointConcurrency` in flight and within its rate limit, so a slow or
 * dead endpoint fills only its own lane and never delays another (no head-of-line blocking; no
 * order between messages is promised, as with Svix). A lane in a failing streak is claimed apart,
 * at most every `FAILING_PASS_GAP_MS` and `FAILING_LANE_CONCURRENCY` at a time; one that failed
 * recently (`RECENT_FAILURE_MS`) is demoted: its claims go after the healthy lanes' in each pass,
 * and its attempts start and its freed slots wake a pass only after the next poll of the event loop. A timer on the
 * deliveries' clock wakes the dispatcher when the next lane is due; finished attempts and new
 * messages wake it too.
 *
 * At least once: a message is claimed before its attempt and settled after it, and marked
 * succeeded only on a 2xx; a process that dies mid-attempt leaves the claim, which the store
 * holds only in memory (embedded: the message is due at the next start) or until the lease runs
 * out (distributed).
 */
export class Dispatcher implements DeliveryScheduler {
  readonly owner = `dispatcher-${randomUUID()}`;
  private readonly lanes = new Map<string, Lane>();
  private readonly attempts = new Set<Promise<void>>();
  private readonly agent: Agent;
  private readonly stopping = new AbortController();
  private readonly claimer: SerialRunner;
  private backoffUntilMs = 0;
  /** When the last claiming pass started, on the deliveries' clock. */
  private lastPassMs = Number.NEGATIVE_INFINITY;
  /** When the last pass for the lanes in a failing streak started. */
  private lastFailingPassMs = Number.NEGATIVE_INFINITY;
  private pumpScheduled = false;
  /** A pass deferred for demoted lanes is scheduled (`pumpLate`). */
  private latePumpScheduled = false;
  private timer: { atMs: number; late: boolean; cancel: () => void } | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: DispatcherOptions) {
    const { config, guard } = options;
    // Every attempt in flight listens on it (16 per endpoint): no leak, just many at once.
    setMaxListeners(0, this.stopping.signal);
    this.claimer = new SerialRunner(
      () =>
        this.claimAndStart().then(
          () => {
            this.backoffUntilMs = 0;
          },
          (error: unknown) => {
            // The store failed (disk full, locked): no claiming for a second rather than spinning.
            this.options.logger.error(
              { err: error },
              'claiming webhook messages failed; trying again in 1 s',
            );
            this.backoffUntilMs = this.options.clock.now() + 1_000;
          },
        ),
      () => {
        this.arm();
        this.wakeIdleWaiters();
      },
    );
    this.agent = new Agent({
      // Every connection resolves through the SSRF guard: the address connected to is one it checked.
      connect: { lookup: guard.lookup, timeout: config.attemptTimeoutMs },
      connections: config.perEndpointConcurrency,
      headersTimeout: config.attemptTimeoutMs,
      bodyTimeout: config.attemptTimeoutMs,
    });
  }

  /** Loads the enabled endpoints and their due times, then starts sending. */
  async start(): Promise<void> {
    const [endpoints, due] = await Promise.all([
      this.options.store.endpoints(),
      this.options.store.dueTimes(),
    ]);
    for (const endpoint of endpoints)
      if (endpoint.enabled) this.lanes.set(endpoint.id, this.newLane(endpoint, due.get(endpoint.id)));
    this.pump();
  }

  async endpointChanged(endpointId: string): Promise<void> {
    const endpoint = await this.options.store.endpoint(endpointId);
    if (!endpoint?.enabled) {
      // Attempts in flight finish; nothing new is claimed for it.
      this.lanes.delete(endpointId);
      return;
    }
    const lane = this.lanes.get(endpointId);
    if (lane) {
      if (lane.endpoint.rateLimitPerSecond !== endpoint.rateLimitPerSecond)
        lane.bucket = this.bucketFor(endpoint);
      lane.endpoint = endpoint;
      lane.secrets = undefined;
    } else {
      const due = await this.options.store.dueTimes();
      this.lanes.set(endpointId, this.newLane(endpoint, due.get(endpointId)));
    }
    this.pump();
  }

  /**
   * Re-reads every endpoint and due time: for a store shared with other workers, whose change
   * notices are best effort (pub/sub drops what is published while a worker reconnects). Also
   * forgets opened secrets, so a rotation elsewhere is picked up.
   */
  async resync(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    const [endpoints, due] = await Promise.all([
      this.options.store.endpoints(),
      this.options.store.dueTimes(),
    ]);
    const enabled = new Set<string>();
    for (const endpoint of endpoints) {
      if (!endpoint.enabled) continue;
      enabled.add(endpoint.id);
      const lane = this.lanes.get(endpoint.id);
      if (!lane) {
        this.lanes.set(endpoint.id, this.newLane(endpoint, due.get(endpoint.id)));
        continue;
      }
      if (lane.endpoint.rateLimitPerSecond !== endpoint.rateLimitPerSecond)
        lane.bucket = this.bucketFor(endpoint);
      lane.endpoint = endpoint;
      lane.secrets = undefined;
      lowerDue(lane, due.get(endpoint.id) ?? Number.POSITIVE_INFINITY);
    }
    for (const id of this.lanes.keys()) if (!enabled.has(id)) this.lanes.delete(id);
    this.pump();
  }

  due(endpointIds: Iterable<string>): void {
    const now = this.options.clock.now();
    let unknown = false;
    for (const id of endpointIds) {
      const lane = this.lanes.get(id);
      if (lane) lowerDue(lane, now);
      else unknown = true;
    }
    // An endpoint created by another process's management API: its lane is made now, not a poll later.
    if (unknown) this.refreshSoon();
    this.pump();
  }

  private refreshSoon(): void {
    this.resync().catch((error: unknown) =>
      this.options.logger.error(
        { err: error },
        'reloading webhook endpoints failed; the next change retries',
      ),
    );
  }

  /**
   * Resolves once nothing is in flight and nothing can start now: every lane is waiting for its
   * next due time, its rate limit, or has nothing. For tests, and for a graceful drain.
   */
  settled(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Attempts in flight now. */
  get inFlight(): number {
    return this.attempts.size;
  }

  /** Stops claiming, aborts attempts in flight (their messages are released, due again) and closes connections. */
  async stop(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    this.claimer.stop();
    this.timer?.cancel();
    this.timer = undefined;
    await Promise.allSettled([...this.attempts]);
    await this.agent.close();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private newLane(endpoint: Endpoint, dueMs: number | undefined): Lane {
    return {
      endpoint,
      inFlight: 0,
      nextDueMs: dueMs ?? Number.POSITIVE_INFINITY,
      dueDuringClaimMs: Number.POSITIVE_INFINITY,
      bucket: this.bucketFor(endpoint),
      failingSinceMs: endpoint.failingSinceMs,
      failing:
        endpoint.failingSinceMs !== null &&
        this.options.clock.now() - endpoint.failingSinceMs >= FAILING_STREAK_MS,
      lastFailedMs: endpoint.failingSinceMs ?? Number.NEGATIVE_INFINITY,
      secrets: undefined,
    };
  }

  private bucketFor(endpoint: Endpoint): TokenBucket | undefined {
    return endpoint.rateLimitPerSecond === null
      ? undefined
      : new TokenBucket(endpoint.rateLimitPerSecond, this.options.clock.now());
  }

  /** Attempts `lane` may have in flight: fewer while it is in a failing streak. */
  private concurrencyOf(lane: Lane): number {
    const { perEndpointConcurrency } = this.options.config;
    return lane.failing ? Math.min(FAILING_LANE_CONCURRENCY, perEndpointConcurrency) : perEndpointConcurrency;
  }

  /**
   * How many of `lane`'s messages may start now. A lane in a failing streak has room only once the
   * gap since the last pass for such lanes has passed.
   */
  private room(lane: Lane, nowMs: number): number {
    if (lane.nextDueMs > nowMs) return 0;
    if (lane.failing && nowMs < this.lastFailingPassMs + FAILING_PASS_GAP_MS) return 0;
    const free = this.concurrencyOf(lane) - lane.inFlight;
    return Math.max(0, Math.min(free, lane.bucket ? lane.bucket.available(nowMs) : free));
  }

  /**
   * When a pass is woken for `lane`'s next due message: a lane in a failing streak waits for the
   * gap after the last pass for such lanes; otherwise a message that came due after the last pass
   * (a retry) waits for the gap after it, and one due before waits only for room.
   */
  private wakeAt(lane: Lane): number {
    if (lane.failing) return Math.max(lane.nextDueMs, this.lastFailingPassMs + FAILING_PASS_GAP_MS);
    return lane.nextDueMs > this.lastPassMs
      ? Math.max(lane.nextDueMs, this.lastPassMs + RETRY_WAKE_GAP_MS)
      : lane.nextDueMs;
  }

  /** Answered a failure recently, not in a failing streak: its work goes after the healthy lanes'. */
  private demoted(lane: Lane, nowMs: number): boolean {
    return !lane.failing && nowMs - lane.lastFailedMs < RECENT_FAILURE_MS;
  }

  private isIdle(): boolean {
    if (this.claimer.busy || this.pumpScheduled || this.latePumpScheduled || this.attempts.size > 0)
      return false;
    const now = this.options.clock.now();
    // A lane due but within the gap waits for its timer, like one due later.
    return [...this.lanes.values()].every((lane) => this.room(lane, now) === 0 || this.wakeAt(lane) > now);
  }

  /** Claims and starts whatever may start now (one claiming pass at a time). */
  private pump(): void {
    if (!this.stopping.signal.aborted) this.claimer.run();
  }

  /**
   * A pump at the end of this turn of the event loop: attempts finishing in the same turn (a burst
   * of responses) then share one claiming pass, one store transaction, instead of one each.
   */
  private pumpSoon(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
      this.wakeIdleWaiters();
    });
  }

  /**
   * A pump for demoted lanes: after the next poll of the event loop (a setImmediate queued from a
   * setImmediate), so the healthy lanes' responses and new messages ready by then wake their pass
   * first, and a demoted lane with room is claimed in that pass, after them, rather than in a pass
   * of its own before them. If none comes, this pass claims it: it is later, never skipped.
   */
  private pumpLate(): void {
    if (this.latePumpScheduled) return;
    this.latePumpScheduled = true;
    afterNextPoll(() => {
      this.latePumpScheduled = false;
      this.pump();
      this.wakeIdleWaiters();
    });
  }

  /**
   * One claim for every lane with room, in one store call: one transaction embedded, however many
   * lanes are due. Claiming lane by lane cost a transaction each, so every failing endpoint's
   * retries coming due added writes between the healthy endpoints' claims. The lanes in a failing
   * streak are claimed in a call of their own after it, when the gap since their last one allows.
   * Demoted lanes (`RECENT_FAILURE_MS`) are claimed in the same call, after the healthy ones, so
   * their attempts start after the healthy lanes' too.
   */
  private async claimAndStart(): Promise<void> {
    const { clock } = this.options;
    if (this.stopping.signal.aborted) return;
    const now = clock.now();
    this.lastPassMs = now;
    const healthy: { lane: Lane; room: number }[] = [];
    const demoted: { lane: Lane; room: number }[] = [];
    const failing: { lane: Lane; room: number }[] = [];
    for (const lane of this.lanes.values()) {
      const room = this.room(lane, now);
      if (room > 0)
        (lane.failing ? failing : this.demoted(lane, now) ? demoted : healthy).push({ lane, room });
    }
    if (healthy.length + demoted.length > 0) await this.claimFor([...healthy, ...demoted], now);
    if (failing.length > 0 && !this.stopping.signal.aborted) {
      this.lastFailingPassMs = now;
      await this.claimFor(failing, now);
    }
  }

  private async claimFor(wanted: { lane: Lane; room: number }[], now: number): Promise<void> {
    const { store, config } = this.options;
    for (const { lane } of wanted) lane.dueDuringClaimMs = Number.POSITIVE_INFINITY;
    const claims = await store.claimMany(
      wanted.map(({ lane, room }) => ({ endpointId: lane.endpoint.id, max: room })),
      this.owner,
      now,
      now + config.claimLeaseMs,
    );
    wanted.forEach(({ lane }, index) => {
      const claimed = claims[index];
      if (!claimed) return;
      // A retry settled while the store answered is not in the answer: kept, not overwritten (it
      // would wait for the lane's next new message, forever after the last one).
      lane.nextDueMs = Math.min(claimed.nextDueMs ?? Number.POSITIVE_INFINITY, lane.dueDuringClaimMs);
      lane.bucket?.take(claimed.messages.length, now);
      const late = this.demoted(lane, now);
      for (const message of claimed.messages) this.startAttempt(lane, message, late);
    });
  }

  /** Sets the timer for the earliest lane that waits for time rather than for an attempt to finish. */
  private arm(): void {
    if (this.stopping.signal.aborted) return;
    const now = this.options.clock.now();
    let at = Number.POSITIVE_INFINITY;
    // Whether only demoted lanes are due at `at`: then the timer wakes a deferred pass (`pumpLate`).
    let late = true;
    for (const lane of this.lanes.values()) {
      if (lane.nextDueMs === Number.POSITIVE_INFINITY) continue;
      if (lane.inFlight >= this.concurrencyOf(lane)) continue; // a finishing attempt wakes it
      const tokenAt = lane.bucket ? lane.bucket.nextTokenAtMs(now) : now;
      const laneAt = Math.max(this.wakeAt(lane), tokenAt, this.backoffUntilMs);
      const laneLate = this.demoted(lane, now);
      if (laneAt < at) late = laneLate;
      else if (laneAt === at) late &&= laneLate;
      at = Math.min(at, laneAt);
    }
    if (this.timer?.atMs === at && this.timer.late === late) return;
    this.timer?.cancel();
    this.timer = undefined;
    if (at === Number.POSITIVE_INFINITY) return;
    const cancel = this.options.clock.setTimer(
      () => {
        this.timer = undefined;
        if (late) this.pumpLate();
        else this.pump();
      },
      Math.max(0, at - now),
    );
    this.timer = { atMs: at, late, cancel };
  }

  private wakeIdleWaiters(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /**
   * `late` (a demoted lane): the attempt starts after the next poll of the event loop rather than
   * now, so the healthy lanes' requests of this pass go out first and their responses ready by then
   * are read before this one's signing, request and response take the loop. Its slot is taken now.
   */
  private startAttempt(lane: Lane, message: OutboxMessage, late = false): void {
    lane.inFlight++;
    let freed = false;
    // The lane's slot bounds requests to the endpoint: it is free once the response is in, while
    // the settle is still being written (the message stays claimed until then, so no one else
    // takes it). Under load a settle waits a turn of the event loop for its group commit, and
    // holding the slot meanwhile would cut each endpoint's throughput for nothing.
    const free = () => {
      if (freed) return;
      freed = true;
      lane.inFlight--;
      this.wakeFor(lane);
    };
    const attempt = (
      late
        ? new Promise<void>((resolve) => afterNextPoll(resolve)).then(() => this.attempt(lane, message, free))
        : this.attempt(lane, message, free)
    )
      .catch((error: unknown) => this.unrecorded(message, error))
      .finally(() => {
        free();
        this.attempts.delete(attempt);
        this.wakeFor(lane);
      });
    this.attempts.add(attempt);
  }

  /**
   * After an attempt of `lane` freed its slot or finished: a pass deferred past the next poll when
   * the lane is demoted (`pumpLate`); otherwise a pass at the end of this turn, unless
   * the lane is in a failing streak and its next pass is not due yet (the gap since the last pass
   * for such lanes), in which case its slot waits for the timer of that pass rather than waking a
   * pass of its own.
   */
  private wakeFor(lane: Lane): void {
    const now = this.options.clock.now();
    if (this.demoted(lane, now)) {
      this.pumpLate();
      return;
    }
    if (!lane.failing || this.room(lane, now) > 0) {
      this.pumpSoon();
      return;
    }
    // Unless a pass runs now (it arms when done), the timer is moved to the lane's next pass.
    if (!this.claimer.busy) this.arm();
    this.wakeIdleWaiters();
  }

  /**
   * An attempt that could not be made or recorded (the store failed, a secret would not open): the
   * message goes back, due again in 30 s, rather than staying claimed until the next start.
   */
  private async unrecorded(message: OutboxMessage, error: unknown): Promise<void> {
    const { logger, store, clock } = this.options;
    logger.error(
      { err: error, endpointId: message.endpointId, messageId: message.id },
      'a webhook attempt could not be made or recorded; it is tried again in 30 s',
    );
    const dueMs = clock.now() + UNRECORDED_RETRY_MS;
    try {
      await store.release([message.id], dueMs);
      const lane = this.lanes.get(message.endpointId);
      if (lane) lowerDue(lane, dueMs);
    } catch (releaseError) {
      logger.error(
        { err: releaseError, messageId: message.id },
        'the message stays claimed until the next start',
      );
    }
  }

  private async secretsOf(lane: Lane, nowMs: number): Promise<string[]> {
    if (lane.secrets && nowMs < lane.secrets.untilMs) return lane.secrets.values;
    const stored = await this.options.store.activeSecrets(lane.endpoint.id, nowMs);
    const values = stored.map((secret) => this.options.sealer.open(secret.sealed));
    const untilMs = Math.min(
      ...stored.map((secret) => secret.expiresAtMs ?? Number.POSITIVE_INFINITY),
      Number.POSITIVE_INFINITY,
    );
    lane.secrets = { values, untilMs };
    return values;
  }

  /** One attempt, in a span of the trace of the webhook behind the message's event. */
  private attempt(lane: Lane, message: OutboxMessage, free: () => void): Promise<void> {
    return withStoredSpan(
      'webhook.deliver',
      message.trace,
      'client',
      {
        'webhook.endpoint_id': lane.endpoint.id,
        'webhook.event_type': message.eventType,
        'webhook.attempt': message.attempts + 1,
      },
      (span) => this.attemptIn(lane, message, free, span),
    );
  }

  private async attemptIn(lane: Lane, message: OutboxMessage, free: () => void, span: Span): Promise<void> {
    const { store, config, clock, guard, logger } = this.options;
    const endpoint = lane.endpoint;
    const startedMs = clock.now();
    let result: AttemptResult;
    let secrets: string[] = [];
    try {
      secrets = await this.secretsOf(lane, startedMs);
      result = await sendAttempt({
        url: endpoint.url,
        body: message.body,
        headers: {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          ...signatureHeaders(message.id, startedMs, message.body, secrets),
        },
        agent: this.agent,
        guard,
        timeoutMs: config.attemptTimeoutMs,
        secrets,
        stop: this.stopping.signal,
      });
    } catch (error) {
      if (error instanceof AttemptAbortedError) {
        await store.release([message.id], clock.now());
        return;
      }
      throw error;
    }
    if (result.statusCode !== null) span.setAttribute('http.response.status_code', result.statusCode);
    if (result.errorClass !== null) markSpanFailed(span, `WEBHOOK_${result.errorClass.toUpperCase()}`);
    const attemptNumber = message.attempts + 1;
    const verdict = verdictFor(result, attemptNumber, config, clock.now());
    // The lane's streak as this dispatcher sees it, before its slot is freed, so a failure in a
    // failing streak frees the slot into the failing lanes' passes.
    if (result.errorClass === null) {
      lane.failingSinceMs = null;
      lane.failing = false;
    } else {
      const nowMs = clock.now();
      lane.failingSinceMs ??= nowMs;
      lane.failing = nowMs - lane.failingSinceMs >= FAILING_STREAK_MS;
      lane.lastFailedMs = nowMs;
    }
    // After a 410 the lane stays full until the endpoint is disabled: nothing more is sent to it.
    if (verdict.status !== 'failed') free();
    const { failingSinceMs } = await store.settle({
      messageId: message.id,
      endpointId: endpoint.id,
      attempt: {
        messageId: message.id,
        endpointId: endpoint.id,
        attemptedAtMs: startedMs,
        statusCode: result.statusCode,
        latencyMs: result.latencyMs,
        responseBody: result.responseBody,
        errorClass: result.errorClass,
        errorMessage: result.errorMessage,
      },
      verdict,
      ...(verdict.status === 'exhausted'
        ? {
            notice: noticeEvent({
              kind: 'attempts-exhausted',
              atMs: clock.now(),
              endpointId: endpoint.id,
              messageId: message.id,
              eventId: message.eventId,
              eventType: message.eventType,
              attempts: attemptNumber,
              lastStatusCode: result.statusCode,
              lastErrorClass: result.errorClass,
            }),
          }
        : {}),
    });
    this.record(result, verdict, endpoint.id);
    if (verdict.status === 'exhausted') {
      logger.warn(
        { endpointId: endpoint.id, messageId: message.id, attempts: attemptNumber },
        'a webhook message exhausted its attempts',
      );
      this.options.onNotice?.();
    } else if (verdict.status === 'pending') {
      const current = this.lanes.get(endpoint.id);
      if (current) lowerDue(current, verdict.nextAttemptMs);
    }
    if (verdict.status === 'failed') await this.disable(endpoint.id, 'gone');
    else if (
      verdict.status !== 'succeeded' &&
      failingSinceMs !== null &&
      clock.now() - failingSinceMs >= config.disableAfterFailingMs
    )
      await this.disable(endpoint.id, 'failing');
  }

  private record(result: AttemptResult, verdict: Verdict, endpointId: string): void {
    deliveryMetrics.attempts.inc({ outcome: result.errorClass ?? 'success' });
    // The endpoint's connection in the health model; per endpoint there, where a metric label
    // per endpoint would grow without bound.
    recordOutcome(
      { name: `endpoint:${endpointId}`, kind: 'endpoint' },
      result.errorClass === null
        ? { ok: true, latencyMs: result.latencyMs }
        : {
            ok: false,
            latencyMs: result.latencyMs,
            errorClass: result.errorClass,
            code: `WEBHOOK_${result.errorClass.toUpperCase()}`,
            message:
              result.statusCode === null ? result.errorClass : `the endpoint answered ${result.statusCode}`,
          },
    );
    deliveryMetrics.duration.observe(result.latencyMs / 1000, {
      result: result.errorClass === null ? 'success' : 'failure',
    });
    if (verdict.status !== 'pending') deliveryMetrics.settled.inc({ status: verdict.status });
  }

  private async disable(endpointId: string, reason: Exclude<DisabledReason, 'manual'>): Promise<void> {
    const atMs = this.options.clock.now();
    const { changed } = await this.options.store.disableEndpoint(
      endpointId,
      reason,
      atMs,
      noticeEvent({ kind: 'endpoint-disabled', atMs, endpointId, reason }),
    );
    if (!changed) return;
    this.lanes.delete(endpointId);
    deliveryMetrics.disabled.inc({ reason });
    recordFacts({ name: `endpoint:${endpointId}`, kind: 'endpoint' }, { disabled: true });
    this.options.logger.warn(
      { endpointId, reason },
      reason === 'gone'
        ? 'a webhook endpoint answered 410 Gone and was disabled'
        : 'a webhook endpoint failed every attempt for too long and was disabled',
    );
    this.options.onNotice?.();
  }
}
