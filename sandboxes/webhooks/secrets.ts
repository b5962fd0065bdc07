import type { EventSourceName } from '../../platforms/registry.js';

/** What the emitter signs with: one secret per webhook source, as the gateway is configured to verify. */
export type SigningSecrets = Readonly<Record<EventSourceName, string>>;
