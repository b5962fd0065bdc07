import type { z } from 'zod';
import type { RequestContext } from '../../lib/request-context.js';

/** One read a platform client makes, and the shape its answer must have. */
export interface ContractCall<Client> {
  /** The call as the platform documents it: `GET /3.0/lists/{list_id}/members`. */
  name: string;
  run(client: Client, request: RequestContext): Promise<unknown>;
  /** What the client must hand back, from the sandbox and from the real platform alike. */
  shape: z.ZodType;
}

/**
 * A platform client's contract, one description for both sides: the sandbox tests run it against
 * the platform's sandbox (`npm test`), `npm run test:live` against the real platform when its
 * credentials are in the environment. Reads only, with the smallest pages the API allows, so a
 * live run changes nothing in the account and costs a handful of calls.
 */
export interface PlatformContract<Connection, Client extends { close(): Promise<void> }> {
  platform: string;
  /** The variables a live run needs (the ones the role subgraph reads); any unset skips the platform. */
  liveVariables: readonly string[];
  /** The live connection from those variables. */
  liveConnection(env: Readonly<Record<string, string | undefined>>): Connection;
  /** A client over a connection, with no cache and short timeouts. */
  client(connection: Connection): Client;
  calls: readonly ContractCall<Client>[];
}

/** A contract with its types erased, for the runners that go through every platform. */
export type AnyPlatformContract = PlatformContract<unknown, { close(): Promise<void> }>;

/** Keeps a contract's own types while listing it with the others. */
export function defineContract<Connection, Client extends { close(): Promise<void> }>(
  contract: PlatformContract<Connection, Client>,
): AnyPlatformContract {
  return contract as unknown as AnyPlatformContract;
}

/** The settings every contract client shares: no retries hiding a failure, a short timeout. */
export const CONTRACT_CLIENT_SETTINGS = { timeoutMs: 15_000, maxRetries: 1 } as const;
