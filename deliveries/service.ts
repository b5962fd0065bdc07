import { recordFacts } from '../lib/health/recorder.js';
import type { DeliveredEvent } from '../lib/events/event.js';
import type { Logger } from '../lib/logger.js';
import type { Clock } from './clock.js';
import type { DeliveriesConfig } from './config.js';
import type { DeliveryScheduler } from './dispatcher.js';
import {
  endpointChangesSchema,
  endpointInputSchema,
  endpointWants,
  type Endpoint,
  type EndpointChanges,
} from './endpoint.js';
import { DeliveryInputError, invalidInput } from './errors.js';
import { messageIdFor, newEndpointId, newSecretId } from './ids.js';
import { isNoticeAbout } from './notices.js';
import { basicPayload, type PayloadBuilder } from './payload.js';
import { newEndpointSecret, type SecretSealer } from './secrets.js';
import type { SsrfGuard } from './ssrf/guard.js';
import type {
  AttemptRecord,
  DeliveryStore,
  MessageStatus,
  NewMessage,
  OutboxMessage,
} from './store/types.js';

export interface DeliveryServiceOptions {
  store: DeliveryStore;
  config: DeliveriesConfig;
  guard: SsrfGuard;
  sealer: SecretSealer;
  clock: Clock;
  scheduler: DeliveryScheduler;
  /** @default basicPayload */
  payload?: PayloadBuilder;
  logger: Logger;
}

/** A new endpoint, with its secret: the only time the secret is shown. */
export interface CreatedEndpoint {
  endpoint: Endpoint;
  secret: string;
}

/** A rotation's result: the new secret (shown once) and until when the previous ones still sign. */
export interface RotatedSecret {
  secret: string;
  previousSecretsExpireAtMs: number;
}

/**
 * What the management API (GraphQL, CLI: a later layer) and the event pipeline call: endpoints,
 * their secrets, enqueueing events, replay and recovery, and reading messages and attempts. Inputs
 * are validated here (zod, then the SSRF guard), so every caller gets the same refusals
 * (DeliveryInputError). Permissions are the caller's: `ownerClientId` says whose an endpoint is.
 */
export class DeliveryService {
  private readonly payload: PayloadBuilder;
  /**
   * Every endpoint, for matching events, as of the store's change version: a change made through
   * any service, in this process or another, makes the next match read them again.
   */
  private cached: { version: number; endpoints: Promise<Endpoint[]> } | undefined;

  constructor(private readonly options: DeliveryServiceOptions) {
    this.payload = options.payload ?? basicPayload;
  }

  // ── endpoints ──────────────────────────────────────────────────────────────

  async createEndpoint(input: unknown): Promise<CreatedEndpoint> {
    const parsed = endpointInputSchema.safeParse(input);
    if (!parsed.success) throw invalidInput(parsed.error);
    const url = await this.options.guard.checkUrl(parsed.data.url);
    const now = this.options.clock.now();
    const endpoint: Endpoint = {
      id: newEndpointId(),
      ...parsed.data,
      url,
      enabled: true,
      disabledReason: null,
      disabledAtMs: null,
      failingSinceMs: null,
      createdAtMs: now,
      updatedAtMs: now,
    };
    const secret = newEndpointSecret();
    await this.options.store.createEndpoint(endpoint, {
      id: newSecretId(),
      endpointId: endpoint.id,
      sealed: this.options.sealer.seal(secret),
      createdAtMs: now,
      expiresAtMs: null,
    });
    await this.changed(endpoint.id);
    this.options.logger.info(
      { endpointId: endpoint.id, owner: endpoint.ownerClientId },
      'webhook endpoint created',
    );
    return { endpoint, secret };
  }

  async updateEndpoint(id: string, input: unknown): Promise<Endpoint> {
    const parsed = endpointChangesSchema.safeParse(input);
    if (!parsed.success) throw invalidInput(parsed.error);
    const changes: EndpointChanges = { ...parsed.data };
    if (changes.url !== undefined) changes.url = await this.options.guard.checkUrl(changes.url);
    const endpoint = await this.options.store.updateEndpoint(id, changes, this.options.clock.now());
    if (!endpoint) throw notFound(id);
    await this.changed(id);
    return endpoint;
  }

  async deleteEndpoint(id: string): Promise<void> {
    if (!(await this.options.store.deleteEndpoint(id))) throw notFound(id);
    await this.changed(id);
  }

  /** Turns it off by hand: its pending messages fail (`endpoint-disabled`) and can be recovered later. */
  async disableEndpoint(id: string): Promise<Endpoint> {
    const { endpoint } = await this.options.store.disableEndpoint(id, 'manual', this.options.clock.now());
    if (!endpoint) throw notFound(id);
    // The health model's view of the endpoint (a disabling by hand sends no notice event).
    recordFacts({ name: `endpoint:${id}`, kind: 'endpoint' }, { disabled: true });
    await this.changed(id);
    return endpoint;
  }

  /** Turns it on again (after any reason); what failed meanwhile waits for `recoverEndpoint`. */
  async enableEndpoint(id: string): Promise<Endpoint> {
    const endpoint = await this.options.store.enableEndpoint(id, this.options.clock.now());
    if (!endpoint) throw notFound(id);
    recordFacts({ name: `endpoint:${id}`, kind: 'endpoint' }, { disabled: false });
    await this.changed(id);
    return endpoint;
  }

  /**
   * A new secret for the endpoint; the current ones keep signing for `overlapMs` (default
   * `secretOverlapMs`, 24 h), so every attempt meanwhile carries both signatures and the receiver
   * can switch without a gap. `overlapMs: 0` retires them at once (a leaked secret).
   */
  async rotateSecret(id: string, options: { overlapMs?: number } = {}): Promise<RotatedSecret> {
    const overlapMs = options.overlapMs ?? this.options.config.secretOverlapMs;
    if (!Number.isInteger(overlapMs) || overlapMs < 0 || overlapMs > 30 * 86_400_000)
      throw new DeliveryInputError(
        'invalid-input',
        'The overlap must be a whole number of ms from 0 to 30 days.',
      );
    const now = this.options.clock.now();
    const secret = newEndpointSecret();
    const rotated = await this.options.store.rotateSecret(
      id,
      {
        id: newSecretId(),
        endpointId: id,
        sealed: this.options.sealer.seal(secret),
        createdAtMs: now,
        expiresAtMs: null,
      },
      now + overlapMs,
      now,
    );
    if (!rotated) throw notFound(id);
    await this.changed(id);
    return { secret, previousSecretsExpireAtMs: now + overlapMs };
  }

  async endpoint(id: string): Promise<Endpoint> {
    const endpoint = await this.options.store.endpoint(id);
    if (!endpoint) throw notFound(id);
    return endpoint;
  }

  endpoints(filter?: { ownerClientId?: string }): Promise<Endpoint[]> {
    return this.options.store.endpoints(filter);
  }

  // ── events in ──────────────────────────────────────────────────────────────

  /**
   * One processed event to every endpoint that wants it: a message each (idempotent: the same
   * event twice adds nothing), due at once. Returns how many messages were added.
   */
  enqueueForEvent(event: DeliveredEvent): Promise<number> {
    return this.enqueueForEvents([event]);
  }

  /**
   * Events in delivery-log order; `cursor`, the last one's, is stored with the messages (the
   * follower's place). An endpoint receives events processed after it was created, never a
   * notice about itself (a dead endpoint must not feed on its own failures).
   */
  async enqueueForEvents(events: readonly DeliveredEvent[], cursor?: string): Promise<number> {
    const endpoints = await this.matchable();
    const now = this.options.clock.now();
    const messages: NewMessage[] = [];
    for (const event of events) {
      const processedMs = Date.parse(event.processedAt);
      for (const endpoint of endpoints) {
        if (processedMs < endpoint.createdAtMs || !endpointWants(endpoint, event)) continue;
        if (isNoticeAbout(event, endpoint.id)) continue;
        messages.push({
          id: messageIdFor(endpoint.id, event),
          endpointId: endpoint.id,
          eventId: event.id,
          eventType: event.type,
          body: JSON.stringify(await this.payload(event, endpoint)),
          createdAtMs: now,
          ...(event.trace ? { trace: event.trace } : {}),
        });
      }
    }
    if (messages.length === 0 && cursor === undefined) return 0;
    const added = await this.options.store.enqueue(messages, cursor);
    if (added > 0) this.options.scheduler.due(new Set(messages.map((message) => message.endpointId)));
    return added;
  }

  // ── replay ─────────────────────────────────────────────────────────────────

  /**
   * **Replay**: sends one message again, whatever its status (a succeeded one too: the receiver
   * asked for it), with a fresh schedule and the same `webhook-id`.
   */
  async replayMessage(messageId: string): Promise<OutboxMessage> {
    const existing = await this.options.store.message(messageId);
    if (!existing) throw new DeliveryInputError('message-not-found', `No webhook message ${messageId}.`);
    await this.enabledOrThrow(existing.endpointId);
    const message = await this.options.store.replayMessage(messageId, this.options.clock.now());
    if (!message) throw new DeliveryInputError('message-not-found', `No webhook message ${messageId}.`);
    await this.options.store.noteChange();
    this.options.scheduler.due([message.endpointId]);
    return message;
  }

  /**
   * **Recover**: after an outage, sends again every message of the endpoint created since `sinceMs`
   * that did not succeed (`failed`, `exhausted`); what succeeded is not sent again, what is still
   * pending keeps its schedule. Returns how many were put back.
   */
  async recoverEndpoint(endpointId: string, sinceMs: number): Promise<number> {
    if (!Number.isFinite(sinceMs))
      throw new DeliveryInputError('invalid-input', 'Recover needs the time to recover from.');
    await this.enabledOrThrow(endpointId);
    const count = await this.options.store.recoverEndpoint(endpointId, sinceMs, this.options.clock.now());
    if (count > 0) {
      await this.options.store.noteChange();
      this.options.scheduler.due([endpointId]);
    }
    return count;
  }

  // ── reading ────────────────────────────────────────────────────────────────

  async message(id: string): Promise<OutboxMessage> {
    const message = await this.options.store.message(id);
    if (!message) throw new DeliveryInputError('message-not-found', `No webhook message ${id}.`);
    return message;
  }

  messages(query: { endpointId: string; status?: MessageStatus; beforeSeq?: number; limit: number }) {
    return this.options.store.messages(query);
  }

  attempts(query: {
    messageId?: string;
    endpointId?: string;
    beforeId?: number;
    limit: number;
  }): Promise<AttemptRecord[]> {
    return this.options.store.attempts(query);
  }

  /**
   * Endpoints were changed elsewhere (another worker sharing the store): the next event is matched
   * against them as they are now.
   */
  endpointsChangedElsewhere(): void {
    this.cached = undefined;
  }

  // ── internals ──────────────────────────────────────────────────────────────

  private async matchable(): Promise<Endpoint[]> {
    // One read of a counter per batch of events: an endpoint created by the management API of
    // another process is matched from the first event processed after it, not a poll later.
    const version = await this.options.store.changeVersion();
    if (this.cached?.version !== version) {
      const endpoints = this.options.store.endpoints();
      const cached = { version, endpoints };
      this.cached = cached;
      endpoints.catch(() => {
        if (this.cached === cached) this.cached = undefined;
      });
    }
    return this.cached.endpoints;
  }

  private async changed(endpointId: string): Promise<void> {
    await this.options.store.noteChange();
    await this.options.scheduler.endpointChanged(endpointId);
  }

  private async enabledOrThrow(endpointId: string): Promise<void> {
    const endpoint = await this.options.store.endpoint(endpointId);
    if (!endpoint) throw notFound(endpointId);
    if (!endpoint.enabled)
      throw new DeliveryInputError(
        'endpoint-disabled',
        `Webhook endpoint ${endpointId} is disabled (${endpoint.disabledReason ?? 'manual'}); enable it first.`,
      );
  }
}

function notFound(id: string): DeliveryInputError {
  return new DeliveryInputError('endpoint-not-found', `No webhook endpoint ${id}.`);
}
