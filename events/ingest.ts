import { storedTraceContext, withServerSpan } from '../lib/telemetry/tracing.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { recordOutcome } from '../lib/health/recorder.js';
import { ErrorCode } from '../lib/errors.js';
import type { EventSource } from '../lib/events/event.js';
import type { EventLog } from '../lib/events/log/types.js';
import { registerSecret, type Logger } from '../lib/logger.js';
import { Counter, Histogram } from '../lib/metrics.js';
import { BodyTooLargeError, readBody } from '../lib/server/graphql-http.js';
import type { Normaliser } from '../lib/webhooks/normalise-result.js';
import type { VerifyResult } from '../lib/webhooks/verify-result.js';
import type { WebhookRequest, WebhookSource } from '../platforms/kit/descriptor.js';
import { WEBHOOK_SOURCES, type WebhookSecrets } from '../platforms/registry.js';
import { publicUriResolver } from './public-uri.js';

export type { WebhookSecrets } from '../platforms/registry.js';

export const ingestMetrics = {
  received: new Counter('webhooks_received_total', 'Webhook requests, by source and outcome.', [
    'source',
    'outcome',
  ]),
  rejected: new Counter('webhooks_rejected_total', 'Webhook requests refused, by source and reason.', [
    'source',
    'reason',
  ]),
  accepted: new Counter('events_accepted_total', 'Events stored in the event log, by source.', ['source']),
  duplicates: new Counter(
    'events_duplicate_total',
    'Redelivered events skipped by their dedupe key, by source.',
    ['source'],
  ),
  ackSeconds: new Histogram(
    'webhooks_ack_latency_seconds',
    'Time from a webhook request to its acknowledgement.',
  ),
};

export interface WebhookIngestOptions {
  log: EventLog;
  secrets: WebhookSecrets;
  /**
   * The public origin platforms call (`https://hooks.example.com`): HubSpot signs the URI it
   * called, which behind a proxy is not the one the gateway sees. @default what a trusted proxy
   * forwards, else the address the request reached (never the `Host` header; see public-uri.ts)
   */
  publicUrl?: string;
  /** Proxies (IP addresses, CIDR ranges) whose `X-Forwarded-Proto`/`-Host` count. @default none */
  trustedProxies?: readonly string[];
  /** Called after events are stored: the processor takes them now rather than at its next poll. */
  onAppended(): void;
  logger: Logger;
  /** @default 1000000 (HubSpot batches of 100 events fit many times over) */
  maxBodyBytes?: number;
}

interface Source {
  name: EventSource;
  verify(req: IncomingMessage, url: URL, rawBody: Buffer): VerifyResult;
  normalise: Normaliser;
  /** Answers the platform's unsigned validation GET (only its URL secret is checked). */
  validatesWithGet: boolean;
}

/**
 * The one answer to every webhook that fails its signature, timestamp or URL-secret check, whatever
 * the source and the reason: telling a caller which check failed would guide a forger. The reason
 * is in the log line and in `webhooks_rejected_total{reason}`, for the operator.
 */
export const WEBHOOK_UNVERIFIED_MESSAGE =
  'The webhook could not be verified: check the secret configured for this endpoint.';

/** The answer every refusal gets: the gateway's error shape, a code, and never a stack or a value. */
function refuse(
  res: ServerResponse,
  status: number,
  code: ErrorCode,
  message: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ errors: [{ message, extensions: { code, ...extra } }] });
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
  });
  res.end(body);
}

function reply(res: ServerResponse, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/**
 * The webhook endpoints, `/webhooks/<source>` for each source in platforms/registry.ts: the synchronous half of the
 * pipeline, kept short so platforms get their 2xx in milliseconds. Each request is read raw (the
 * signature covers the exact bytes), verified (401, one answer for every reason), normalised (400
 * naming the bad fields), appended to the durable log (503 when it cannot be, so the platform
 * redelivers) and only then acknowledged. Redeliveries are acknowledged too, and stored once. Processing happens later.
 */
export function createWebhookIngest(
  options: WebhookIngestOptions,
): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> {
  const { secrets, log, logger } = options;
  const publicUri = publicUriResolver({
    publicUrl: options.publicUrl,
    trustedProxies: options.trustedProxies,
  });
  const sources = new Map<string, Source>();
  for (const descriptor of WEBHOOK_SOURCES as readonly WebhookSource[]) {
    const configured: unknown = secrets[descriptor.name as keyof WebhookSecrets];
    if (configured === undefined) continue;
    const list = descriptor.secretsOf(configured);
    if (list.length === 0) continue;
    // A URL secret (Mailchimp's) travels in the URL: a logged URL must not carry it.
    for (const secret of list) registerSecret(secret);
    sources.set(descriptor.name, {
      name: descriptor.name,
      verify: (req, url, rawBody) => {
        const request: WebhookRequest = {
          method: req.method ?? 'POST',
          url,
          rawBody,
          headers: req.headers,
          publicUri: () => publicUri(req, url),
        };
        return descriptor.verify(request, configured);
      },
      normalise: descriptor.normalise,
      validatesWithGet: descriptor.validatesWithGet ?? false,
    });
  }
  const maxBodyBytes = options.maxBodyBytes ?? 1_000_000;

  return (req, res, url) => {
    const name = url.pathname.slice('/webhooks/'.length);
    // One span per webhook (continuing the sender's traceparent, if it sent one).
    return withServerSpan(`webhook ${sources.has(name) ? name : 'unknown'}`, req.headers, {}, () =>
      handle(req, res, url, name),
    );
  };

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL, name: string): Promise<void> {
    const started = performance.now();
    const source = sources.get(name);
    const outcome = (result: string, reason?: string) => {
      ingestMetrics.received.inc({ source: source?.name ?? 'unknown', outcome: result });
      if (reason) ingestMetrics.rejected.inc({ source: source?.name ?? 'unknown', reason });
      const latencyMs = performance.now() - started;
      ingestMetrics.ackSeconds.observe(latencyMs / 1000);
      // The source's connection in the health model: what came in and whether it was taken.
      if (source && result !== 'validated')
        recordOutcome(
          { name: `webhooks:${source.name}`, kind: 'webhook-source', platform: source.name },
          result === 'accepted'
            ? { ok: true, latencyMs }
            : {
                ok: false,
                latencyMs,
                errorClass: reason ?? result,
                code: result,
                message: `webhook ${result}`,
              },
        );
    };
    if (!source) {
      req.resume();
      outcome('not-configured');
      const known = WEBHOOK_SOURCES.some((candidate) => candidate.name === name);
      refuse(
        res,
        404,
        ErrorCode.WEBHOOK_SOURCE_NOT_CONFIGURED,
        known
          ? `Webhooks from ${name} are not configured here: set its webhook secret (see the README, "Pointing the platforms' webhooks at the gateway").`
          : `No webhook endpoint /webhooks/${name}. Endpoints: ${[...sources.keys()].map((s) => `/webhooks/${s}`).join(', ') || 'none configured'}.`,
      );
      return;
    }
    /** The refusal of an unverified webhook: the reason logged and counted, never answered. */
    const unverified = (reason: string) => {
      outcome('unverified', reason);
      // A wrong secret and a replay look different to the operator; the body is never logged.
      logger.warn({ source: source.name, reason }, 'webhook refused: signature did not verify');
      refuse(res, 401, ErrorCode.WEBHOOK_SIGNATURE_INVALID, WEBHOOK_UNVERIFIED_MESSAGE);
    };
    // Some platforms (Mailchimp) check a webhook URL with a GET before saving it; only the URL secret is asked.
    if (req.method === 'GET' && source.validatesWithGet) {
      req.resume();
      const verified = source.verify(req, url, Buffer.alloc(0));
      if (!verified.ok) {
        unverified(verified.reason);
        return;
      }
      outcome('validated');
      reply(res, { ok: true });
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      outcome('bad-method');
      refuse(
        res,
        405,
        ErrorCode.BAD_REQUEST,
        `Webhooks are delivered with POST, not ${req.method ?? 'no method'}.`,
        {},
        { allow: source.validatesWithGet ? 'GET, POST' : 'POST' },
      );
      return;
    }
    let rawBody: Buffer;
    try {
      rawBody = await readBody(req, maxBodyBytes);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      outcome('too-large', 'too-large');
      refuse(
        res,
        413,
        ErrorCode.BAD_REQUEST,
        `The webhook body is larger than ${maxBodyBytes} bytes.`,
        {},
        { connection: 'close' },
      );
      return;
    }
    const verified = source.verify(req, url, rawBody);
    if (!verified.ok) {
      unverified(verified.reason);
      return;
    }
    const normalised = source.normalise(rawBody, req.headers, new Date());
    if (!normalised.ok) {
      outcome('invalid', 'invalid-payload');
      logger.warn(
        { source: source.name, problems: normalised.problems },
        'webhook refused: payload does not match the platform contract',
      );
      refuse(
        res,
        400,
        ErrorCode.WEBHOOK_PAYLOAD_INVALID,
        `The ${source.name} webhook payload does not match the platform's documented format.`,
        { problems: normalised.problems },
      );
      return;
    }
    // The webhook's span goes with each event, so processing and deliveries join its trace.
    const trace = storedTraceContext();
    const events = trace ? normalised.events.map((event) => ({ ...event, trace })) : normalised.events;
    let appended;
    try {
      appended = await log.append(events);
    } catch (error) {
      outcome('log-unavailable', 'log-unavailable');
      logger.error(
        { err: { message: (error as Error).message }, source: source.name, events: normalised.events.length },
        'event log append failed; answering 503 so the platform redelivers',
      );
      refuse(
        res,
        503,
        ErrorCode.EVENT_LOG_UNAVAILABLE,
        'The event log is unavailable; the webhook was not stored. Deliver it again.',
        {},
        { 'retry-after': '5' },
      );
      return;
    }
    if (appended.stored.length > 0) {
      ingestMetrics.accepted.inc({ source: source.name }, appended.stored.length);
      options.onAppended();
    }
    if (appended.duplicates > 0) ingestMetrics.duplicates.inc({ source: source.name }, appended.duplicates);
    outcome('accepted');
    reply(res, { accepted: appended.stored.length, duplicates: appended.duplicates });
  }
}
