import { z } from 'zod';
import { flagsOf, required, text, type Flags } from '../flags.js';
import { UsageError } from '../usage.js';

export const ENDPOINTS_USAGE = `Usage: marketing-graph endpoints <command> [options]   (calls GATEWAY_URL with MARKETING_GRAPH_API_KEY)

Commands:
  list [--json]             your webhook endpoints (every client's with webhooks:admin), with their last attempts
  create --url <url> [--description <text>] [--event-types A,B] [--channels a,b] [--rate-limit <n>]
         [--selection '<graphql>']
                            registers an endpoint; its signing secret (whsec_...) is printed once
  rotate --id <ep_...> [--overlap-seconds <n>]
                            a new signing secret, printed once; the old one keeps signing for the overlap (default 24 h)
  disable --id <ep_...>     stops deliveries (pending messages fail, to be recovered later)
  enable --id <ep_...>      starts deliveries again
  delete --id <ep_...>      deletes the endpoint with its messages and attempts
  replay --message <msg_...>
                            sends one message again, with the same webhook-id
  recover --id <ep_...> --since <ISO-8601 time>
                            sends again what failed since then

Managing needs a key with webhooks:admin; list needs webhooks:read or webhooks:admin.`;

interface Output {
  write(text: string): unknown;
}

export interface EndpointsCommandOptions {
  /** The gateway's GraphQL URL (GATEWAY_URL and `/graphql`). */
  gatewayUrl: string;
  /** The API key sent as a bearer token (MARKETING_GRAPH_API_KEY). */
  apiKey: string | undefined;
  /** Results (and a new secret, alone on its line). @default process.stdout */
  stdout?: Output;
  /** Notes and refusals. @default process.stderr */
  stderr?: Output;
}

/** A refusal the gateway answered with: printed as `code (reason): message`, exit 1. */
export class GatewayRefusal extends Error {
  override name = 'GatewayRefusal';
}

const ENDPOINT_FIELDS = `id url description enabled disabledReason eventTypes channels rateLimitPerSecond selection ownerClientId createdAt`;

const responseSchema = z.object({
  data: z.record(z.string(), z.unknown()).nullable().optional(),
  errors: z
    .array(
      z.object({
        message: z.string(),
        extensions: z
          .object({ code: z.string().optional(), reason: z.string().optional() })
          .loose()
          .optional(),
      }),
    )
    .optional(),
});

function integer(flags: Flags, name: string): number | undefined {
  const value = text(flags, name);
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value)) throw new UsageError(`--${name} must be a whole number, got "${value}"`);
  return Number(value);
}

const list = (value: string | undefined) =>
  value === undefined
    ? undefined
    : value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean);

interface EndpointView {
  id: string;
  url: string;
  description: string;
  enabled: boolean;
  disabledReason: string | null;
  eventTypes: string[] | null;
  channels: string[] | null;
  rateLimitPerSecond: number | null;
  selection: string | null;
  ownerClientId: string;
  createdAt: string;
  attempts?: {
    nodes: { attemptedAt: string; statusCode: number | null; error: string | null; messageId: string }[];
  };
}

function describeEndpoint(endpoint: EndpointView): string {
  const state = endpoint.enabled ? 'enabled' : `disabled (${String(endpoint.disabledReason).toLowerCase()})`;
  const lines = [
    `${endpoint.id}  ${state}  ${endpoint.url}`,
    `  owner ${endpoint.ownerClientId}; events ${endpoint.eventTypes?.join(',') ?? 'all'}; channels ${endpoint.channels?.join(',') ?? 'any'}; rate limit ${endpoint.rateLimitPerSecond === null ? 'none' : `${endpoint.rateLimitPerSecond}/s`}`,
  ];
  if (endpoint.description) lines.push(`  ${endpoint.description}`);
  if (endpoint.selection) lines.push(`  selection: ${endpoint.selection}`);
  for (const attempt of endpoint.attempts?.nodes ?? [])
    lines.push(
      `  ${attempt.attemptedAt}  ${attempt.messageId}  ${attempt.statusCode ?? '-'}${attempt.error ? ` ${attempt.error.toLowerCase()}` : ''}`,
    );
  return lines.join('\n');
}

/**
 * `endpoints <command>`: webhook endpoints managed through the gateway's GraphQL API with an API
 * key, the same operations a subscriber sends with curl or from the explorer. Returns the exit
 * code; refusals (`GatewayRefusal`) and usage errors are thrown for main to print.
 */
export async function endpointsCommand(
  args: readonly string[],
  options: EndpointsCommandOptions,
): Promise<number> {
  const out = options.stdout ?? process.stdout;
  const err = options.stderr ?? process.stderr;
  const [command, ...rest] = args;

  async function call<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    if (!options.apiKey)
      throw new UsageError(
        'MARKETING_GRAPH_API_KEY is not set: give the API key of a client with webhooks:admin (webhooks:read to list)',
      );
    let response: Response;
    try {
      response = await fetch(options.gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new GatewayRefusal(
        `Cannot reach the gateway at ${options.gatewayUrl} (GATEWAY_URL): ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`,
      );
    }
    const parsed = responseSchema.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success)
      throw new GatewayRefusal(
        `The gateway at ${options.gatewayUrl} answered ${response.status} with something other than GraphQL.`,
      );
    const first = parsed.data.errors?.[0];
    if (first) {
      const code = first.extensions?.code ?? `HTTP ${response.status}`;
      const reason = first.extensions?.reason ? ` (${first.extensions.reason})` : '';
      throw new GatewayRefusal(`Refused, ${code}${reason}: ${first.message}`);
    }
    return parsed.data.data as T;
  }

  switch (command) {
    case 'list': {
      const flags = flagsOf(rest, { json: 'boolean' });
      const data = await call<{ webhookEndpoints: EndpointView[] }>(
        `{ webhookEndpoints { ${ENDPOINT_FIELDS} attempts(first: 3) { nodes { attemptedAt statusCode error messageId } } } }`,
        {},
      );
      if (flags['json']) out.write(`${JSON.stringify(data.webhookEndpoints, null, 2)}\n`);
      else if (data.webhookEndpoints.length === 0) err.write('No webhook endpoints.\n');
      else out.write(`${data.webhookEndpoints.map(describeEndpoint).join('\n\n')}\n`);
      return 0;
    }
    case 'create': {
      const flags = flagsOf(rest, {
        url: 'string',
        description: 'string',
        'event-types': 'string',
        channels: 'string',
        'rate-limit': 'string',
        selection: 'string',
      });
      const input = {
        url: required(flags, 'url'),
        description: text(flags, 'description'),
        eventTypes: list(text(flags, 'event-types'))?.map((type) => type.toUpperCase()),
        channels: list(text(flags, 'channels')),
        rateLimitPerSecond: integer(flags, 'rate-limit'),
        selection: text(flags, 'selection'),
      };
      const data = await call<{ createWebhookEndpoint: { endpoint: EndpointView; secret: string } }>(
        `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { ${ENDPOINT_FIELDS} } } }`,
        { input },
      );
      const { endpoint, secret } = data.createWebhookEndpoint;
      err.write(
        `${describeEndpoint(endpoint)}\nIts signing secret, shown this once (verify each webhook with it):\n`,
      );
      out.write(`${secret}\n`);
      return 0;
    }
    case 'rotate': {
      const flags = flagsOf(rest, { id: 'string', 'overlap-seconds': 'string' });
      const overlapSeconds = integer(flags, 'overlap-seconds');
      const data = await call<{
        rotateWebhookEndpointSecret: { secret: string; previousSecretsExpireAt: string };
      }>(
        `mutation($id: ID!, $overlap: Int) { rotateWebhookEndpointSecret(id: $id, overlapSeconds: $overlap) { secret previousSecretsExpireAt } }`,
        { id: required(flags, 'id'), overlap: overlapSeconds ?? null },
      );
      const rotated = data.rotateWebhookEndpointSecret;
      err.write(
        `The previous secrets keep signing until ${rotated.previousSecretsExpireAt}. The new one, shown this once:\n`,
      );
      out.write(`${rotated.secret}\n`);
      return 0;
    }
    case 'disable':
    case 'enable': {
      const flags = flagsOf(rest, { id: 'string' });
      const field = command === 'disable' ? 'disableWebhookEndpoint' : 'enableWebhookEndpoint';
      const data = await call<Record<string, EndpointView>>(
        `mutation($id: ID!) { ${field}(id: $id) { ${ENDPOINT_FIELDS} } }`,
        { id: required(flags, 'id') },
      );
      out.write(`${describeEndpoint(data[field] as EndpointView)}\n`);
      return 0;
    }
    case 'delete': {
      const flags = flagsOf(rest, { id: 'string' });
      const data = await call<{ deleteWebhookEndpoint: { id: string } }>(
        `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`,
        { id: required(flags, 'id') },
      );
      out.write(`deleted ${data.deleteWebhookEndpoint.id}\n`);
      return 0;
    }
    case 'replay': {
      const flags = flagsOf(rest, { message: 'string' });
      const data = await call<{
        replayWebhookMessage: { id: string; status: string; nextAttemptAt: string | null };
      }>(`mutation($id: ID!) { replayWebhookMessage(id: $id) { id status nextAttemptAt } }`, {
        id: required(flags, 'message'),
      });
      const message = data.replayWebhookMessage;
      out.write(
        `${message.id} ${message.status.toLowerCase()}, next attempt ${message.nextAttemptAt ?? 'now'}\n`,
      );
      return 0;
    }
    case 'recover': {
      const flags = flagsOf(rest, { id: 'string', since: 'string' });
      const since = required(flags, 'since');
      if (Number.isNaN(Date.parse(since)))
        throw new UsageError(
          `--since must be an ISO-8601 time such as 2026-12-01T00:00:00.000Z, got "${since}"`,
        );
      const data = await call<{ recoverWebhookEndpoint: { recovered: number } }>(
        `mutation($id: ID!, $since: DateTime!) { recoverWebhookEndpoint(id: $id, since: $since) { recovered } }`,
        { id: required(flags, 'id'), since: new Date(since).toISOString() },
      );
      out.write(`${data.recoverWebhookEndpoint.recovered} message(s) put back to be sent\n`);
      return 0;
    }
    default:
      throw new UsageError(
        command === undefined ? 'endpoints needs a command' : `unknown endpoints command "${command}"`,
      );
  }
}
