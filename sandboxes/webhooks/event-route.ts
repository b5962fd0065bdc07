import { z } from 'zod';
import type { PlatformName as Platform } from '../../platforms/registry.js';
import type { DemoEvent } from '../kit/traffic.js';
import type { Route, SandboxResponse } from '../kit/types.js';
import { TransitionError } from '../world/changes.js';
import type { World } from '../world/world.js';
import { NoTargetError, type WebhookEmitter } from './emitter.js';
import { DEMO_EVENTS, eventsOf } from './traffic.js';

/**
 * `POST /__sandbox/webhooks`: a user makes an event of the platform's happen to a customer of the
 * world, e.g. `{"type": "orders/create", "customerId": "10000"}` on the sandbox that sends it (the
 * events are its descriptor's `webhooks.demoTraffic.events`). The sandbox applies it to its state,
 * then sends the signed webhook to the gateway as the emitter does, and answers with what changed
 * and what was sent.
 */

const customerRef = {
  customerId: z
    .string()
    .regex(/^\d{1,20}$/, 'expected a customer id as the graph writes it (digits, such as "10000")')
    .optional(),
  email: z.email('expected an email address').max(320).optional(),
};

/** The request body of an event: its type, the customer, and its own fields, nothing else. */
const bodyOf = (event: DemoEvent) =>
  z.object({ type: z.literal(event.type), ...customerRef, ...event.fields }).strict();

/** A refusal with a code and a sentence, as every bad input gets. */
function refuse(status: number, code: string, error: string, issues?: string[]): SandboxResponse {
  return { status, json: { code, error, ...(issues ? { issues } : {}) } };
}

function example(events: readonly DemoEvent[]): string {
  const type = events[0]?.type;
  return type ? ` such as {"type": "${type}", "customerId": "10000"}` : '';
}

/** The route for one platform's sandbox (one that sends the gateway no webhooks refuses every type). */
export function sandboxEventRoute(platform: Platform, world: World, emitter: WebhookEmitter): Route {
  const events = eventsOf(platform);
  const types = events.map((event) => event.type);
  const causable = events.map((event) => ({ event, body: bodyOf(event) }));
  const accepted =
    types.length > 0 ? `one of ${types.join(', ')}` : 'none: this sandbox sends the gateway no webhooks';
  return {
    method: 'POST',
    path: '/__sandbox/webhooks',
    async handle(request) {
      const body = request.json;
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        return refuse(400, 'INVALID_WEBHOOK_REQUEST', `The body must be a JSON object${example(events)}.`);
      const type = (body as { type?: unknown }).type;
      if (typeof type !== 'string')
        return refuse(400, 'INVALID_WEBHOOK_REQUEST', `\`type\` is required: ${accepted}.`);
      const found = causable.find(({ event }) => event.type === type);
      if (!found) {
        const elsewhere = DEMO_EVENTS.get(type);
        return elsewhere
          ? refuse(
              400,
              'EVENT_TYPE_NOT_SENT_HERE',
              `${type} is sent by the ${elsewhere.source.name} sandbox: post it to that sandbox's /__sandbox/webhooks. The ${platform} sandbox sends ${accepted}.`,
            )
          : refuse(
              400,
              'UNKNOWN_EVENT_TYPE',
              `Unknown event type "${type.slice(0, 100)}": expected ${accepted}.`,
            );
      }
      const parsed = found.body.safeParse(body);
      if (!parsed.success)
        return refuse(
          400,
          'INVALID_WEBHOOK_REQUEST',
          `The ${type} request is not valid: ${parsed.error.issues.length} problem(s), listed in issues.`,
          parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`),
        );
      const { type: _type, customerId, email, ...fields } = parsed.data;
      if ((customerId === undefined) === (email === undefined))
        return refuse(
          400,
          'INVALID_WEBHOOK_REQUEST',
          "Name the customer with exactly one of `customerId` (the graph's Customer id) and `email`.",
        );
      const customer =
        customerId !== undefined
          ? world.byCrmId.get(customerId)
          : world.byEmail.get(email?.toLowerCase() ?? '');
      if (!customer)
        return refuse(
          404,
          'CUSTOMER_NOT_FOUND',
          customerId !== undefined
            ? `No customer has the id ${customerId}.`
            : 'No customer has that email address.',
        );
      try {
        const { happened, sent } = await emitter.cause({ type, customer, fields });
        return {
          status: 200,
          json: {
            type: happened.type,
            customer: { id: customer.crm.id, email: customer.person.email },
            applied: happened.applied,
            webhooks: sent.map(({ webhook, ok, status, retrying }) => ({
              source: webhook.source,
              topic: webhook.topic,
              // Without the query: Mailchimp's URL carries its secret there.
              url: webhook.url.split('?')[0],
              payload: webhook.payload,
              delivered: ok,
              status: status ?? null,
              retrying,
            })),
          },
        };
      } catch (error) {
        if (error instanceof TransitionError) return refuse(409, 'TRANSITION_NOT_ALLOWED', error.message);
        if (error instanceof NoTargetError)
          return refuse(
            503,
            'WEBHOOK_TARGET_NOT_SET',
            'This sandbox has no gateway to send webhooks to; set SANDBOX_WEBHOOK_TARGET (a standalone sandbox) or use npm start.',
          );
        throw error;
      }
    },
  };
}
