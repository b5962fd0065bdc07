import { ROLE_SCOPES } from '../__generated__/vocabulary.js';

/**
 * Every scope a client can hold, in one place, named `<domain>:<action>`. The SDLs require them
 * with `@requiresScopes`; the client registry grants them; the README and the generated data-flow
 * documentation list them from here.
 */
export const SCOPES = {
  // Each role subgraph's `<role>:read`, declared with the role (`subgraphs/<role>/declaration.ts`).
  ...ROLE_SCOPES,
  'pii:read':
    'Personal data on top of a read scope: email addresses, names, phone numbers, shipping addresses.',
  'campaigns:read':
    'Campaign performance across channels and email campaign reports (aggregates, no personal data).',
  'schema:read': 'Introspection: the schema in the explorer and in tools.',
  'events:read': 'Subscriptions to marketing events and the event history.',
  'events:admin': 'Dead-lettered events: list and replay them.',
  'webhooks:read':
    'Webhook endpoints the client registered: their settings, messages and every delivery attempt.',
  'webhooks:admin':
    "Webhook endpoints: register, change, disable, delete them, rotate their secrets, replay and recover messages; every client's.",
  'syncs:read':
    'Batch syncs: their definitions, run history and the rows a run quarantined or the destination refused.',
  'syncs:admin': 'Start a batch sync run.',
  'metrics:read': "The gateway's counters at `/metrics` (Prometheus text), for monitoring.",
  'monitoring:read':
    "Integration health: each connection's status, freshness, success rate, latency, budget and API version (`integrations`, `/status`).",
} as const;

export type Scope = keyof typeof SCOPES;

export const ALL_SCOPES = Object.keys(SCOPES) as Scope[];

export function isScope(value: string): value is Scope {
  return Object.hasOwn(SCOPES, value);
}
