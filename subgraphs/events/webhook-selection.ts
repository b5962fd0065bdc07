import type { Caller } from '../../lib/auth/gateway-token.js';

/**
 * Checks a webhook endpoint's GraphQL selection before it is saved: that it parses, names fields
 * the federated graph has, and reads nothing the owner's scopes do not allow. Resolves when it
 * may be saved; rejects with BAD_USER_INPUT naming the problem otherwise. Given by the process
 * that knows the federated schema (the composition root), never built from a subgraph's own SDL.
 */
export type SelectionCheck = (selection: string, owner: Caller) => Promise<void>;
