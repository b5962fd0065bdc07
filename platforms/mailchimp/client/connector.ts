import { createHash } from 'node:crypto';
import { RecordCache } from '../../../lib/cache/record-cache.js';
import { UpstreamError } from '../../../lib/errors.js';
import type { RequestContext } from '../../../lib/request-context.js';
import { connectorGuard } from '../../../lib/upstream/breaker.js';
import { UpstreamClient, type UpstreamThrottle } from '../../../lib/upstream/client.js';
import type { ConnectorSettings } from '../../../lib/upstream/connector-settings.js';
import { parseUpstream } from '../../../lib/upstream/parse.js';
import { MAILCHIMP_DEFAULT_LIMITS, mailchimpThrottle, type MailchimpLimits } from './limits.js';
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
import { campaignReport, campaignsPage, listInfo, listMember, listMembersPage } from './schemas.js';
import { MailchimpAudienceWriter } from './writes.js';
import { leaseAccountThrottle, type ThrottleLease } from '../../../lib/upstream/account-throttles.js';

/**
 * Mailchimp's own settings; the cache (members, the audience size, campaign figures), throttle and
 * breaker are every connector's.
 */
export interface MailchimpSettings extends ConnectorSettings {
  /** `https://<dc>.api.mailchimp.com/3.0`; see `mailchimpBaseUrl`. */
  baseUrl: string;
  /** `<key>-<dc>`; sent as the HTTP Basic password and never logged. */
  apiKey: string;
  /** The audience (list) whose members the connector reads. */
  listId: string;
  /**
   * Mailchimp's limits for this API key.
   * @default MAILCHIMP_DEFAULT_LIMITS (10 simultaneous connections, new calls held 1 s after a 429)
   */
  limits?: Partial<MailchimpLimits>;
}

/** Mailchimp's documented maximum of items per page (`count`). */
export const MAILCHIMP_LIMITS = { page: 1000 } as const;

/** A batch look-up's answer for one address: the member, null when not in the audience, or its error. */
export type MemberOutcome = EmailMember | null | Error;

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

/** `<dc>:<listId>`: what scopes caches and limits, so two audiences never share them. */
export function mailchimpAccountId(apiKey: string, listId: string): string {
  return `${dataCenterOf(apiKey)}:${listId}`;
}

const normaliseEmail = (email: string) => email.trim().toLowerCase();

/** Mailchimp's member id: hex MD5 of the lower-cased address (the address itself also works). */
function subscriberHash(email: string): string {
  return createHash('md5').update(normaliseEmail(email)).digest('hex');
}

/** Mailchimp takes ISO-8601 with an offset and whole seconds in its time filters. */
const mailchimpTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');

const SECOND_MS = 1000;

/**
 * Record-cache ids. Members are keyed by their lower-cased address; every other id has no `@`, so
 * it can never be taken for one.
 */
const AUDIENCE_SIZE_ID = 'audience-size';
const sentCampaignsId = (range: { sinceMs: number; untilMs: number }) =>
  `sent:${new Date(range.sinceMs).toISOString()}..${new Date(range.untilMs).toISOString()}`;
const reportId = (campaignId: string) => `report:${campaignId}`;

/** An upstream failure becomes that key's outcome; anything else is a defect and propagates. */
function asOutcome(error: unknown): Error {
  if (error instanceof UpstreamError) return error;
  throw error;
}

/**
 * The email connector: one Mailchimp audience's members and the account's sent campaigns, and
 * (through `writes`) the audience writes actions and syncs make. Answers in the graph's
 * conventions (EmailMember, EmailCampaignRecord); Mailchimp's names and shapes stay in this folder.
 */
export class MailchimpConnector {
  /** `<dc>:<listId>`; see `mailchimpAccountId`. */
  readonly accountId: string;
  /**
   * Upsert, tag, archive and batch subscribe members of the audience. They share this connector's
   * throttle and breaker with its reads (at background priority), and forget what the read cache
   * held for each address written.
   */
  readonly writes: MailchimpAudienceWriter;
  private readonly http: UpstreamClient;
  private readonly cache: RecordCache;
  private readonly listPath: string;

  /** This account's throttle, shared with the process's other connectors to it (account-throttles.ts). */
  private readonly throttleLease: ThrottleLease<UpstreamThrottle>;

  constructor(settings: MailchimpSettings) {
    this.accountId = mailchimpAccountId(settings.apiKey, settings.listId);
    this.cache = settings.cache ?? RecordCache.off('mailchimp', this.accountId);
    this.listPath = `/lists/${encodeURIComponent(settings.listId)}`;
    const limits = { ...MAILCHIMP_DEFAULT_LIMITS, ...settings.limits };
    this.throttleLease = leaseAccountThrottle(
      settings.throttle,
      { platform: 'mailchimp', baseUrl: settings.baseUrl, account: this.accountId, limits },
      (share) => mailchimpThrottle(limits, share),
    );
    this.http = new UpstreamClient({
      protocol: mailchimpProtocol(settings.apiKey),
      baseUrl: settings.baseUrl,
      timeoutMs: settings.timeoutMs,
      maxRetries: settings.maxRetries,
      // Never more sockets than calls the throttle lets run at once.
      connections: limits.maxConnections,
      throttle: this.throttleLease.throttle,
      // The breaker's own cheap read, once it has been open a while; never a user's request.
      guard: connectorGuard('mailchimp', settings, (logger) =>
        this.http.probe({ method: 'GET', endpoint: 'GET /ping', path: '/ping' }, logger),
      ),
    });
    this.writes = new MailchimpAudienceWriter(
      this.http,
      this.listPath,
      async (emails, grew) => {
        await Promise.all([
          ...emails.map((email) => this.invalidateMember(email)),
          ...(grew ? [this.cache?.invalidate('subscription', AUDIENCE_SIZE_ID)] : []),
        ]);
      },
      subscriberHash,
    );
  }

  /** One audience member by email; null when the address is not in the audience. */
  getMember(ctx: RequestContext, email: string): Promise<EmailMember | null> {
    const key = normaliseEmail(email);
    return this.cache.loadOne('subscription', key, () => this.fetchMember(ctx, key));
  }

  /**
   * Members by email, keyed by the lower-cased address in the order asked: the member, null when
   * not in the audience, or the error that kept it from being read. Addresses not in the cache are
   * read the cheapest way counted in calls (see `planScan`): one GET each, or a scan of the
   * whole audience whose every member then warms the cache.
   */
  async getMembers(ctx: RequestContext, emails: readonly string[]): Promise<Map<string, MemberOutcome>> {
    const unique = [...new Set(emails.map(normaliseEmail))];
    const loaded = await this.cache.load<EmailMember>('subscription', unique, (missing) =>
      this.fetchMembers(ctx, missing),
    );
    return new Map(unique.map((email) => [email, loaded.get(email) ?? null]));
  }

  /** Forgets a cached member (or cached absence), for when Mailchimp says it changed. */
  async invalidateMember(email: string): Promise<void> {
    await this.cache.invalidate('subscription', normaliseEmail(email));
  }

  private async fetchMembers(
    ctx: RequestContext,
    emails: readonly string[],
  ): Promise<Map<string, MemberOutcome>> {
    try {
      const scan = await this.planScan(ctx, emails.length);
      if (scan) return await this.scanAudience(ctx, scan, emails);
    } catch (error) {
      const failure = asOutcome(error);
      return new Map(emails.map((email) => [email, failure]));
    }
    const found = await Promise.all(emails.map((email) => this.fetchMember(ctx, email).catch(asOutcome)));
    return new Map(emails.map((email, i) => [email, found[i] ?? null]));
  }

  /**
   * The audience size and the pages a scan of it takes, when that costs fewer calls than `n`
   * member GETs; undefined when the GETs are cheaper. The size comes from the cache when it is
   * there. Otherwise learning it costs a call, and a scan can then save at most n − 2 calls (a
   * one-page audience), so that call is only risked when even the best case saves more than it
   * costs (n > 3). Once paid for, it is compared on what is left: pages against n GETs.
   */
  private async planScan(
    ctx: RequestContext,
    n: number,
  ): Promise<{ size: number; pages: number } | undefined> {
    const cached = await this.cache.lookupOne<number>('subscription', AUDIENCE_SIZE_ID);
    let size = cached.state === 'found' ? cached.value : undefined;
    if (size === undefined) {
      if (n <= 3) return undefined;
      size = await this.fetchAudienceSize(ctx);
      await this.cache.setMany('subscription', [[AUDIENCE_SIZE_ID, size]]);
    }
    const pages = Math.ceil(size / MAILCHIMP_LIMITS.page);
    return pages < n ? { size, pages } : undefined;
  }

  /**
   * Reads the whole audience, all its pages at once (the throttle keeps them within the connection
   * cap), and answers the `wanted` addresses. Every member seen goes into the cache, so later
   * look-ups of anyone in the audience are hits.
   */
  private async scanAudience(
    ctx: RequestContext,
    { size, pages }: { size: number; pages: number },
    wanted: readonly string[],
  ): Promise<Map<string, MemberOutcome>> {
    const readPages = (from: number, to: number) =>
      Promise.all(
        Array.from({ length: to - from }, (_, i) =>
          this.membersPage(ctx, { count: MAILCHIMP_LIMITS.page, offset: (from + i) * MAILCHIMP_LIMITS.page }),
        ),
      );
    const read = await readPages(0, pages);
    const total = Math.max(0, ...read.map((page) => page.total));
    const needed = Math.ceil(total / MAILCHIMP_LIMITS.page);
    // The audience grew since its size was read: fetch the pages that estimate left out.
    if (needed > pages) read.push(...(await readPages(pages, needed)));
    const seen = new Map(read.flatMap((page) => page.members).map((m) => [m.email, m] as const));
    // The requested addresses are cached by the caller (`RecordCache.load`), found or not.
    const asked = new Set(wanted);
    const entries: [string, EmailMember | number][] = [...seen].filter(([email]) => !asked.has(email));
    if (total !== size) entries.push([AUDIENCE_SIZE_ID, total]);
    await this.cache.setMany('subscription', entries);
    return new Map(wanted.map((email) => [email, seen.get(email) ?? null]));
  }

  private async fetchMember(ctx: RequestContext, email: string): Promise<EmailMember | null> {
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

  /** Every member a full listing returns (all statuses), from the audience's stats. */
  private async fetchAudienceSize(ctx: RequestContext): Promise<number> {
    const body = await this.http.json(
      ctx,
      {
        method: 'GET',
        endpoint: 'GET /lists/{list_id}',
        path: this.listPath,
        query: {
          fields: [
            'id',
            'stats.member_count',
            'stats.unsubscribe_count',
            'stats.cleaned_count',
            'stats.total_contacts',
          ].join(','),
        },
      },
      listInfo,
    );
    const { stats } = body;
    return stats.total_contacts ?? stats.member_count + stats.unsubscribe_count + stats.cleaned_count;
  }

  private async membersPage(
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

  /** A page of the audience in Mailchimp's order; `count` is at most 1000. Its members are cached. */
  async listMembers(
    ctx: RequestContext,
    page: { count: number; offset: number },
  ): Promise<{ members: EmailMember[]; total: number }> {
    const found = await this.membersPage(ctx, page);
    await this.cache.setMany<EmailMember>(
      'subscription',
      found.members.map((m) => [m.email, m]),
    );
    return found;
  }

  /** Every campaign sent from `sinceMs` to `untilMs` (inclusive), following all pages; cached per range. */
  async listSentCampaigns(
    ctx: RequestContext,
    range: { sinceMs: number; untilMs: number },
  ): Promise<EmailCampaignRecord[]> {
    return this.cache.loadOne('campaignReports', sentCampaignsId(range), () =>
      this.fetchSentCampaigns(ctx, range),
    );
  }

  private async fetchSentCampaigns(
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

  /** A sent campaign's report; null when Mailchimp has no such campaign. Cached like listings. */
  getReport(ctx: RequestContext, campaignId: string): Promise<EmailCampaignReport | null> {
    return this.cache.loadOne('campaignReports', reportId(campaignId), () =>
      this.fetchReport(ctx, campaignId),
    );
  }

  private async fetchReport(ctx: RequestContext, campaignId: string): Promise<EmailCampaignReport | null> {
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
    this.throttleLease.release();
    return this.http.close();
  }
}
