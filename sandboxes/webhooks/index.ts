export {
  createWebhookEmitter,
  NoTargetError,
  type CausedEvent,
  type DeliveryOutcome,
  type SentWebhook,
  type WebhookEmitter,
  type WebhookEmitterOptions,
  type WebhookEmitterStats,
} from './emitter.js';
export { webhookEmitterRoutes } from './admin-routes.js';
export { sandboxEventRoute } from './event-route.js';
export {
  EVENT_TYPES,
  happen,
  drawEvent,
  type EventRequest,
  type EventType,
  type Happened,
} from './events.js';
export { DEMO_WEBHOOK_SECRETS } from './demo-secrets.js';
export { WEBHOOK_KINDS, type WebhookKind, type WebhookSource } from './payloads.js';
export type { WebhookSecrets } from './secrets.js';
