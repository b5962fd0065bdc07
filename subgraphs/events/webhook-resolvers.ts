import { GraphQLError } from 'graphql';
import { DeliveryInputError } from '../../deliveries/errors.js';
import type { DeliveryService } from '../../deliveries/service.js';
import type { Endpoint } from '../../deliveries/endpoint.js';
import { badUserInput, ErrorCode } from '../../lib/errors.js';
import { checkPageSize } from '../../lib/graphql/page-sizes.js';
import type { EventsContext } from './context.js';
import type { WebhookPageModel } from './mappers.js';
import type {
  MutationResolvers,
  QueryResolvers,
  WebhookAttemptError,
  WebhookAttemptResolvers,
  WebhookEndpointDisabledReason,
  WebhookEndpointResolvers,
  WebhookMessageResolvers,
  WebhookMessageStatus,
} from './__generated__/resolvers-types.js';

export const WEBHOOKS_ADMIN_SCOPE = 'webhooks:admin';

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

/** A refusal of the delivery core, as the GraphQL error a client branches on (`code`, `reason`). */
function asGraphQLError(error: unknown): never {
  if (error instanceof DeliveryInputError)
    throw new GraphQLError(error.message, {
      extensions: { code: ErrorCode.BAD_USER_INPUT, reason: error.reason },
    });
  throw error;
}

async function call<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    return asGraphQLError(error);
  }
}

function serviceOf(context: EventsContext): DeliveryService {
  if (!context.deliveries)
    throw new GraphQLError('Webhooks out are not enabled on this deployment.', {
      extensions: { code: ErrorCode.BAD_REQUEST, reason: 'webhooks-disabled' },
    });
  return context.deliveries;
}

const isAdmin = (context: EventsContext) => context.caller.scopes.includes(WEBHOOKS_ADMIN_SCOPE);

/** An endpoint the caller may see: any with `webhooks:admin`, its own with `webhooks:read`. */
async function visibleEndpoint(context: EventsContext, id: string): Promise<Endpoint> {
  const endpoint = await call(() => serviceOf(context).endpoint(id));
  if (!isAdmin(context) && endpoint.ownerClientId !== context.caller.clientId)
    throw new GraphQLError(
      `Webhook endpoint ${id} belongs to another client; reading it needs \`${WEBHOOKS_ADMIN_SCOPE}\`.`,
      { extensions: { code: ErrorCode.FORBIDDEN } },
    );
  return endpoint;
}

/** `after` is the `endCursor` of a previous page: a positive integer this API issued. */
function pageCursor(after: string | null | undefined): number | undefined {
  if (after === null || after === undefined) return undefined;
  if (!/^[1-9]\d{0,15}$/.test(after))
    throw badUserInput(
      '`after` is not a cursor this API issued: pass the `endCursor` of a previous page.',
      'after',
    );
  return Number(after);
}

/** One more than asked, to know whether another page follows. */
function page<T>(rows: T[], first: number, cursorOf: (row: T) => number): WebhookPageModel<T> {
  const nodes = rows.slice(0, first);
  const last = nodes.at(-1);
  return {
    nodes,
    pageInfo: {
      hasNextPage: rows.length > first,
      endCursor: last === undefined ? null : String(cursorOf(last)),
    },
  };
}

/** Optional input fields a client left out or sent as null: both mean "the default" when creating. */
function withoutNulls(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(input).filter(([, value]) => value !== null && value !== undefined),
  );
}

async function checkedSelection(context: EventsContext, selection: unknown): Promise<void> {
  if (typeof selection !== 'string') return;
  if (!context.checkSelection)
    throw badUserInput('This deployment cannot check selections, so endpoints cannot have one.', 'selection');
  await context.checkSelection(selection, context.caller);
}

export const webhookQueryResolvers: Pick<
  QueryResolvers<EventsContext>,
  'webhookEndpoints' | 'webhookEndpoint' | 'webhookMessage'
> = {
  async webhookEndpoints(_parent, _args, context) {
    const service = serviceOf(context);
    return isAdmin(context)
      ? service.endpoints()
      : service.endpoints({ ownerClientId: context.caller.clientId });
  },
  webhookEndpoint: (_parent, args, context) => visibleEndpoint(context, args.id),
  async webhookMessage(_parent, args, context) {
    const message = await call(() => serviceOf(context).message(args.id));
    await visibleEndpoint(context, message.endpointId);
    return message;
  },
};

export const webhookMutationResolvers: Pick<
  MutationResolvers<EventsContext>,
  | 'createWebhookEndpoint'
  | 'updateWebhookEndpoint'
  | 'disableWebhookEndpoint'
  | 'enableWebhookEndpoint'
  | 'deleteWebhookEndpoint'
  | 'rotateWebhookEndpointSecret'
  | 'replayWebhookMessage'
  | 'recoverWebhookEndpoint'
> = {
  async createWebhookEndpoint(_parent, args, context) {
    const service = serviceOf(context);
    const input = withoutNulls(args.input);
    await checkedSelection(context, input['selection']);
    return call(() => service.createEndpoint({ ...input, ownerClientId: context.caller.clientId }));
  },
  async updateWebhookEndpoint(_parent, args, context) {
    const service = serviceOf(context);
    await visibleEndpoint(context, args.id);
    // Only the fields given: absent stays, null clears (the core refuses null where a field cannot be cleared).
    const changes = Object.fromEntries(Object.entries(args.input).filter(([, value]) => value !== undefined));
    await checkedSelection(context, changes['selection']);
    return call(() => service.updateEndpoint(args.id, changes));
  },
  async disableWebhookEndpoint(_parent, args, context) {
    await visibleEndpoint(context, args.id);
    return call(() => serviceOf(context).disableEndpoint(args.id));
  },
  async enableWebhookEndpoint(_parent, args, context) {
    await visibleEndpoint(context, args.id);
    return call(() => serviceOf(context).enableEndpoint(args.id));
  },
  async deleteWebhookEndpoint(_parent, args, context) {
    await visibleEndpoint(context, args.id);
    await call(() => serviceOf(context).deleteEndpoint(args.id));
    return { id: args.id };
  },
  async rotateWebhookEndpointSecret(_parent, args, context) {
    const service = serviceOf(context);
    await visibleEndpoint(context, args.id);
    const overlapSeconds = args.overlapSeconds ?? undefined;
    if (overlapSeconds !== undefined && (overlapSeconds < 0 || overlapSeconds > 2_592_000))
      throw badUserInput('`overlapSeconds` must be from 0 to 2592000 (30 days).', 'overlapSeconds');
    const rotated = await call(() =>
      service.rotateSecret(args.id, overlapSeconds === undefined ? {} : { overlapMs: overlapSeconds * 1000 }),
    );
    return {
      endpoint: await call(() => service.endpoint(args.id)),
      secret: rotated.secret,
      previousSecretsExpireAt: iso(rotated.previousSecretsExpireAtMs),
    };
  },
  async replayWebhookMessage(_parent, args, context) {
    const service = serviceOf(context);
    const message = await call(() => service.message(args.id));
    await visibleEndpoint(context, message.endpointId);
    return call(() => service.replayMessage(args.id));
  },
  async recoverWebhookEndpoint(_parent, args, context) {
    const service = serviceOf(context);
    await visibleEndpoint(context, args.id);
    const recovered = await call(() => service.recoverEndpoint(args.id, Date.parse(args.since)));
    return { endpoint: await call(() => service.endpoint(args.id)), recovered };
  },
};

export const WebhookEndpoint: WebhookEndpointResolvers<EventsContext> = {
  disabledReason: (endpoint) =>
    endpoint.disabledReason === null
      ? null
      : (endpoint.disabledReason.toUpperCase() as WebhookEndpointDisabledReason),
  disabledAt: (endpoint) => isoOrNull(endpoint.disabledAtMs),
  failingSince: (endpoint) => isoOrNull(endpoint.failingSinceMs),
  createdAt: (endpoint) => iso(endpoint.createdAtMs),
  updatedAt: (endpoint) => iso(endpoint.updatedAtMs),
  async messages(endpoint, args, context) {
    checkPageSize('WebhookEndpoint.messages(first:)', args.first);
    const beforeSeq = pageCursor(args.after);
    const rows = await serviceOf(context).messages({
      endpointId: endpoint.id,
      limit: args.first + 1,
      ...(args.status ? { status: args.status.toLowerCase() as Lowercase<WebhookMessageStatus> } : {}),
      ...(beforeSeq !== undefined ? { beforeSeq } : {}),
    });
    return page(rows, args.first, (message) => message.seq);
  },
  attempts: (endpoint, args, context) =>
    attemptsPage('WebhookEndpoint.attempts(first:)', { endpointId: endpoint.id }, args, context),
};

export const WebhookMessage: WebhookMessageResolvers<EventsContext> = {
  status: (message) => message.status.toUpperCase() as WebhookMessageStatus,
  attemptCount: (message) => message.attempts,
  nextAttemptAt: (message) => isoOrNull(message.nextAttemptMs),
  createdAt: (message) => iso(message.createdAtMs),
  updatedAt: (message) => iso(message.updatedAtMs),
  payload: (message) => JSON.parse(message.body) as unknown,
  attempts: (message, args, context) =>
    attemptsPage('WebhookMessage.attempts(first:)', { messageId: message.id }, args, context),
};

/** One page of attempts, newest first, of an endpoint or of one message. */
async function attemptsPage(
  field: string,
  of: { endpointId: string } | { messageId: string },
  args: { first: number; after?: string | null },
  context: EventsContext,
) {
  checkPageSize(field, args.first);
  const beforeId = pageCursor(args.after);
  const rows = await serviceOf(context).attempts({
    ...of,
    limit: args.first + 1,
    ...(beforeId !== undefined ? { beforeId } : {}),
  });
  return page(rows, args.first, (attempt) => attempt.id);
}

export const WebhookAttempt: WebhookAttemptResolvers<EventsContext> = {
  id: (attempt) => String(attempt.id),
  attemptedAt: (attempt) => iso(attempt.attemptedAtMs),
  error: (attempt) =>
    attempt.errorClass === null ? null : (attempt.errorClass.toUpperCase() as WebhookAttemptError),
};
