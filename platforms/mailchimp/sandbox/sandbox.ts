import { ConcurrencyCap } from '../../../sandboxes/kit/limits.js';
import type {
  Admission,
  PlatformSandbox,
  Route,
  SandboxRequest,
  SandboxResponse,
} from '../../../sandboxes/kit/types.js';
import type { EmailCampaign, World } from '../../../sandboxes/world/world.js';
import { Audience } from './audience.js';
import { toCampaignJson, toReportJson } from './campaigns.js';
import { selectFields } from './fields.js';
import { toListJson } from './list.js';
import { toMemberJson, type AudienceEntry } from './members.js';
import { QueryReader } from './params.js';
import { invalid, notFound, problem } from './problems.js';
import { memberWriteRoutes } from './writes.js';

/**
 * Mailchimp Marketing API 3.0 as the `email` connector uses it: one audience (its info and stats)
 * and its members (get, list, upsert, tag, archive, batch subscribe), and sent campaigns with their
 * reports, under `/3.0`, with HTTP Basic auth (API key as password), `count`/`offset` paging,
 * `fields`/`exclude_fields`, problem+json errors and Mailchimp's only limit: 10 simultaneous
 * connections per user, answered 429 beyond (no rate-limit headers). Writes change the world, so
 * reads show them; the kit records them (`GET /__sandbox/requests`).
 */

export interface MailchimpSandboxOptions {
  world: World;
  /** The one API key accepted, `<32 hex>-<dc>`. */
  apiKey: string;
  /** The audience (list) id the world's audience lives in. */
  listId: string;
  /** Requests in flight at once before a 429. @default 10 */
  maxConnections?: number;
}

const MEMBER_STATUSES = [
  'subscribed',
  'unsubscribed',
  'cleaned',
  'pending',
  'transactional',
  'archived',
] as const;
const CAMPAIGN_STATUSES = ['save', 'paused', 'schedule', 'sending', 'sent'] as const;

const withFields = (request: SandboxRequest, body: unknown): SandboxResponse => ({
  status: 200,
  json: selectFields(body, request.query.get('fields'), request.query.get('exclude_fields')),
});

/** The password of an HTTP Basic header (Mailchimp ignores the user name). */
function basicPassword(header: string | undefined): string | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

export function createMailchimpSandbox(options: MailchimpSandboxOptions): PlatformSandbox {
  const { world, listId } = options;
  const maxConnections = options.maxConnections ?? 10;
  const connections = new ConcurrencyCap(maxConnections);
  const dc = /-(\w+)$/.exec(options.apiKey)?.[1] ?? 'us1';
  const apiRoot = `https://${dc}.api.mailchimp.com/3.0`;
  const audience = new Audience(world);
  const campaignsById = new Map(world.emailCampaigns.map((c) => [c.id, c]));
  const member = (entry: AudienceEntry) =>
    toMemberJson(entry, listId, apiRoot, (name) => audience.tagId(name));
  /** Archived members are readable one by one and listed only when asked for by status. */
  const current = () => audience.members().filter((m) => m.audience.status !== 'archived');

  const routes: Route[] = [
    {
      method: 'GET',
      path: '/3.0/ping',
      handle: () => ({ status: 200, json: { health_status: "Everything's Chimpy!" } }),
    },
    {
      method: 'GET',
      path: '/3.0/lists/{listId}',
      handle(request) {
        if (request.params['listId'] !== listId) return notFound();
        return withFields(request, toListJson(current(), world.emailCampaigns, listId, apiRoot));
      },
    },
    {
      method: 'GET',
      path: '/3.0/lists/{listId}/members',
      handle(request) {
        if (request.params['listId'] !== listId) return notFound();
        const query = new QueryReader(request.query);
        const { count, offset } = query.page();
        const status = query.oneOf('status', MEMBER_STATUSES);
        const since = query.time('since_last_changed');
        if (query.problems.length > 0) return invalid(query.problems);
        const found = (status === 'archived' ? audience.members() : current()).filter(
          (m) =>
            (status === undefined || m.audience.status === status) &&
            (since === undefined || m.audience.lastChangedAt >= since),
        );
        return withFields(request, {
          members: found.slice(offset, offset + count).map(member),
          list_id: listId,
          total_items: found.length,
          _links: [
            { rel: 'self', href: `${apiRoot}/lists/${listId}/members`, method: 'GET' },
            { rel: 'parent', href: `${apiRoot}/lists/${listId}`, method: 'GET' },
          ],
        });
      },
    },
    {
      method: 'GET',
      path: '/3.0/lists/{listId}/members/{subscriberHash}',
      handle(request) {
        if (request.params['listId'] !== listId) return notFound();
        const entry = audience.find(request.params['subscriberHash'] ?? '');
        return entry ? withFields(request, member(entry)) : notFound();
      },
    },
    {
      method: 'GET',
      path: '/3.0/campaigns',
      handle(request) {
        const query = new QueryReader(request.query);
        const { count, offset } = query.page();
        const status = query.oneOf('status', CAMPAIGN_STATUSES);
        const since = query.time('since_send_time');
        const before = query.time('before_send_time');
        if (query.problems.length > 0) return invalid(query.problems);
        const wantedList = request.query.get('list_id');
        // Every campaign of the world was sent to the one audience; none is in any other state.
        const found: EmailCampaign[] =
          (status !== undefined && status !== 'sent') || (wantedList !== null && wantedList !== listId)
            ? []
            : world.emailCampaigns.filter(
                (c) =>
                  (since === undefined || c.sentAt >= since) && (before === undefined || c.sentAt < before),
              );
        return withFields(request, {
          campaigns: found.slice(offset, offset + count).map((c) => toCampaignJson(c, listId)),
          total_items: found.length,
          _links: [{ rel: 'self', href: `${apiRoot}/campaigns`, method: 'GET' }],
        });
      },
    },
    {
      method: 'GET',
      path: '/3.0/reports/{campaignId}',
      handle(request) {
        const campaign = campaignsById.get(request.params['campaignId'] ?? '');
        return campaign ? withFields(request, toReportJson(campaign, listId)) : notFound();
      },
    },
    ...memberWriteRoutes({ audience, listId, member }),
  ];

  return {
    platform: 'mailchimp',
    routes,
    authenticate(request) {
      if (basicPassword(request.headers.authorization) === options.apiKey) return undefined;
      return problem(401, "Your API key may be invalid, or you've attempted to access the wrong datacenter.");
    },
    admit(): Admission {
      if (!connections.enter()) return { reject: this.rateLimitedResponse(0) };
      return { release: () => connections.leave() };
    },
    errorResponse(status, message) {
      return problem(status, message);
    },
    rateLimitedResponse() {
      // Mailchimp's only documented limit is concurrency; it sends no Retry-After or limit headers.
      return problem(429, `You have exceeded the limit of ${maxConnections} simultaneous connections.`);
    },
  };
}
