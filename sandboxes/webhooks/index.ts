export {
  createWebhookEmitter,
  NoTargetError,
  type CausedEvent,
  type Delivery,
  type DeliveryOutcome,
  type EventRequest,
  type Happened,
  type SentWebhook,
  type WebhookEmitter,
  type WebhookEmitterOptions,
  type WebhookEmitterStats,
} from './emitter.js';
export { webhookEmitterRoutes } from './admin-routes.js';
export { sandboxEventRoute } from './event-route.js';
export { DEMO_WEBHOOK_SECRETS } from './demo-secrets.js';
export { CAUSE_EXAMPLE, WEBHOOK_KINDS, type WebhookKind } from './traffic.js';
export type { SigningSecrets } from './secrets.js';
