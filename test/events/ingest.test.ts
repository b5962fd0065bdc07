import { request as httpRequest, createServer } from 'node:http';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookIngest, ingestMetrics, WEBHOOK_UNVERIFIED_MESSAGE } from '../../events/ingest.js';
import { openSqliteEventLog } from '../../lib/events/log/sqlite.js';
import type { EventLog } from '../../lib/events/log/types.js';
import { createLogger, type Logger } from '../../lib/logger.js';
import { listen, type Listening } from '../../lib/server/listen.js';
import { signStandardWebhook } from '../../lib/webhooks/sign.js';
import { signHubSpotV1 } from '../../platforms/hubspot/sandbox/sign.js';
import { DEMO_WEBHOOK_SECRETS } from '../../sandboxes/webhooks/index.js';
import { silentLogger } from '../helpers/context.js';
import {
  hubspotPropertyChanges,
  postWebhook,
  shopifyOrder,
  siteFormSubmission,
  type SignedWebhook,
} from '../helpers/webhooks.js';

/** The ingest endpoints alone on a real HTTP server, in front of the given log. */
async function serveIngest(
  log: EventLog,
  options: { publicUrl?: string; trustedProxies?: string[]; logger?: Logger } = {},
): Promise<Listening> {
  const ingest = createWebhookIngest({
    log,
    secrets: {
      hubspot: { secrets: [DEMO_WEBHOOK_SECRETS.hubspot] },
      shopify: [DEMO_WEBHOOK_SECRETS.shopify],
      mailchimp: [DEMO_WEBHOOK_SECRETS.mailchimp],
      site: [DEMO_WEBHOOK_SECRETS.site],
    },
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
    ...(options.trustedProxies ? { trustedProxies: options.trustedProxies } : {}),
    onAppended: () => undefined,
    logger: options.logger ?? silentLogger,
  });
  const server = createServer((req, res) => {
    void ingest(req, res, new URL(req.url ?? '/', 'http://localhost'));
  });
  return listen(server, 0, '127.0.0.1');
}

/**
 * A POST with node:http, which (unlike fetch) sends the `Host` header it is given: what an
 * attacker's client does.
 */
function postRaw(
  origin: string,
  webhook: SignedWebhook,
  method = 'POST',
): Promise<{ status: number; text: string }> {
  const url = new URL(`${origin}${webhook.path}`);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method,
        headers: webhook.headers,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(webhook.body);
  });
}

/** A HubSpot batch signed over `signedOrigin`, sent with the extra headers given. */
function hubspotSignedFor(signedOrigin: string, headers: Record<string, string> = {}): SignedWebhook {
  const webhook = hubspotPropertyChanges(signedOrigin, [
    { objectId: 1_246_965, propertyName: 'lifecyclestage', value: 'customer' },
  ]);
  return { ...webhook, headers: { ...webhook.headers, ...headers } };
}

describe('webhook ingest', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('should answer 503 EVENT_LOG_UNAVAILABLE, never a 2xx, when the log cannot store the event', async () => {
    const log = openSqliteEventLog({ file: ':memory:', logger: silentLogger });
    cleanups.push(() => log.close());
    // The log's disk is full: every append throws, as better-sqlite3 does on SQLITE_FULL.
    const failing: EventLog = {
      ...log,
      append: () => Promise.reject(new Error('SQLITE_FULL: database or disk is full')),
    };
    const server = await serveIngest(failing);
    cleanups.push(() => server.close());
    const response = await postWebhook(
      server.origin,
      shopifyOrder({ email: 'ada@example.com', totalPrice: '12.00' }),
    );
    expect(response.status).toBe(503);
    expect(response.body.errors?.[0]?.extensions['code']).toBe('EVENT_LOG_UNAVAILABLE');
    expect(JSON.stringify(response.body)).not.toContain('SQLITE_FULL');
    expect((await log.stats()).pending).toBe(0);
  });

  it("should pass Mailchimp's URL check (GET) with the secret and refuse it without", async () => {
    const log = openSqliteEventLog({ file: ':memory:', logger: silentLogger });
    cleanups.push(() => log.close());
    const server = await serveIngest(log);
    cleanups.push(() => server.close());
    const ok = await fetch(`${server.origin}/webhooks/mailchimp?secret=${DEMO_WEBHOOK_SECRETS.mailchimp}`);
    expect(ok.status).toBe(200);
    const wrong = await fetch(`${server.origin}/webhooks/mailchimp?secret=guess`);
    expect(wrong.status).toBe(401);
    const body = (await wrong.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('WEBHOOK_SIGNATURE_INVALID');
    expect((await log.stats()).pending).toBe(0);
  });

  const openLog = () => {
    const log = openSqliteEventLog({ file: ':memory:', logger: silentLogger });
    cleanups.push(() => log.close());
    return log;
  };
  const serve = async (log: EventLog, options: Parameters<typeof serveIngest>[1] = {}) => {
    const server = await serveIngest(log, options);
    cleanups.push(() => server.close());
    return server;
  };

  it('should store a signed Shopify body once, whatever X-Shopify-Event-Id it is replayed with', async () => {
    const log = openLog();
    const server = await serve(log);
    const order = shopifyOrder({ email: 'ada@example.com', totalPrice: '12.00', eventId: 'event-1' });
    const first = await postWebhook(server.origin, order);
    // A captured request replayed with a fresh value in the headers the signature does not cover.
    const replayed = await postWebhook(server.origin, {
      ...order,
      headers: { ...order.headers, 'x-shopify-event-id': 'event-2-forged', 'x-shopify-webhook-id': 'forged' },
    });
    expect(first).toEqual({ status: 200, body: { accepted: 1, duplicates: 0 } });
    expect(replayed).toEqual({ status: 200, body: { accepted: 0, duplicates: 1 } });
    expect((await log.stats()).pending).toBe(1);
  });

  it('should answer every signature, timestamp and URL-secret failure with one body, logging and counting the reason', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const log = openLog();
    const server = await serve(log, {
      logger: createLogger({ name: 'test', level: 'warn', destination: sink }),
    });
    const order = shopifyOrder({ email: 'ada@example.com', totalPrice: '12.00' });
    const { 'x-shopify-hmac-sha256': _hmac, ...unsignedOrder } = order.headers;
    const form = siteFormSubmission({ email: 'ada@example.com' });
    const now = Math.floor(Date.now() / 1000);
    const formAt = (seconds: number) => ({
      ...form,
      headers: {
        ...form.headers,
        'webhook-timestamp': String(seconds),
        'webhook-signature': signStandardWebhook({
          secret: DEMO_WEBHOOK_SECRETS.site,
          id: form.headers['webhook-id']!,
          timestamp: seconds,
          body: form.body,
        }),
      },
    });
    const { 'webhook-id': _id, ...formWithoutId } = form.headers;
    const contact = hubspotSignedFor(server.origin);
    const { 'x-hubspot-request-timestamp': _ts, ...contactWithoutTimestamp } = contact.headers;
    const { 'x-hubspot-signature-v3': _v3, ...contactUnsigned } = contact.headers;
    const cases: [source: string, reason: string, webhook: SignedWebhook, method?: string][] = [
      ['shopify', 'missing-signature', { ...order, headers: unsignedOrder }],
      [
        'shopify',
        'bad-signature',
        shopifyOrder({ email: 'ada@example.com', totalPrice: '1.00', secret: 'guessed-secret' }),
      ],
      ['site', 'stale', formAt(now - 600)],
      ['site', 'future', formAt(now + 600)],
      ['site', 'missing-id', { ...form, headers: formWithoutId }],
      ['site', 'bad-timestamp', { ...form, headers: { ...form.headers, 'webhook-timestamp': 'soon' } }],
      [
        'site',
        'unsupported-version',
        { ...form, headers: { ...form.headers, 'webhook-signature': 'v1a,AAAA' } },
      ],
      ['hubspot', 'missing-timestamp', { ...contact, headers: contactWithoutTimestamp }],
      ['hubspot', 'bad-signature', hubspotSignedFor('https://elsewhere.example')],
      [
        'hubspot',
        'unsupported-version',
        {
          ...contact,
          headers: {
            ...contactUnsigned,
            'x-hubspot-signature': signHubSpotV1(DEMO_WEBHOOK_SECRETS.hubspot, contact.body),
            'x-hubspot-signature-version': 'v1',
          },
        },
      ],
      [
        'mailchimp',
        'missing-signature',
        { path: '/webhooks/mailchimp', headers: {}, body: 'type=subscribe' },
      ],
      [
        'mailchimp',
        'bad-signature',
        { path: '/webhooks/mailchimp?secret=guess', headers: {}, body: '' },
        'GET',
      ],
    ];
    const counted = () =>
      Promise.all(cases.map(([source, reason]) => ingestMetrics.rejected.get({ source, reason })));
    const before = await counted();
    const answers = [];
    for (const [, , webhook, method] of cases) answers.push(await postRaw(server.origin, webhook, method));

    expect(answers.map((a) => a.status)).toEqual(cases.map(() => 401));
    expect(new Set(answers.map((a) => a.text))).toEqual(
      new Set([
        JSON.stringify({
          errors: [
            { message: WEBHOOK_UNVERIFIED_MESSAGE, extensions: { code: 'WEBHOOK_SIGNATURE_INVALID' } },
          ],
        }),
      ]),
    );
    expect(await counted()).toEqual(before.map((n) => n + 1));
    const logged = lines
      .map((line) => JSON.parse(line) as { source?: string; reason?: string; msg?: string })
      .filter((line) => line.msg === 'webhook refused: signature did not verify')
      .map((line) => [line.source, line.reason]);
    expect(logged).toEqual(cases.map(([source, reason]) => [source, reason]));
    expect(lines.join('\n')).not.toContain('ada@example.com');
    expect((await log.stats()).pending).toBe(0);
  });

  it('should refuse a HubSpot v3 signature computed over an attacker-chosen Host', async () => {
    const server = await serve(openLog());
    const forged = await postRaw(
      server.origin,
      hubspotSignedFor('http://evil.example', { host: 'evil.example' }),
    );
    expect(forged.status).toBe(401);
    // Signed over the address the gateway was reached on: that one verifies.
    const direct = await postRaw(server.origin, hubspotSignedFor(server.origin, { host: 'evil.example' }));
    expect(direct.status).toBe(200);
  });

  it('should take the forwarded scheme and host only from a trusted proxy', async () => {
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'hooks.example.com' };
    const trusted = await serve(openLog(), { trustedProxies: ['10.0.0.0/8', '127.0.0.1'] });
    expect(
      (await postRaw(trusted.origin, hubspotSignedFor('https://hooks.example.com', forwarded))).status,
    ).toBe(200);
    // A proxy that appends: only the last entry, the one it wrote itself, counts.
    const appended = { ...forwarded, 'x-forwarded-host': 'hooks.example.com, evil.example' };
    expect(
      (await postRaw(trusted.origin, hubspotSignedFor('https://hooks.example.com', appended))).status,
    ).toBe(401);
    const untrusted = await serve(openLog(), { trustedProxies: ['10.0.0.0/8'] });
    expect(
      (await postRaw(untrusted.origin, hubspotSignedFor('https://hooks.example.com', forwarded))).status,
    ).toBe(401);
  });

  it('should verify HubSpot against WEBHOOK_PUBLIC_URL when it is set, whatever the Host', async () => {
    const server = await serve(openLog(), { publicUrl: 'https://hooks.example.com/' });
    const signedPublic = hubspotSignedFor('https://hooks.example.com', { host: 'evil.example' });
    expect((await postRaw(server.origin, signedPublic)).status).toBe(200);
    const signedForHost = hubspotSignedFor('http://evil.example', { host: 'evil.example' });
    expect((await postRaw(server.origin, signedForHost)).status).toBe(401);
  });
});
