import { request, type Agent } from 'undici';
import { z } from 'zod';
import type { GatewayTokenSigner } from '../lib/auth/gateway-token.js';
import { EVENT_PROCESSOR_SCOPES, GATEWAY_AUDIENCE, SYSTEM_CALLERS } from '../lib/auth/system-callers.js';
import type { GraphRead, GraphResult } from './customer-context.js';
import type { GraphReadAs } from './webhook-enrichment.js';

/** A GraphQL response as a gateway sends it; anything else is a failed read, retried by the processor. */
const graphResponse = z.object({
  data: z.record(z.string(), z.unknown()).nullish(),
  errors: z
    .array(
      z
        .object({
          message: z.string(),
          extensions: z.object({ reason: z.string().optional() }).loose().optional(),
        })
        .loose(),
    )
    .optional(),
});

export interface RemoteGraphOptions {
  /** The gateway's origin (`GATEWAY_URL`); the read goes to its `/graphql`. */
  gatewayUrl: string;
  /** Signs the event processor's caller token with the gateway's key. */
  signer: GatewayTokenSigner;
  agent: Agent;
  /** Time one read may take before it fails (and the event is retried). @default 15000 */
  timeoutMs?: number;
}

/**
 * The graph as a `worker` reads it: over HTTP from a gateway, as the event processor, so routing
 * reads go through the same plan, caches and permissions as in the gateway's own process. Each
 * request carries a fresh caller token (audience `gateway`, 30 s, used once); the gateway grants
 * the processor's scopes itself. A transport failure or an unreadable answer throws: the
 * processor retries the event.
 */
export function remoteGraphRead(options: RemoteGraphOptions): GraphRead {
  const post = gatewayPoster(options);
  const caller = { clientId: SYSTEM_CALLERS.eventProcessor, scopes: EVENT_PROCESSOR_SCOPES };
  return async (query, variables) => {
    const answer = await post(caller, undefined, query, variables);
    if (answer.ownerUnknown) throw new Error('the gateway refused the event processor');
    return answer.result;
  };
}

/**
 * A webhook endpoint's selection as a `worker` reads it: over HTTP from a gateway, as the
 * endpoint's owner. The token names the owner (`obo`) and no scopes: the gateway reads with the
 * owner's scopes as its client registry has them now, as it does in its own process. Undefined
 * when the gateway says the owner is no longer registered; any other failure throws.
 */
export function remoteGraphReadAs(options: RemoteGraphOptions): GraphReadAs {
  const post = gatewayPoster(options);
  const caller = { clientId: SYSTEM_CALLERS.webhookEnrichment, scopes: [] };
  return async (clientId, query, variables) => {
    const answer = await post(caller, clientId, query, variables);
    return answer.ownerUnknown ? undefined : answer.result;
  };
}

/** One signed POST to the gateway's `/graphql`, its answer checked. */
function gatewayPoster(options: RemoteGraphOptions) {
  const url = `${options.gatewayUrl.replace(/\/+$/, '')}/graphql`;
  const timeoutMs = options.timeoutMs ?? 15_000;
  return async (
    caller: { clientId: string; scopes: readonly string[] },
    onBehalfOf: string | undefined,
    query: string,
    variables: Record<string, unknown>,
  ): Promise<{ ownerUnknown: boolean; result: GraphResult }> => {
    const body = JSON.stringify({ query, variables });
    const token = await options.signer.tokenFor(GATEWAY_AUDIENCE, caller, {
      body,
      ...(onBehalfOf !== undefined ? { onBehalfOf } : {}),
    });
    const response = await request(url, {
      method: 'POST',
      dispatcher: options.agent,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        authorization: `Bearer ${token}`,
      },
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await response.body.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`the gateway answered ${response.statusCode} without a GraphQL response`);
    }
    const parsed = graphResponse.safeParse(json);
    if (!parsed.success)
      throw new Error(`the gateway answered ${response.statusCode} with an unreadable GraphQL response`);
    const errors = parsed.data.errors;
    if (response.statusCode === 401 && errors?.some((e) => e.extensions?.reason === 'owner-unknown'))
      return { ownerUnknown: true, result: {} };
    if (response.statusCode >= 300 && !errors?.length)
      throw new Error(`the gateway answered ${response.statusCode} to ${caller.clientId}'s read`);
    return {
      ownerUnknown: false,
      result: {
        ...(parsed.data.data !== undefined ? { data: parsed.data.data } : {}),
        ...(errors ? { errors } : {}),
      },
    };
  };
}
