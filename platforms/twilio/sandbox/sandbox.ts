import type { Logger } from '../../../lib/logger.js';
import { ConcurrencyCap } from '../../../sandboxes/kit/limits.js';
import type { Admission, PlatformSandbox, Route, SandboxRequest } from '../../../sandboxes/kit/types.js';
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
import { e164 } from './history.js';
import { SenderQueues } from './queue.js';
import { API_VERSION, rfc2822, segmentsOf, toMessageJson, type SandboxMessage } from './resources.js';
import { addMessage, isCustomerPhone, lastKeyword, messagesOf, newSid } from './state.js';

/**
 * Twilio Programmable Messaging (REST API 2010-04-01) as the `messaging` connector uses it: create
 * a message (form-encoded, `From` or `MessagingServiceSid`, optional `StatusCallback`), fetch one,
 * list them by `To`/`From` with `PageSize` and `next_page_uri` paging, and the account (the
 * breaker's probe); HTTP Basic with the account SID and auth token or an API key; Twilio's error
 * body and codes; its limits (concurrent requests: 429 20429; each sender's queue: 21611 or a
 * 30001 failure); signed status callbacks as a message moves queued → sent → delivered (or
 * undelivered/failed); opt-out keywords (STOP... START) honoured (21610). The texts customers send
 * come from the demo traffic (traffic.ts), into the messages this sandbox serves (state.ts).
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
  logger?: Logger;
}

export interface TwilioSandbox extends PlatformSandbox {
  /** The status callbacks sent, oldest first. */
  readonly callbacks: readonly SentCallback[];
  /** Every status callback still to be sent has been (tests wait on it). */
  settled(): Promise<void>;
}

const MAX_BODY_CHARS = 1600;
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
  const pending = new Set<Promise<void>>();

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
    // Twilio reads form fields only: a JSON body has no `To`, and is refused as such.
    const formEncoded = (request.headers['content-type'] ?? '').startsWith(
      'application/x-www-form-urlencoded',
    );
    const form = formEncoded ? formOf(request) : {};
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
    if (lastKeyword(world, from, recipient, Date.now()) === 'out')
      return invalidMessage(21610, 'Attempt to send to unsubscribed recipient');

    const now = Date.now();
    const segments = segmentsOf(body);
    const sentAt = queues.enqueue(service ?? from, segments);
    if (sentAt === null && !service)
      return invalidMessage(21611, "This 'From' number has exceeded the maximum number of queued messages");
    const known = isCustomerPhone(world, from, recipient);
    const message: SandboxMessage = {
      sid: newSid(world, accountSid, now),
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
    addMessage(world, message);
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
    const found = messagesOf(world, from)
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
      write: true,
      handle(request) {
        return forAccount(request) ? createMessage(request) : notFound(request.path);
      },
    },
    {
      method: 'GET',
      path: `/${API_VERSION}/Accounts/{AccountSid}/Messages.json`,
      handle(request) {
        return forAccount(request) ? listMessages(request) : notFound(request.path);
      },
    },
    {
      method: 'GET',
      path: `/${API_VERSION}/Accounts/{AccountSid}/Messages/{Sid}.json`,
      handle(request) {
        const message = forAccount(request)
          ? messagesOf(world, from).find((m) => m.sid === request.params['Sid'])
          : undefined;
        return message
          ? { status: 200, json: toMessageJson(message, accountSid, Date.now()) }
          : notFound(request.path);
      },
    },
  ];

  return {
    platform: 'twilio',
    routes,
    adminRoutes: [
      {
        method: 'GET',
        path: '/__sandbox/callbacks',
        handle: () => ({ status: 200, json: { callbacks: callbackLog.sent } }),
      },
    ],
    callbacks: callbackLog.sent,
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
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
