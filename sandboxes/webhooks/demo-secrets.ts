import { DEMO_WEBHOOK_SECRETS as SECRETS } from '../../lib/webhooks/demo-secrets.js';
import type { WebhookSecrets } from './secrets.js';

/**
 * DEMO WEBHOOK SECRETS: not secrets (see lib/webhooks/demo-secrets.ts). The emitter signs with
 * them in the embedded demo; production gateways refuse them.
 */
export const DEMO_WEBHOOK_SECRETS = SECRETS satisfies WebhookSecrets;
