import { z } from 'zod';
import type { PlatformName as Platform } from '../../platforms/registry.js';
import type { Route, SandboxResponse } from '../kit/types.js';
import { LEAD_STATUSES, LIFECYCLE_ORDER, TransitionError } from '../world/changes.js';
import type { Customer, World } from '../world/world.js';
import { NoTargetError, type WebhookEmitter } from './emitter.js';
import { EVENT_TYPES, type EventRequest, type EventType } from './events.js';

/**
 * `POST /__sandbox/webhooks`: a user makes an event of the platform's happen to a customer of the
 * world, e.g. `{"type": "orders/create", "customerId": "10000"}` on the Shopify sandbox. The sandbox
 * applies it to its state, then sends the signed webhook to the gateway as the emitter does, and
 * answers with what changed and what was sent.
 */

const customerRef = {
  customerId: z
    .string()
    .regex(/^\d{1,20}$/, 'expected a customer id as the graph writes it (digits, such as "10000")')
    .optional(),
  email: z.email('expected an email address').max(320).optional(),
};

const BODIES = {
  'contact.propertyChange': z
    .object({
      type: z.literal('contact.propertyChange'),
      ...customerRef,
      lifecycleStage: z.enum(LIFECYCLE_ORDER).optional(),
      leadStatus: z.enum(LEAD_STATUSES).optional(),
    })
    .strict(),
  subscribe: z.object({ type: z.literal('subscribe'), ...customerRef }).strict(),
  unsubscribe: z.object({ type: z.literal('unsubscribe'), ...customerRef }).strict(),
  cleaned: z.object({ type: z.literal('cleaned'), ...customerRef }).strict(),
  'orders/create': z
    .object({
      type: z.literal('orders/create'),
      ...customerRef,
      financialStatus: z.enum(['paid', 'pending']).default('paid'),
    })
    .strict(),
} as const satisfies Record<EventType, z.ZodType>;

const ALL_TYPES = Object.entries(EVENT_TYPES).flatMap(([platform, types]) =>
  types.map((type) => ({ type: type as string, platform: platform as Platform })),
);

/** A refusal with a code and a sentence, as every bad input gets. */
function refuse(status: number, code: string, error: string, issues?: string[]): SandboxResponse {
  return { status, json: { code, error, ...(issues ? { issues } : {}) } };
}

/** A webhook `POST /__sandbox/webhooks` causes, for the start banner: the sandbox to call and the body. */
export const CAUSE_EXAMPLE = {
  platform: 'shopify',
  body: (customerId: string) => ({ type: 'orders/create', customerId }),
} as const;

function example(platform: Platform): string {
  const type = EVENT_TYPES[platform][0];
  return type ? ` such as {"type": "${type}", "customerId": "10000"}` : '';
}

/** The route for one platform's sandbox (Meta's refuses every type: Meta sends the gateway none). */
export function sandboxEventRoute(platform: Platform, world: World, emitter: WebhookEmitter): Route {
  const types: readonly string[] = EVENT_TYPES[platform];
  const accepted =
    types.length > 0 ? `one of ${types.join(', ')}` : 'none: this sandbox sends the gateway no webhooks';
  return {
    method: 'POST',
    path: '/__sandbox/webhooks',
    async handle(request) {
      const body = request.json;
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        return refuse(400, 'INVALID_WEBHOOK_REQUEST', `The body must be a JSON object${example(platform)}.`);
      const type = (body as { type?: unknown }).type;
      if (typeof type !== 'string')
        return refuse(400, 'INVALID_WEBHOOK_REQUEST', `\`type\` is required: ${accepted}.`);
      if (!types.includes(type)) {
        const elsewhere = ALL_TYPES.find((t) => t.type === type);
        return elsewhere
          ? refuse(
              400,
              'EVENT_TYPE_NOT_SENT_HERE',
              `${type} is sent by the ${elsewhere.platform} sandbox: post it to that sandbox's /__sandbox/webhooks. The ${platform} sandbox sends ${accepted}.`,
            )
          : refuse(
              400,
              'UNKNOWN_EVENT_TYPE',
              `Unknown event type "${type.slice(0, 100)}": expected ${accepted}.`,
            );
      }
      const parsed = BODIES[type as EventType].safeParse(body);
      if (!parsed.success)
        return refuse(
          400,
          'INVALID_WEBHOOK_REQUEST',
          `The ${type} request is not valid: ${parsed.error.issues.length} problem(s), listed in issues.`,
          parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`),
        );
      const { customerId, email } = parsed.data;
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
      const eventRequest = toRequest(parsed.data, customer);
      try {
        const { happened, sent } = await emitter.cause(eventRequest);
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

type ParsedBody = z.output<(typeof BODIES)[EventType]>;

function toRequest(body: ParsedBody, customer: Customer): EventRequest {
  switch (body.type) {
    case 'contact.propertyChange':
      return {
        type: body.type,
        customer,
        ...(body.lifecycleStage !== undefined ? { lifecycleStage: body.lifecycleStage } : {}),
        ...(body.leadStatus !== undefined ? { leadStatus: body.leadStatus } : {}),
      };
    case 'orders/create':
      return { type: body.type, customer, financialStatus: body.financialStatus };
    default:
      return { type: body.type, customer };
  }
}
