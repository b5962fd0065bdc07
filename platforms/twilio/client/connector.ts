import { UpstreamError } from '../../../lib/errors.js';
import { quietLogger, type Logger } from '../../../lib/logger.js';
import type { RequestContext } from '../../../lib/request-context.js';
import { CircuitBreaker, type BreakerSettings } from '../../../lib/upstream/breaker.js';
import {
  UpstreamClient,
  type UpstreamCall,
  type UpstreamGuard,
  type UpstreamThrottle,
} from '../../../lib/upstream/client.js';
import { parseUpstream } from '../../../lib/upstream/parse.js';
import { TWILIO_DEFAULT_LIMITS, twilioThrottle, type TwilioLimits } from './limits.js';
import { twilioProtocol, type TwilioCredentials } from './protocol.js';
import { consentFrom, toSmsMessage, type SmsConsentRecord, type SmsMessageRecord } from './records.js';
import { twilioMessage, twilioMessagePage } from './schemas.js';
import { leaseAccountThrottle, type ThrottleLease } from '../../../lib/upstream/account-throttles.js';
import { CONSENT_SCAN_LIMIT } from '../keywords.js';

export interface TwilioSettings {
  /** `https://api.twilio.com/2010-04-01`: the API version is part of the base URL. */
  baseUrl: string;
  /** Sent as HTTP Basic and never logged. */
  credentials: TwilioCredentials;
  /** The sender (E.164 number or short code) customers receive texts from and reply to. */
  from: string;
  timeoutMs: number;
  /** Retries of reads; a send is retried only after a 429 (see `sendMessage`). */
  maxRetries: number;
  /** @default TWILIO_DEFAULT_LIMITS (10 requests in flight, new calls held 1 s after a 429) */
  limits?: Partial<TwilioLimits>;
  /** Replaces the throttle built from `limits` (tests inject their own). */
  throttle?: UpstreamThrottle;
  /** Replaces the default circuit breaker (5 consecutive failures, open 10 s). */
  guard?: UpstreamGuard;
  /** Tunes the default circuit breaker. @default 5 consecutive failures, open 10 s */
  breaker?: BreakerSettings;
  logger?: Logger;
}

export interface SendMessageInput {
  /** E.164. */
  to: string;
  body: string;
  /** Where Twilio posts the message's status changes (signed with `X-Twilio-Signature`). */
  statusCallback?: string;
  /**
   * Send through a Messaging Service (`MG…`) instead of the configured sender: Twilio picks the
   * number, and a full queue fails the message after creation (30001) instead of refusing it.
   */
  messagingServiceSid?: string;
}

export interface ListFilter {
  /** Messages sent to this number (E.164). */
  to?: string;
  /** Messages sent from this number (E.164). */
  from?: string;
}

/** Twilio's largest page (`PageSize`). */
export const TWILIO_MAX_PAGE_SIZE = 1000;
// In keywords.ts, beside the rules it scans for: the descriptor's docs name it without loading this client.
export { CONSENT_SCAN_LIMIT };
const CONSENT_PAGE_SIZE = 100;

const ENDPOINTS = {
  account: 'GET /Accounts/{AccountSid}.json',
  send: 'POST /Accounts/{AccountSid}/Messages.json',
  fetch: 'GET /Accounts/{AccountSid}/Messages/{Sid}.json',
  list: 'GET /Accounts/{AccountSid}/Messages.json',
} as const;

/** When a message happened, for newest-first ordering across two listings. */
const newestFirst = (a: SmsMessageRecord, b: SmsMessageRecord) =>
  Date.parse(b.sentAt ?? b.createdAt) - Date.parse(a.sentAt ?? a.createdAt) || a.id.localeCompare(b.id);

/**
 * The messaging connector: one Twilio account's text messages with the customers of one sender.
 * Answers in the graph's conventions (SmsMessageRecord, SmsConsentRecord); Twilio's names and
 * shapes stay in this folder.
 */
export class TwilioConnector {
  readonly accountSid: string;
  private readonly http: UpstreamClient;
  private readonly from: string;
  private readonly accountPath: string;
  /** Where a `next_page_uri` must point: this account's message list, below the API version. */
  private readonly listUriPrefix: string;

  /** This account's throttle, shared with the process's other connectors to it (account-throttles.ts). */
  private readonly throttleLease: ThrottleLease<UpstreamThrottle>;

  constructor(settings: TwilioSettings) {
    this.accountSid = settings.credentials.accountSid;
    this.from = settings.from;
    this.accountPath = `/Accounts/${encodeURIComponent(this.accountSid)}`;
    const basePath = new URL(settings.baseUrl).pathname.replace(/\/+$/, '');
    this.listUriPrefix = `${basePath}${this.accountPath}/Messages.json?`;
    const limits = { ...TWILIO_DEFAULT_LIMITS, ...settings.limits };
    this.throttleLease = leaseAccountThrottle(
      settings.throttle,
      { platform: 'twilio', baseUrl: settings.baseUrl, account: this.accountPath, limits },
      (share) => twilioThrottle(limits, share),
    );
    this.http = new UpstreamClient({
      protocol: twilioProtocol(settings.credentials),
      baseUrl: settings.baseUrl,
      timeoutMs: settings.timeoutMs,
      maxRetries: settings.maxRetries,
      connections: limits.maxConcurrent,
      throttle: this.throttleLease.throttle,
      guard:
        settings.guard ??
        new CircuitBreaker({
          platform: 'twilio',
          ...settings.breaker,
          ...(settings.logger ? { logger: settings.logger } : {}),
          // The breaker's own cheap read, once it has been open a while; never a user's request.
          probe: () =>
            this.http.probe(
              { method: 'GET', endpoint: ENDPOINTS.account, path: `${this.accountPath}.json` },
              settings.logger ?? quietLogger,
            ),
        }),
    });
  }

  /**
   * Sends one text from the configured sender (or a Messaging Service). Twilio has no idempotency
   * key: a POST that timed out, or failed with a 5xx or a dropped connection, may have been
   * accepted, and sending it again could text the customer twice. So it is never retried then;
   * the error says so and the caller looks the message up (or lets the status callback tell).
   * Only a 429 (20429) is retried, which Twilio documents as refused before any processing.
   */
  async sendMessage(ctx: RequestContext, input: SendMessageInput): Promise<SmsMessageRecord> {
    const body = await this.http.json(
      ctx,
      {
        method: 'POST',
        endpoint: ENDPOINTS.send,
        path: `${this.accountPath}/Messages.json`,
        form: {
          To: input.to,
          Body: input.body,
          ...(input.messagingServiceSid
            ? { MessagingServiceSid: input.messagingServiceSid }
            : { From: this.from }),
          ...(input.statusCallback ? { StatusCallback: input.statusCallback } : {}),
        },
        idempotent: false,
        retryAfter429: true,
      },
      twilioMessage,
    );
    return toSmsMessage(body);
  }

  /** One message by SID; null when the account has no such message. */
  async getMessage(ctx: RequestContext, sid: string): Promise<SmsMessageRecord | null> {
    const response = await this.http.send(ctx, {
      method: 'GET',
      endpoint: ENDPOINTS.fetch,
      path: `${this.accountPath}/Messages/${encodeURIComponent(sid)}.json`,
      accept: [404],
    });
    if (response.status === 404) return null;
    return toSmsMessage(parseUpstream('twilio', ENDPOINTS.fetch, twilioMessage, response.body));
  }

  /**
   * Messages matching `filter`, newest first, at most `limit`, following Twilio's `next_page_uri`
   * from page to page. `stop` ends the listing early once a page holds what the caller wanted.
   */
  async listMessages(
    ctx: RequestContext,
    filter: ListFilter,
    options: { limit: number; pageSize?: number; stop?: (page: SmsMessageRecord[]) => boolean },
  ): Promise<SmsMessageRecord[]> {
    const out: SmsMessageRecord[] = [];
    const pageSize = Math.min(options.pageSize ?? options.limit, TWILIO_MAX_PAGE_SIZE);
    let next: string | null = null;
    do {
      const call: UpstreamCall =
        next === null
          ? {
              method: 'GET',
              endpoint: ENDPOINTS.list,
              path: `${this.accountPath}/Messages.json`,
              query: { To: filter.to, From: filter.from, PageSize: pageSize },
            }
          : { method: 'GET', endpoint: ENDPOINTS.list, path: next, fromOrigin: true };
      const body = await this.http.json(ctx, call, twilioMessagePage);
      const page = body.messages.map(toSmsMessage);
      out.push(...page);
      next = body.next_page_uri;
      if (next !== null && !next.startsWith(this.listUriPrefix)) {
        // A link elsewhere would send our credentials to a path we never chose to call.
        throw new UpstreamError('twilio: next_page_uri points outside the message list it pages', {
          platform: 'twilio',
          code: 'UPSTREAM_BAD_RESPONSE',
          endpoint: ENDPOINTS.list,
        });
      }
      if (options.stop?.(page)) break;
    } while (next !== null && out.length < options.limit);
    return out.slice(0, options.limit);
  }

  /**
   * The latest messages between the sender and `phone` (E.164), both ways, newest first: two
   * listings (to the number, from the number), merged.
   */
  async recentMessages(ctx: RequestContext, phone: string, limit: number): Promise<SmsMessageRecord[]> {
    const [sent, received] = await Promise.all([
      this.listMessages(ctx, { to: phone, from: this.from }, { limit }),
      this.listMessages(ctx, { to: this.from, from: phone }, { limit }),
    ]);
    return [...sent, ...received].sort(newestFirst).slice(0, limit);
  }

  /**
   * `phone`'s SMS consent with the sender, from the keywords it texted (see SmsConsentRecord):
   * inbound messages are read newest first until one is a keyword, at most CONSENT_SCAN_LIMIT.
   * Older history than that (or than Twilio keeps) counts as never having opted out.
   */
  async consent(ctx: RequestContext, phone: string): Promise<SmsConsentRecord> {
    const inbound = await this.listMessages(
      ctx,
      { to: this.from, from: phone },
      {
        limit: CONSENT_SCAN_LIMIT,
        pageSize: CONSENT_PAGE_SIZE,
        stop: (page) => consentFrom(phone, page).keyword !== null,
      },
    );
    return consentFrom(phone, inbound);
  }

  close(): Promise<void> {
    this.throttleLease.release();
    return this.http.close();
  }
}
