import type { WebhookSource } from '../../platforms/kit/descriptor.js';
import { WEBHOOK_SOURCES } from '../../platforms/registry.js';
import type { SigningSecrets } from './secrets.js';

/**
 * DEMO WEBHOOK SECRETS: not secrets. Each source's is in its folder (`platforms/<name>/demo.ts`) and
 * its descriptor's `webhooks.demoSecret`: the emitter signs with them in the embedded demo, the
 * demo gateway verifies with them, and a production gateway refuses them
 * (events/production-guard.ts). By source name, read from the registry.
 */
export const DEMO_WEBHOOK_SECRETS = Object.fromEntries(
  (WEBHOOK_SOURCES as readonly WebhookSource[]).map((source) => [source.name, source.demoSecret]),
) as SigningSecrets;
