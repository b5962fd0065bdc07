import type { Route, SandboxRequest, SandboxResponse } from '../../../sandboxes/kit/types.js';
import { CUSTOMER_FILE_SOURCES, type Audiences } from './audiences.js';
import { eventsRequestOf } from './conversions.js';
import { invalidParameter, invalidRequest, traceId, unknownObject } from './errors.js';
import { graphParams } from './params.js';
import type { Pixels } from './pixels.js';
import { usersRequestOf, type AudienceOperation } from './users-payload.js';
import { checkVersion } from './version.js';

/**
 * The sandbox's write paths, as Meta takes them: Conversions API events on a pixel, customer-file
 * custom audiences (create one, add and remove its users). The kit records every request to them
 * (`GET /__sandbox/requests`); `/__sandbox/meta/*` shows what they changed (an audience's members
 * and upload sessions, a pixel's events), so a test can assert what a client sent and what it did.
 */

export interface WriteState {
  now: () => number;
  pixels: Pixels;
  audiences: Audiences;
}

export const WRITE_ENDPOINTS = {
  events: 'POST /{version}/{pixelId}/events',
  /** The calls that spend the ad account's `custom_audience` budget. */
  customAudience: new Set([
    'POST /{version}/{audienceId}/users',
    'DELETE /{version}/{audienceId}/users',
    'POST /{version}/act_{adAccountId}/customaudiences',
  ]),
} as const;

/** Parameters Meta reads as JSON whether they come as JSON or as JSON text in a form. */
const STRUCTURED = ['data', 'payload', 'session'];

const notFound = (what: string): SandboxResponse => ({
  status: 404,
  json: { code: 'NOT_FOUND', error: `The sandbox has no ${what}.` },
});

export function writeRoutes(
  state: WriteState,
  checkAccount: (request: SandboxRequest) => SandboxResponse | undefined,
): { routes: Route[]; adminRoutes: Route[] } {
  /** A write route (recorded by the kit): the version checked, then the parameters read. */
  const write = (
    method: 'POST' | 'DELETE',
    path: string,
    handle: (request: SandboxRequest, params: Record<string, unknown>) => SandboxResponse,
  ): Route => ({
    method,
    path,
    write: true,
    handle(request) {
      const denied = checkVersion(request);
      if (denied) return denied;
      const parsed = graphParams(request, STRUCTURED);
      return 'error' in parsed ? invalidParameter(parsed.error) : handle(request, parsed.params);
    },
  });

  const users = (operation: AudienceOperation) =>
    write(operation === 'add' ? 'POST' : 'DELETE', '/{version}/{audienceId}/users', (request, params) => {
      const id = request.params['audienceId'] ?? '';
      const audience = state.audiences.get(id);
      if (!audience) return unknownObject(id, request.method);
      const parsed = usersRequestOf(params);
      if ('refused' in parsed) return invalidRequest(parsed.title, parsed.detail);
      const outcome = audience.apply(operation, parsed);
      if ('refused' in outcome) return invalidRequest(outcome.title, outcome.detail);
      return { status: 200, json: outcome };
    });

  const routes: Route[] = [
    write('POST', '/{version}/{pixelId}/events', (request, params) => {
      const id = request.params['pixelId'] ?? '';
      if (!state.pixels.has(id)) return unknownObject(id, request.method);
      const now = state.now();
      const parsed = eventsRequestOf(params, Math.floor(now / 1000));
      if ('refused' in parsed) return invalidRequest(parsed.title, parsed.detail, parsed.subcode);
      state.pixels.accept(id, parsed.events, now, parsed.testEventCode);
      return {
        status: 200,
        json: { events_received: parsed.events.length, messages: parsed.messages, fbtrace_id: traceId() },
      };
    }),
    users('add'),
    users('remove'),
    write('POST', '/{version}/act_{adAccountId}/customaudiences', (request, params) => {
      const denied = checkAccount(request);
      if (denied) return denied;
      const { name, description, subtype, customer_file_source: source } = params;
      if (typeof name !== 'string' || name.trim().length === 0 || name.length > 255)
        return invalidParameter('The parameter name is required');
      if (subtype !== undefined && subtype !== 'CUSTOM')
        return invalidParameter('subtype must be CUSTOM for a customer file audience');
      if (typeof source !== 'string' || !CUSTOMER_FILE_SOURCES.has(source))
        return invalidParameter(
          `customer_file_source must be one of ${[...CUSTOMER_FILE_SOURCES].join(', ')}`,
        );
      if (description !== undefined && typeof description !== 'string')
        return invalidParameter('description must be a string');
      return { status: 200, json: { id: state.audiences.create(name.trim(), description) } };
    }),
  ];

  const adminRoutes: Route[] = [
    {
      method: 'GET',
      path: '/__sandbox/meta/audiences',
      handle: () => ({ status: 200, json: { audiences: state.audiences.list() } }),
    },
    {
      method: 'GET',
      path: '/__sandbox/meta/audiences/{audienceId}',
      handle: (request) => {
        const audience = state.audiences.get(request.params['audienceId'] ?? '');
        return audience ? { status: 200, json: audience.snapshot() } : notFound('such audience');
      },
    },
    {
      method: 'GET',
      path: '/__sandbox/meta/pixels/{pixelId}/events',
      handle: (request) => {
        const pixel = state.pixels.snapshot(request.params['pixelId'] ?? '');
        return pixel ? { status: 200, json: pixel } : notFound('such pixel');
      },
    },
  ];
  return { routes, adminRoutes };
}
