import { z } from 'zod';
import type { Route, SandboxResponse } from '../../../sandboxes/kit/types.js';
import type { World } from '../../../sandboxes/world/world.js';
import type { SentCallback } from './callbacks.js';
import { e164 } from './history.js';
import type { SandboxMessage } from './resources.js';

/**
 * `POST /__sandbox/webhooks` on the Twilio sandbox: a customer texts the account's number, e.g.
 * `{"type": "incoming-message", "customerId": "10000", "body": "STOP"}`. The sandbox stores the
 * message (and, for a keyword, applies it and sends Twilio's confirmation), then posts the signed
 * incoming-message webhook to the configured URL (the gateway's `/webhooks/twilio` under
 * `npm start`) and answers with what it sent. It takes the place of the emitter's route of that
 * name, the way the other sandboxes make their platform's webhooks happen.
 */

const TYPE = 'incoming-message';

const requestSchema = z
  .object({
    type: z.literal(TYPE),
    /** The message text: `STOP`, `START`, anything. */
    body: z.string().min(1).max(1600),
    customerId: z
      .string()
      .regex(/^\d{1,20}$/, 'expected a customer id as the graph writes it (digits, such as "10000")')
      .optional(),
    email: z.email('expected an email address').max(320).optional(),
    /** A number outside the world (E.164). */
    from: z.string().max(32).optional(),
  })
  .strict();

function refuse(status: number, code: string, error: string, issues?: string[]): SandboxResponse {
  return { status, json: { code, error, ...(issues ? { issues } : {}) } };
}

export interface InboundRouteOptions {
  world: World;
  receive(phone: string, body: string): { message: SandboxMessage; reply: SandboxMessage | null };
  /** Where incoming messages are posted; undefined until configured. */
  target(): string | undefined;
  /** The webhook's form parameters for a stored message. */
  params(message: SandboxMessage): Record<string, string>;
  post(url: string, params: Record<string, string>): Promise<SentCallback>;
}

export function inboundRoute(options: InboundRouteOptions): Route {
  return {
    method: 'POST',
    path: '/__sandbox/webhooks',
    async handle(request) {
      const body = request.json;
      const type = typeof body === 'object' && body !== null ? (body as { type?: unknown }).type : undefined;
      if (typeof type === 'string' && type !== TYPE)
        return refuse(
          400,
          'UNKNOWN_EVENT_TYPE',
          `Unknown event type "${type.slice(0, 100)}": the twilio sandbox sends ${TYPE} (a customer texts the account's number).`,
        );
      const parsed = requestSchema.safeParse(body);
      if (!parsed.success)
        return refuse(
          400,
          'INVALID_WEBHOOK_REQUEST',
          `The request is not valid, such as {"type": "${TYPE}", "customerId": "10000", "body": "STOP"}: ${parsed.error.issues.length} problem(s), listed in issues.`,
          parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`),
        );
      const { customerId, email, from } = parsed.data;
      if ([customerId, email, from].filter((v) => v !== undefined).length !== 1)
        return refuse(
          400,
          'INVALID_WEBHOOK_REQUEST',
          "Name the sender with exactly one of `customerId` (the graph's Customer id), `email` and `from` (a phone number).",
        );
      const customer =
        customerId !== undefined
          ? options.world.byCrmId.get(customerId)
          : email !== undefined
            ? options.world.byEmail.get(email.toLowerCase())
            : undefined;
      if (from === undefined && !customer)
        return refuse(
          404,
          'CUSTOMER_NOT_FOUND',
          customerId !== undefined
            ? `No customer has the id ${customerId}.`
            : 'No customer has that email address.',
        );
      const phone = e164(from ?? customer?.person.phone ?? '');
      if (phone === null)
        return refuse(
          400,
          'INVALID_WEBHOOK_REQUEST',
          'The sender has no phone number in E.164 form (+ and 8 to 15 digits).',
        );
      const url = options.target();
      if (url === undefined)
        return refuse(
          503,
          'WEBHOOK_TARGET_NOT_SET',
          'This sandbox has no gateway to send webhooks to; set SANDBOX_WEBHOOK_TARGET (a standalone sandbox) or use npm start.',
        );
      const { message, reply } = options.receive(phone, parsed.data.body);
      const params = options.params(message);
      const sent = await options.post(url, params);
      return {
        status: 200,
        json: {
          type: TYPE,
          ...(customer ? { customer: { id: customer.crm.id, email: customer.person.email } } : {}),
          applied: {
            messageSid: message.sid,
            reply: reply ? { messageSid: reply.sid, body: reply.body } : null,
          },
          webhooks: [
            {
              source: 'twilio',
              topic: TYPE,
              url: sent.url,
              payload: sent.params,
              delivered: sent.delivered,
              status: sent.status,
            },
          ],
        },
      };
    },
  };
}
