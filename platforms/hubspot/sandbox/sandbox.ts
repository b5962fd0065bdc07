import { RollingWindow } from '../../../sandboxes/kit/limits.js';
import type { Admission, PlatformSandbox, Route, SandboxRequest } from '../../../sandboxes/kit/types.js';
import type { World } from '../../../sandboxes/world/world.js';
import { Contacts } from './contacts.js';
import { contactWriteRoutes } from './writes.js';
import { noteRoutes } from './notes.js';
import { error, toSimplePublicObject, type Json } from './objects.js';
import { searchContacts, type SearchBody } from './search.js';

/**
 * HubSpot CRM v3 as the `crm` connector uses it: contacts (get, list, batch read, search, batch
 * update and upsert), notes on them, and list memberships, with HubSpot's Bearer auth, `after`
 * cursors, error bodies, 207 partial batches and its limits (100 requests per rolling 10 s per
 * app, 250,000 a day, writes included; search 5 per second, no headers). Writes change the world,
 * so reads show them; the kit records them (`GET /__sandbox/requests`).
 */

export interface HubSpotSandboxOptions {
  world: World;
  accessToken: string;
  /** Requests per rolling 10 s. @default 100 (Free/Starter private app) */
  tenSecondLimit?: number;
  /** @default 250000 */
  dailyLimit?: number;
  /** @default 5 */
  searchPerSecond?: number;
  /** Public base URL written into `paging.next.link`. */
  publicBaseUrl?: string;
}

const CONTACT_OBJECT_TYPE = '0-1';

function propertiesParam(request: SandboxRequest): string[] {
  return request.query
    .getAll('properties')
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

export function createHubSpotSandbox(options: HubSpotSandboxOptions): PlatformSandbox {
  const { world } = options;
  const base = options.publicBaseUrl ?? 'https://api.hubapi.com';
  const tenSecond = new RollingWindow(options.tenSecondLimit ?? 100, 10_000);
  const searchWindow = new RollingWindow(options.searchPerSecond ?? 5, 1_000);
  const dailyLimit = options.dailyLimit ?? 250_000;
  let day = '';
  let dailyUsed = 0;
  const contacts = new Contacts(world);
  const listsById = new Map(world.lists.map((l) => [l.id, l]));
  const findContact = (id: string, idProperty: string | null) => contacts.find(id, idProperty);

  const routes: Route[] = [
    {
      method: 'GET',
      path: '/crm/v3/objects/contacts',
      handle(request) {
        const limit = Number(request.query.get('limit') ?? '10');
        if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
          return error(
            400,
            'VALIDATION_ERROR',
            `limit must be an integer from 1 to 100, got ${request.query.get('limit')}`,
          );
        }
        const after = request.query.get('after');
        const ordered = contacts.ordered();
        const start = after ? ordered.findIndex((c) => Number(c.crm.id) >= Number(after)) : 0;
        const page = start < 0 ? [] : ordered.slice(start, start + limit);
        const next = start < 0 ? undefined : ordered[start + limit];
        const properties = propertiesParam(request);
        return {
          status: 200,
          json: {
            results: page.map((c) => toSimplePublicObject(c, properties)),
            ...(next
              ? {
                  paging: {
                    next: {
                      after: next.crm.id,
                      link: `${base}/crm/v3/objects/contacts?after=${next.crm.id}&limit=${limit}`,
                    },
                  },
                }
              : {}),
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/crm/v3/objects/contacts/{id}',
      handle(request) {
        const id = request.params['id'] ?? '';
        const customer = findContact(id, request.query.get('idProperty'));
        if (!customer)
          return error(404, 'OBJECT_NOT_FOUND', 'Object not found.  objectId are usually numeric.', {
            context: { id: [id] },
          });
        return { status: 200, json: toSimplePublicObject(customer, propertiesParam(request)) };
      },
    },
    {
      method: 'POST',
      path: '/crm/v3/objects/contacts/batch/read',
      handle(request) {
        const body = request.json as
          { inputs?: unknown; properties?: unknown; idProperty?: unknown } | undefined;
        if (!body || !Array.isArray(body.inputs))
          return error(400, 'VALIDATION_ERROR', 'Invalid input JSON: inputs is required');
        if (body.inputs.length > 100)
          return error(400, 'VALIDATION_ERROR', 'Batch input limit is 100, got ' + body.inputs.length);
        const idProperty = typeof body.idProperty === 'string' ? body.idProperty : null;
        const properties = Array.isArray(body.properties)
          ? body.properties.filter((p): p is string => typeof p === 'string')
          : [];
        const startedAt = new Date().toISOString();
        const results: Json[] = [];
        const missing: string[] = [];
        for (const input of body.inputs as { id?: unknown }[]) {
          const id = typeof input?.id === 'string' ? input.id : String(input?.id ?? '');
          const customer = findContact(id, idProperty);
          if (customer) results.push(toSimplePublicObject(customer, properties));
          else missing.push(id);
        }
        const done = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() };
        if (missing.length === 0) return { status: 200, json: done };
        return {
          status: 207,
          json: {
            ...done,
            numErrors: 1,
            errors: [
              {
                status: 'error',
                category: 'OBJECT_NOT_FOUND',
                message:
                  'Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.',
                context: { ids: missing },
              },
            ],
          },
        };
      },
    },
    {
      method: 'POST',
      path: '/crm/v3/objects/contacts/search',
      handle(request) {
        const result = searchContacts(contacts.ordered(), request.json as SearchBody | undefined);
        if ('error' in result) return error(400, 'VALIDATION_ERROR', result.error);
        const { page, total, nextAfter, properties } = result;
        return {
          status: 200,
          json: {
            total,
            results: page.map((c) => toSimplePublicObject(c, properties)),
            ...(nextAfter !== undefined ? { paging: { next: { after: String(nextAfter) } } } : {}),
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/crm/v3/lists/records/{objectTypeId}/{recordId}/memberships',
      handle(request) {
        if (request.params['objectTypeId'] !== CONTACT_OBJECT_TYPE) {
          return error(400, 'VALIDATION_ERROR', `Unsupported object type ${request.params['objectTypeId']}`);
        }
        const customer = world.byCrmId.get(request.params['recordId'] ?? '');
        if (!customer) return error(404, 'OBJECT_NOT_FOUND', 'Object not found.');
        const results = customer.crm.lists.map((m) => ({
          listId: m.listId,
          listVersion: 1,
          firstAddedTimestamp: new Date(m.addedAt).toISOString(),
          lastAddedTimestamp: new Date(m.addedAt).toISOString(),
        }));
        return { status: 200, json: { results, total: results.length } };
      },
    },
    {
      method: 'GET',
      path: '/crm/v3/lists',
      handle(request) {
        const ids = request.query.getAll('listIds').flatMap((v) => v.split(','));
        if (ids.length === 0) return error(400, 'VALIDATION_ERROR', 'listIds is required');
        const lists = ids.flatMap((id) => {
          const list = listsById.get(id);
          return list
            ? [
                {
                  listId: list.id,
                  name: list.name,
                  objectTypeId: CONTACT_OBJECT_TYPE,
                  processingType: 'DYNAMIC',
                  processingStatus: 'COMPLETE',
                  createdAt: new Date(list.createdAt).toISOString(),
                  updatedAt: new Date(list.createdAt).toISOString(),
                  listVersion: 1,
                },
              ]
            : [];
        });
        return { status: 200, json: { lists } };
      },
    },
    ...contactWriteRoutes(contacts),
    ...noteRoutes(world, contacts),
  ];

  return {
    platform: 'hubspot',
    routes,
    authenticate(request) {
      const header = request.headers.authorization ?? '';
      if (header === `Bearer ${options.accessToken}`) return undefined;
      return error(
        401,
        'INVALID_AUTHENTICATION',
        'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
      );
    },
    admit(request): Admission {
      const today = new Date().toISOString().slice(0, 10);
      if (today !== day) {
        day = today;
        dailyUsed = 0;
      }
      if (request.endpoint.endsWith('/search')) {
        // Search has its own per-second limit and sends no rate-limit headers.
        const taken = searchWindow.take();
        if (!taken.ok) return { reject: this.rateLimitedResponse(1) };
        return {};
      }
      if (dailyUsed >= dailyLimit) return { reject: this.rateLimitedResponse(0, 'daily') };
      const taken = tenSecond.take();
      const headers = {
        'x-hubspot-ratelimit-interval-milliseconds': '10000',
        'x-hubspot-ratelimit-max': String(tenSecond.max),
        'x-hubspot-ratelimit-remaining': String(taken.remaining),
        'x-hubspot-ratelimit-daily': String(dailyLimit),
        'x-hubspot-ratelimit-daily-remaining': String(
          Math.max(0, dailyLimit - dailyUsed - (taken.ok ? 1 : 0)),
        ),
      };
      if (!taken.ok) return { reject: this.rateLimitedResponse(taken.retryAfterMs / 1000), headers };
      dailyUsed += 1;
      return { headers };
    },
    errorResponse(status, message) {
      const category =
        status === 404 ? 'OBJECT_NOT_FOUND' : status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_ERROR';
      return error(status, category, message);
    },
    rateLimitedResponse(_retryAfterSeconds, policy = 'window') {
      // HubSpot answers 429 without Retry-After; clients pace themselves from the headers. The
      // daily limit's 429 says DAILY and that none are left; it resets at midnight, account time.
      if (policy === 'daily') {
        return {
          ...error(429, 'RATE_LIMITS', 'You have reached your daily limit.', {
            errorType: 'RATE_LIMIT',
            policyName: 'DAILY',
          }),
          headers: {
            'x-hubspot-ratelimit-daily': String(dailyLimit),
            'x-hubspot-ratelimit-daily-remaining': '0',
          },
        };
      }
      return error(429, 'RATE_LIMITS', 'You have reached your ten_secondly_rolling limit.', {
        errorType: 'RATE_LIMIT',
        policyName: 'TEN_SECONDLY_ROLLING',
      });
    },
  };
}
