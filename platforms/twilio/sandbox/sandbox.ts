import type { Logger } from '../../../lib/logger.js';
import { ConcurrencyCap } from '../../../sandboxes/kit/limits.js';
import type { Admission, PlatformSandbox, Route, SandboxRequest } from '../../../sandboxes/kit/types.js';
import { derived } from '../../../sandboxes/world/derived.js';
import type { World } from '../../../sandboxes/world/world.js';
import { CallbackLog, postCallback, type SentCallback } from './callbacks.js';
import {
  httpError,
  invalidMessage,
  notFound,
  tooManyRequests,
  twilioError,
  unauthenticated,
} from './errors.js';
import { e164, historyFor, keywordEffect, OPT_IN_REPLY, OPT_OUT_REPLY, worldPhones } from './history.js';
import { inboundRoute } from './inbound.js';
import { SenderQueues } from './queue.js';
import {
  API_VERSION,
  rfc2822,
  segmentsOf,
  sidFor,
  statusAt,
  toMessageJson,
  type SandboxMessage,
} from './resources.js';

/**
 * Twilio Programmable Messaging (REST API 2010-04-01) as the `messaging` connector uses it: create
 * a message (form-encoded, `From` or `MessagingServiceSid`, optional `StatusCallback`), fetch one,
 * list them by `To`/`From` with `PageSize` and `next_page_uri` paging, and the account (the
 * breaker's probe); HTTP Basic with the account SID and auth token or an API key; Twilio's error
 * body and codes; its limits (concurrent requests: 429 20429; each sender's queue: 21611 or a
 * 30001 failure); signed status callbacks as a message moves queued → sent → delivered (or
 * undelivered/failed); opt-out keywords (STOP... START) honoured (21610) and answered as Twilio does.
 */

export interface TwilioSandboxOptions {
  world: World;
  accountSid: string;
  /** Accepted as the Basic password with the account SID, and what callbacks are signed with. */
  authToken: string;
  /** An API key accepted instead of the auth token. */
  apiKey?: { sid: string; secret: string };
  /** The account's one number: what history is seeded with and `From` may be. */
  from: string;
  /** The account's Messaging Service (`MG…`), which sends from `from`. */
  messagingServiceSid?: string;
  /** Requests in flight at once before a 429 (20429). @default 10 */
  maxConcurrent?: number;
  /** Segments each sender sends per second. @default 1 (a US long code) */
  mps?: number;
  /** Messages each sender may hold queued. @default 36000 (10 hours at 1 per second, Twilio's cap) */
  queueLimit?: number;
  /** How long after sending a carrier reports the outcome. @default 250 */
  deliveryDelayMs?: number;
  /** Where inbound messages are posted; also set by `setWebhookTarget`. */
  inboundUrl?: string;
  logger?: Logger;
}

/** A request the sandbox received on Twilio's API, for tests: never the password. */
export interface ReceivedRequest {
  method: string;
  endpoint: string;
  path: string;
  query: Record<string, string>;
  contentType: string | null;
  /** The Basic user name: the account SID or an API key SID. */
  user: string | null;
  form: Record<string, string>;
}

export interface TwilioSandbox extends PlatformSandbox {
  /** The last requests on the API, oldest first (at most 1,000). */
  readonly requests: readonly ReceivedRequest[];
  /** The callbacks sent (status and inbound), oldest first. */
  readonly callbacks: readonly SentCallback[];
  /** Every status callback still to be sent has been (tests wait on it). */
  settled(): Promise<void>;
}

const MAX_BODY_CHARS = 1600;
const MAX_RECORDED = 1000;
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

/** The user name and password of an HTTP Basic header. */
function basicCredentials(header: string | undefined): [string, string] | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

function formOf(request: SandboxRequest): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(request.rawBody.toString('utf8')));
}

const isHttpUrl = (value: string) => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
};

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    // Unreferenced: a callback still to come never keeps a process (or a test run) alive.
    setTimeout(resolve, Math.max(0, ms)).unref();
  });

export function createTwilioSandbox(options: TwilioSandboxOptions): TwilioSandbox {
  const { world, accountSid, from } = options;
  const accountPath = `/${API_VERSION}/Accounts/${accountSid}`;
  const connections = new ConcurrencyCap(options.maxConcurrent ?? 10);
  const queues = new SenderQueues(options.mps ?? 1, options.queueLimit ?? 36_000);
  const deliveryDelayMs = options.deliveryDelayMs ?? 250;
  const callbackLog = new CallbackLog();
  const requests: ReceivedRequest[] = [];
  const pending = new Set<Promise<void>>();
  /** Messages created on the API or received since start, oldest first. */
  const live: SandboxMessage[] = [];
  let inboundUrl = options.inboundUrl;
  let created = 0;

  const seeded = derived(world, () => {
    const phones = worldPhones(world);
    return { phones: new Set(phones), messages: phones.flatMap((phone) => historyFor(world, phone, from)) };
  });
  const allMessages = () => [...seeded().messages, ...live];

  /** Whether `phone` is opted out of texts from `sender`: its latest keyword to it was an opt-out. */
  function optedOut(phone: string, sender: string): boolean {
    const now = Date.now();
    const keywords = allMessages()
      .filter((m) => m.direction === 'inbound' && m.from === phone && m.to === sender && m.createdAt <= now)
      .map((m) => ({ at: m.createdAt, effect: keywordEffect(m.body) }))
      .filter((k) => k.effect !== null)
      .sort((a, b) => b.at - a.at);
    return keywords[0]?.effect === 'out';
  }

  function record(request: SandboxRequest): void {
    const credentials = basicCredentials(request.headers.authorization);
    requests.push({
      method: request.method,
      endpoint: request.endpoint,
      path: request.path,
      query: Object.fromEntries(request.query),
      contentType: request.headers['content-type'] ?? null,
      user: credentials?.[0] ?? null,
      form: request.method === 'POST' ? formOf(request) : {},
    });
    if (requests.length > MAX_RECORDED) requests.splice(0, requests.length - MAX_RECORDED);
  }

  /** Sends `message`'s status callbacks in order, each when its status is reached. */
  function scheduleCallbacks(message: SandboxMessage, url: string): void {
    const base = {
      AccountSid: accountSid,
      ApiVersion: API_VERSION,
      From: message.from,
      To: message.to,
      MessageSid: message.sid,
      SmsSid: message.sid,
      ...(message.messagingServiceSid ? { MessagingServiceSid: message.messagingServiceSid } : {}),
    };
    const steps: { at: number; status: string }[] = [{ at: message.createdAt, status: 'queued' }];
    if (message.sentAt !== null) steps.push({ at: message.sentAt, status: 'sent' });
    steps.push({ at: message.doneAt, status: message.final });
    const run = (async () => {
      for (const step of steps) {
        await sleep(step.at - Date.now());
        const failed = step.status === 'failed' || step.status === 'undelivered';
        await postCallback(
          'status',
          url,
          {
            ...base,
            MessageStatus: step.status,
            SmsStatus: step.status,
            ...(failed && message.errorCode !== null ? { ErrorCode: String(message.errorCode) } : {}),
          },
          options.authToken,
          callbackLog,
          options.logger,
        );
      }
    })();
    pending.add(run);
    void run.finally(() => pending.delete(run));
  }

  function createMessage(request: SandboxRequest) {
    const form = formOf(request);
    const to = form['To'];
    const body = form['Body'];
    const service = form['MessagingServiceSid'];
    const sender = form['From'];
    const callback = form['StatusCallback'];
    if (!to) return invalidMessage(21604, "A 'To' phone number is required.");
    const recipient = e164(to);
    if (recipient === null)
      return invalidMessage(21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!body) return invalidMessage(21602, 'Message body is required.');
    if (body.length > MAX_BODY_CHARS)
      return invalidMessage(21617, 'The concatenated message body exceeds the 1600 character limit.');
    if (!sender && !service) return invalidMessage(21603, "A 'From' phone number is required.");
    if (service !== undefined && service !== options.messagingServiceSid)
      return twilioError(404, 20404, `The requested resource /Services/${service} was not found`);
    if (sender !== undefined && sender !== from)
      return invalidMessage(
        21606,
        `The From phone number ${sender} is not a valid, SMS-capable inbound phone number or short code for your account.`,
      );
    if (callback !== undefined && !isHttpUrl(callback))
      return invalidMessage(21609, "Invalid 'StatusCallback'. The URL is not valid.");
    if (optedOut(recipient, from)) return invalidMessage(21610, 'Attempt to send to unsubscribed recipient');

    const now = Date.now();
    const segments = segmentsOf(body);
    const sentAt = queues.enqueue(service ?? from, segments);
    if (sentAt === null && !service)
      return invalidMessage(21611, "This 'From' number has exceeded the maximum number of queued messages");
    const known = seeded().phones.has(recipient);
    const message: SandboxMessage = {
      sid: sidFor('SM', `${accountSid}:live:${created++}:${now}`),
      direction: 'outbound-api',
      from,
      to: recipient,
      body,
      segments,
      messagingServiceSid: service ?? null,
      createdAt: now,
      sentAt,
      // A full Messaging Service queue fails the message at once (30001); an unknown number is
      // not a handset the carrier can reach (30006).
      doneAt: sentAt === null ? now : sentAt + deliveryDelayMs,
      final: sentAt === null ? 'failed' : known ? 'delivered' : 'undelivered',
      errorCode: sentAt === null ? 30001 : known ? null : 30006,
    };
    live.push(message);
    if (callback !== undefined) scheduleCallbacks(message, callback);
    return { status: 201, json: toMessageJson(message, accountSid, now) };
  }

  function listMessages(request: SandboxRequest) {
    const to = request.query.get('To');
    const sender = request.query.get('From');
    const sizeText = request.query.get('PageSize') ?? String(DEFAULT_PAGE_SIZE);
    const pageSize = Number(sizeText);
    if (!/^\d+$/.test(sizeText) || pageSize < 1 || pageSize > MAX_PAGE_SIZE)
      return httpError(400, `PageSize must be an integer from 1 to ${MAX_PAGE_SIZE}`);
    const page = Number(request.query.get('Page') ?? '0');
    const token = request.query.get('PageToken');
    const now = Date.now();
    const found = allMessages()
      .filter((m) => (to === null || m.to === to) && (sender === null || m.from === sender))
      .sort((a, b) => b.createdAt - a.createdAt || b.sid.localeCompare(a.sid));
    // The token names the last message of the page before (`PASM…`), as Twilio's does.
    const afterSid = token?.startsWith('PA') ? token.slice(2) : undefined;
    const startIndex = afterSid ? found.findIndex((m) => m.sid === afterSid) + 1 : 0;
    if (afterSid && startIndex === 0) return httpError(400, 'PageToken is not valid for this list');
    const slice = found.slice(startIndex, startIndex + pageSize);
    const filters = new URLSearchParams();
    if (to !== null) filters.set('To', to);
    if (sender !== null) filters.set('From', sender);
    filters.set('PageSize', String(pageSize));
    const listUri = `${accountPath}/Messages.json`;
    const uri = (pageNumber: number, lastSid?: string) => {
      const query = new URLSearchParams(filters);
      query.set('Page', String(pageNumber));
      if (lastSid) query.set('PageToken', `PA${lastSid}`);
      return `${listUri}?${query.toString()}`;
    };
    const last = slice.at(-1);
    const more = startIndex + pageSize < found.length && last !== undefined;
    return {
      status: 200,
      json: {
        messages: slice.map((m) => toMessageJson(m, accountSid, now)),
        page,
        page_size: pageSize,
        start: startIndex,
        end: startIndex + Math.max(0, slice.length - 1),
        uri: uri(page, afterSid),
        first_page_uri: uri(0),
        next_page_uri: more ? uri(page + 1, last.sid) : null,
        previous_page_uri: null,
      },
    };
  }

  /** The account's path segment must be the account the credentials belong to. */
  const forAccount = (request: SandboxRequest) => request.params['AccountSid'] === accountSid;

  const routes: Route[] = [
    {
      method: 'GET',
      path: `/${API_VERSION}/Accounts/{AccountSid}.json`,
      handle(request) {
        record(request);
        if (!forAccount(request)) return notFound(request.path);
        return {
          status: 200,
          json: {
            sid: accountSid,
            friendly_name: 'Demo Outdoor Co',
            status: 'active',
            type: 'Full',
            date_created: rfc2822(Date.parse(`${world.options.anchorDate}T00:00:00Z`) - 400 * 86_400_000),
            uri: `${accountPath}.json`,
          },
        };
      },
    },
    {
      method: 'POST',
      path: `/${API_VERSION}/Accounts/{AccountSid}/Messages.json`,
      handle(request) {
        record(request);
        return forAccount(request) ? createMessage(request) : notFound(request.path);
      },
    },
    {
      method: 'GET',
      path: `/${API_VERSION}/Accounts/{AccountSid}/Messages.json`,
      handle(request) {
        record(request);
        return forAccount(request) ? listMessages(request) : notFound(request.path);
      },
    },
    {
      method: 'GET',
      path: `/${API_VERSION}/Accounts/{AccountSid}/Messages/{Sid}.json`,
      handle(request) {
        record(request);
        const message = forAccount(request)
          ? allMessages().find((m) => m.sid === request.params['Sid'])
          : undefined;
        return message
          ? { status: 200, json: toMessageJson(message, accountSid, Date.now()) }
          : notFound(request.path);
      },
    },
  ];

  /** A customer texts the sender: Twilio stores it, answers a keyword itself, and tells the app. */
  function receive(phone: string, body: string): { message: SandboxMessage; reply: SandboxMessage | null } {
    const now = Date.now();
    const message: SandboxMessage = {
      sid: sidFor('SM', `${accountSid}:inbound:${created++}:${now}`),
      direction: 'inbound',
      from: phone,
      to: from,
      body,
      segments: segmentsOf(body),
      messagingServiceSid: null,
      createdAt: now,
      sentAt: now,
      doneAt: now,
      final: 'received',
      errorCode: null,
    };
    live.push(message);
    const effect = keywordEffect(body);
    if (effect === null) return { message, reply: null };
    const text = effect === 'out' ? OPT_OUT_REPLY : OPT_IN_REPLY;
    const reply: SandboxMessage = {
      ...message,
      sid: sidFor('SM', `${accountSid}:reply:${created++}:${now}`),
      direction: 'outbound-reply',
      from,
      to: phone,
      body: text,
      segments: segmentsOf(text),
      createdAt: now + 1,
      sentAt: now + 1,
      doneAt: now + 1 + deliveryDelayMs,
      final: 'delivered',
    };
    live.push(reply);
    return { message, reply };
  }

  return {
    platform: 'twilio',
    routes,
    adminRoutes: [
      inboundRoute({
        world,
        receive,
        target: () => inboundUrl,
        params: (message) => ({
          AccountSid: accountSid,
          ApiVersion: API_VERSION,
          MessageSid: message.sid,
          SmsMessageSid: message.sid,
          SmsSid: message.sid,
          SmsStatus: statusAt(message, Date.now()),
          From: message.from,
          To: message.to,
          Body: message.body,
          NumMedia: '0',
          NumSegments: String(message.segments),
        }),
        post: (url, params) =>
          postCallback('incoming', url, params, options.authToken, callbackLog, options.logger),
      }),
      { method: 'GET', path: '/__sandbox/requests', handle: () => ({ status: 200, json: { requests } }) },
      {
        method: 'GET',
        path: '/__sandbox/callbacks',
        handle: () => ({ status: 200, json: { callbacks: callbackLog.sent } }),
      },
    ],
    requests,
    callbacks: callbackLog.sent,
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    setWebhookTarget(gatewayOrigin) {
      inboundUrl = `${gatewayOrigin.replace(/\/+$/, '')}/webhooks/twilio`;
    },
    authenticate(request) {
      const credentials = basicCredentials(request.headers.authorization);
      if (!credentials) return unauthenticated();
      const [user, password] = credentials;
      if (user === accountSid && password === options.authToken) return undefined;
      if (options.apiKey && user === options.apiKey.sid && password === options.apiKey.secret)
        return undefined;
      return unauthenticated();
    },
    admit(): Admission {
      if (!connections.enter()) return { reject: tooManyRequests() };
      return { release: () => connections.leave() };
    },
    errorResponse(status, message) {
      return httpError(status, message);
    },
    rateLimitedResponse() {
      // Twilio's only request limit is concurrency: 429 with code 20429 and no Retry-After.
      return tooManyRequests();
    },
  };
}
