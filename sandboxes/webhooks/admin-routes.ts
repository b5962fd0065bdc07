import { z } from 'zod';
import type { Route } from '../kit/types.js';
import { NoTargetError, type WebhookEmitter } from './emitter.js';

/**
 * `/__sandbox/webhooks`, for a sandbox server's `adminRoutes`: `GET` reads the emitter's counts,
 * `PUT {"running": true, "perMinute": 120}` switches live traffic on or off and sets its rate.
 */

const switchSchema = z
  .object({ running: z.boolean().optional(), perMinute: z.number().min(1).max(60_000).optional() })
  .strict();

export function webhookEmitterRoutes(emitter: WebhookEmitter): Route[] {
  return [
    { method: 'GET', path: '/__sandbox/webhooks', handle: () => ({ status: 200, json: emitter.stats() }) },
    {
      method: 'PUT',
      path: '/__sandbox/webhooks',
      handle: async (request) => {
        const parsed = switchSchema.safeParse(request.json ?? {});
        if (!parsed.success) {
          return {
            status: 400,
            json: {
              error: 'invalid webhook emitter switch',
              issues: parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`),
            },
          };
        }
        if (parsed.data.perMinute !== undefined) emitter.setRate(parsed.data.perMinute);
        if (parsed.data.running === true) {
          try {
            emitter.start();
          } catch (error) {
            if (!(error instanceof NoTargetError)) throw error;
            return {
              status: 503,
              json: {
                code: 'WEBHOOK_TARGET_NOT_SET',
                error: 'The emitter has no gateway to send webhooks to.',
              },
            };
          }
        }
        if (parsed.data.running === false) await emitter.stop();
        return { status: 200, json: emitter.stats() };
      },
    },
  ];
}
