import { createHash } from 'node:crypto';
import type { RequestContext } from '../../lib/request-context.js';
import { UpstreamClient, type UpstreamGuard, type UpstreamThrottle } from '../../lib/upstream/client.js';
import { parseUpstream } from '../../lib/upstream/parse.js';
import { mapWithConcurrency } from './concurrency.js';
import { mailchimpProtocol } from './protocol.js';
import {
  CAMPAIGN_FIELDS,
  MEMBER_FIELDS,
  toEmailCampaign,
  toEmailCampaignReport,
  toEmailMember,
  type EmailCampaignRecord,
  type EmailCampaignReport,
  type EmailMember,
} from './records.js';
import { campaignReport, campaignsPage, listMember, listMembersPage } from './schemas.js';

export interface MailchimpSettings {
  /** `https://<dc>.api.mailchimp.com/3.0`; see `mailchimpBaseUrl`. */
  baseUrl: string;
  /** `<key>-<dc>`; sent as the HTTP Basic password and never logged. */
  apiKey: string;
  /** The audience (list) whose members the connector reads. */
  listId: string;
  timeoutMs: number;
  maxRetries: number;
  throttle?: UpstreamThrottle;
  guard?: UpstreamGuard;
}

/** Mailchimp's documented maximums: simultaneous connections per user, and items per page. */
export const MAILCHIMP_LIMITS = { connections: 10, page: 1000 } as const;

/** The data centre an API key belongs to: the suffix after its last dash (`…-us21` → `us21`). */
function dataCenterOf(apiKey: string): string {
  const dc = /-([a-z]+\d+)$/i.exec(apiKey.trim())?.[1];
  if (!dc) {
    throw new RangeError(
      'The Mailchimp API key has no data centre suffix (such as -us21); copy the whole key from Mailchimp.',
    );
  }
  return dc.toLowerCase();
}

/** The API base URL a key belongs to: `https://<dc>.api.mailchimp.com/3.0`. */
export function mailchimpBaseUrl(apiKey: string): string {
  return `https://${dataCenterOf(apiKey)}.api.mailchimp.com/3.0`;
}

/** Mailchimp's member id: hex MD5 of the lower-cased address (the address itself also works). */
function subscriberHash(email: string): string {
  return createHash('md5').update(email.trim().toLowerCase()).digest('hex');
}

/** Mailchimp takes ISO-8601 with an offset and whole seconds in its time filters. */
const mailchimpTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');

const SECOND_MS = 1000;

/**
 * The email connector: one Mailchimp audience's members and the account's sent campaigns,
 * read-only. Answers in the graph's conventions (EmailMember, EmailCampaignRecord); Mailchimp's
 * names and shapes stay in this folder.
 */
export class MailchimpConnector {
  /** `<dc>:<listId>`; it scopes caches and limits so two audiences never share them. */
  readonly accountId: string;
  private readonly http: UpstreamClient;
  private readonly listPath: string;

  constructor(settings: MailchimpSettings) {
    this.accountId = `${dataCenterOf(settings.apiKey)}:${settings.listId}`;
    this.listPath = `/lists/${encodeURIComponent(settings.listId)}`;
    this.http = new UpstreamClient({
      protocol: mailchimpProtocol(settings.apiKey),
      baseUrl: settings.baseUrl,
      timeoutMs: settings.timeoutMs,
      maxRetries: settings.maxRetries,
      // Never more sockets than Mailchimp accepts simultaneous connections, whatever calls overlap.
      connections: MAILCHIMP_LIMITS.connections,
      ...(settings.throttle ? { throttle: settings.throttle } : {}),
      ...(settings.guard ? { guard: settings.guard } : {}),
    });
  }

  /** One audience member by email; null when the address is not in the audience. */
  async getMember(ctx: RequestContext, email: string): Promise<EmailMember | null> {
    const endpoint = 'GET /lists/{list_id}/members/{subscriber_hash}';
    const response = await this.http.send(ctx, {
      method: 'GET',
      endpoint,
      path: `${this.listPath}/members/${subscriberHash(email)}`,
      query: { fields: MEMBER_FIELDS.join(',') },
      accept: [404],
    });
    if (response.status === 404) return null;
    return toEmailMember(parseUpstream('mailchimp', endpoint, listMember, response.body));
  }

  /**
   * Members by email, keyed by the lower-cased address (null when not in the audience). One GET per
   * address, at most 10 at a time so this call alone never meets Mailchimp's connection limit.
   */
  async getMembers(ctx: RequestContext, emails: readonly string[]): Promise<Map<string, EmailMember | null>> {
    const unique = [...new Set(emails.map((e) => e.trim().toLowerCase()))];
    const found = await mapWithConcurrency(unique, MAILCHIMP_LIMITS.connections, (email) =>
      this.getMember(ctx, email),
    );
    return new Map(unique.map((email, i) => [email, found[i] ?? null]));
  }

  /** A page of the audience in Mailchimp's order; `count` is at most 1000. */
  async listMembers(
    ctx: RequestContext,
    page: { count: number; offset: number },
  ): Promise<{ members: EmailMember[]; total: number }> {
    const body = await this.http.json(
      ctx,
      {
        method: 'GET',
        endpoint: 'GET /lists/{list_id}/members',
        path: `${this.listPath}/members`,
        query: {
          count: Math.min(page.count, MAILCHIMP_LIMITS.page),
          offset: page.offset,
          fields: [...MEMBER_FIELDS.map((f) => `members.${f}`), 'total_items'].join(','),
        },
      },
      listMembersPage,
    );
    return { members: body.members.map(toEmailMember), total: body.total_items };
  }

  /** Every campaign sent from `sinceMs` to `untilMs` (inclusive), following all pages. */
  async listSentCampaigns(
    ctx: RequestContext,
    range: { sinceMs: number; untilMs: number },
  ): Promise<EmailCampaignRecord[]> {
    const out: EmailCampaignRecord[] = [];
    // Mailchimp filters by whole seconds and `before_send_time` excludes its own second.
    const since = Math.floor(range.sinceMs / SECOND_MS) * SECOND_MS;
    const before = Math.floor(range.untilMs / SECOND_MS) * SECOND_MS + SECOND_MS;
    for (let offset = 0; ;) {
      const body = await this.http.json(
        ctx,
        {
          method: 'GET',
          endpoint: 'GET /campaigns',
          path: '/campaigns',
          query: {
            status: 'sent',
            since_send_time: mailchimpTime(since),
            before_send_time: mailchimpTime(before),
            count: MAILCHIMP_LIMITS.page,
            offset,
            fields: [...CAMPAIGN_FIELDS.map((f) => `campaigns.${f}`), 'total_items'].join(','),
          },
        },
        campaignsPage,
      );
      for (const campaign of body.campaigns) {
        const record = toEmailCampaign(campaign);
        const sentMs = Date.parse(record.sentAt);
        if (sentMs >= range.sinceMs && sentMs <= range.untilMs) out.push(record);
      }
      offset += body.campaigns.length;
      if (body.campaigns.length === 0 || offset >= body.total_items) return out;
    }
  }

  /** A sent campaign's report; null when Mailchimp has no such campaign. */
  async getReport(ctx: RequestContext, campaignId: string): Promise<EmailCampaignReport | null> {
    const endpoint = 'GET /reports/{campaign_id}';
    const response = await this.http.send(ctx, {
      method: 'GET',
      endpoint,
      path: `/reports/${encodeURIComponent(campaignId)}`,
      accept: [404],
    });
    if (response.status === 404) return null;
    return toEmailCampaignReport(parseUpstream('mailchimp', endpoint, campaignReport, response.body));
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
