export {
  createWebhookEmitter,
  type DeliveryOutcome,
  type WebhookEmitter,
  type WebhookEmitterOptions,
  type WebhookEmitterStats,
} from './emitter.js';
export { webhookEmitterRoutes } from './admin-routes.js';
export { DEMO_WEBHOOK_SECRETS } from './demo-secrets.js';
export { WEBHOOK_KINDS, type WebhookKind, type WebhookSource } from './payloads.js';
export type { WebhookSecrets } from './secrets.js';
