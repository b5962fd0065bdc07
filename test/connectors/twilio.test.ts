import { createServer } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamError } from '../../lib/errors.js';
import { listen } from '../../lib/server/listen.js';
import {
  CONSENT_SCAN_LIMIT,
  TwilioConnector,
  type TwilioSettings,
} from '../../platforms/twilio/client/connector.js';
import { toE164 } from '../../platforms/twilio/client/records.js';
import { verifyTwilio } from '../../platforms/twilio/webhooks/verify.js';
import { testRequest } from '../helpers/context.js';
import { eventually } from '../helpers/gateway-process.js';
import type { RecordedRequest } from '../../sandboxes/kit/recorder.js';
import {
  startCapture,
  startTwilioSandbox,
  textFrom,
  TWILIO,
  type RunningTwilioSandbox,
} from '../helpers/twilio.js';

const API_KEY = {
  accountSid: TWILIO.accountSid,
  apiKeySid: TWILIO.apiKeySid,
  apiKeySecret: TWILIO.apiKeySecret,
};
const AUTH_TOKEN = { accountSid: TWILIO.accountSid, authToken: TWILIO.authToken };

const SEND = 'POST /2010-04-01/Accounts/{AccountSid}/Messages.json';

/** The form fields of a recorded request (the recorder keeps a form body as its text). */
const formOf = (request: RecordedRequest | undefined) =>
  Object.fromEntries(new URLSearchParams(typeof request?.body === 'string' ? request.body : ''));

/** Whatever the connector throws, as an UpstreamError (anything else fails the test). */
async function upstreamError(run: () => Promise<unknown>): Promise<UpstreamError> {
  const error = await run().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof UpstreamError)) throw new Error(`expected an UpstreamError, got ${String(error)}`);
  return error;
}

describe('Twilio connector against the Twilio sandbox', () => {
  let running: RunningTwilioSandbox;
  let twilio: TwilioConnector;
  /** Customers' numbers as Twilio addresses them. */
  let phones: string[];
  const connect = (overrides: Partial<TwilioSettings> = {}) =>
    new TwilioConnector({
      baseUrl: running.baseUrl,
      credentials: API_KEY,
      from: TWILIO.from,
      timeoutMs: 2_000,
      maxRetries: 2,
      ...overrides,
    });

  beforeAll(async () => {
    running = await startTwilioSandbox();
    twilio = connect();
    phones = [...new Set(running.world.customers.map((c) => toE164(c.person.phone) ?? ''))].filter(Boolean);
  });
  afterAll(async () => {
    await twilio.close();
    await running.close();
  });
  beforeEach(() => {
    running.server.faults.set({});
  });

  /** A customer number that has not opted out, so a send to it is accepted. */
  async function textable(): Promise<string> {
    for (const phone of phones)
      if ((await twilio.consent(testRequest(), phone)).status !== 'OPTED_OUT') return phone;
    throw new Error('no textable number in the test world');
  }

  it('should send form-encoded with Basic auth, and follow the message from queued to delivered', async () => {
    const to = await textable();
    const sent = await twilio.sendMessage(testRequest(), { to, body: 'Spring sale starts now' });
    expect(sent).toMatchObject({
      direction: 'OUTBOUND',
      status: 'QUEUED',
      to,
      from: TWILIO.from,
      segments: 1,
    });
    expect(sent.id).toMatch(/^SM[0-9a-f]{32}$/);
    // Twilio reads form fields only: the sandbox refuses anything else as having no `To`.
    const request = running.server.requests.list({ endpoint: SEND }).at(-1);
    expect(request).toMatchObject({
      method: 'POST',
      path: `/2010-04-01/Accounts/${TWILIO.accountSid}/Messages.json`,
    });
    expect(formOf(request)).toEqual({ To: to, From: TWILIO.from, Body: 'Spring sale starts now' });
    const delivered = await eventually(
      () => twilio.getMessage(testRequest(), sent.id),
      (message) => message?.status === 'DELIVERED',
      50,
    );
    expect(delivered).toMatchObject({ id: sent.id, status: 'DELIVERED', errorCode: null });
    expect(delivered?.sentAt).not.toBeNull();
  });

  it('should report a number no handset answers as undelivered with its error code', async () => {
    const sent = await twilio.sendMessage(testRequest(), { to: '+14155550999', body: 'Hello' });
    const final = await eventually(
      () => twilio.getMessage(testRequest(), sent.id),
      (message) => message?.status === 'UNDELIVERED',
      50,
    );
    expect(final).toMatchObject({ status: 'UNDELIVERED', errorCode: 30006 });
  });

  it('should answer null for a message the account does not have', async () => {
    expect(await twilio.getMessage(testRequest(), `SM${'0'.repeat(32)}`)).toBeNull();
  });

  it('should page through a listing with next_page_uri, getting every message once, newest first', async () => {
    const everything = await twilio.listMessages(
      testRequest(),
      { from: TWILIO.from },
      { limit: 10_000, pageSize: 1000 },
    );
    expect(everything.length).toBeGreaterThan(50);
    running.server.stats.reset();
    const paged = await twilio.listMessages(
      testRequest(),
      { from: TWILIO.from },
      { limit: 10_000, pageSize: 25 },
    );
    expect(paged.map((m) => m.id)).toEqual(everything.map((m) => m.id));
    expect(new Set(paged.map((m) => m.id)).size).toBe(paged.length);
    const created = paged.map((m) => Date.parse(m.createdAt));
    expect(created).toEqual([...created].sort((a, b) => b - a));
    const calls =
      running.server.stats.snapshot().endpoints['GET /2010-04-01/Accounts/{AccountSid}/Messages.json'];
    expect(calls?.count).toBe(Math.ceil(everything.length / 25));
  });

  it('should stop at `limit` without reading further pages', async () => {
    running.server.stats.reset();
    const five = await twilio.listMessages(testRequest(), { from: TWILIO.from }, { limit: 5, pageSize: 2 });
    expect(five).toHaveLength(5);
    expect(running.server.stats.snapshot().total).toBe(3);
  });

  it('should refuse a next_page_uri that leaves the message list', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          messages: [],
          page: 0,
          page_size: 50,
          next_page_uri: `/2010-04-01/Accounts/${TWILIO.accountSid}/Calls.json?Page=1`,
        }),
      );
    });
    const fake = await listen(server, 0, '127.0.0.1');
    const client = connect({ baseUrl: `${fake.origin}/2010-04-01` });
    try {
      const error = await upstreamError(() => client.listMessages(testRequest(), {}, { limit: 100 }));
      expect(error.details).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', platform: 'twilio' });
    } finally {
      await client.close();
      await fake.close();
    }
  });

  it("should read Twilio's error body into the error: code, message and more_info", async () => {
    const error = await upstreamError(() => twilio.sendMessage(testRequest(), { to: '12', body: 'Hi' }));
    expect(error.details).toMatchObject({
      code: 'UPSTREAM_ERROR',
      status: 400,
      upstreamCode: '21211',
      platform: 'twilio',
    });
    expect(error.message).toContain('is not a valid phone number');
    expect(error.message).toContain('https://www.twilio.com/docs/errors/21211');
  });

  it('should refuse texting a number that opted out (21610), and deliver again after START', async () => {
    // A number no other test texts, so its history is this test's alone.
    const to = '+14155550996';
    // Seconds apart: Twilio's times have whole seconds, and the latest keyword wins.
    textFrom(running.world, to, 'Stop', Date.now() - 5_000);
    expect(await twilio.consent(testRequest(), to)).toMatchObject({
      status: 'OPTED_OUT',
      keyword: 'STOP',
      phone: to,
    });
    const refused = await upstreamError(() => twilio.sendMessage(testRequest(), { to, body: 'Sale!' }));
    expect(refused.details).toMatchObject({ status: 400, upstreamCode: '21610' });
    // Twilio answers the keyword itself: its confirmation is in the history (Twilio's times have
    // whole seconds, so the two may share one and come in either order).
    const recent = await twilio.recentMessages(testRequest(), to, 2);
    expect(recent.map((m) => m.direction).sort()).toEqual(['INBOUND', 'OUTBOUND']);
    expect(recent.find((m) => m.direction === 'OUTBOUND')?.body).toContain('unsubscribed');

    textFrom(running.world, to, 'START');
    expect(await twilio.consent(testRequest(), to)).toMatchObject({ status: 'OPTED_IN', keyword: 'START' });
    expect((await twilio.sendMessage(testRequest(), { to, body: 'Welcome back' })).status).toBe('QUEUED');
  });

  it(`should read consent from at most the last ${CONSENT_SCAN_LIMIT} incoming messages, a page of 100 at a time`, async () => {
    const from = '+14155550997';
    const start = Date.now() - 3_600_000;
    textFrom(running.world, from, 'STOP', start);
    for (let i = 1; i < CONSENT_SCAN_LIMIT; i++) textFrom(running.world, from, 'hi', start + i);
    running.server.stats.reset();
    expect((await twilio.consent(testRequest(), from)).status).toBe('OPTED_OUT');
    expect(running.server.stats.snapshot().total).toBe(CONSENT_SCAN_LIMIT / 100);
    textFrom(running.world, from, 'one more', start + CONSENT_SCAN_LIMIT);
    expect((await twilio.consent(testRequest(), from)).status).toBe('NEVER_OPTED_OUT');
  });

  it('should say when a number never texted a keyword', async () => {
    expect(await twilio.consent(testRequest(), '+14155550998')).toEqual({
      phone: '+14155550998',
      status: 'NEVER_OPTED_OUT',
      keyword: null,
      changedAt: null,
    });
  });

  it('should reject wrong credentials as UPSTREAM_UNAUTHORIZED without echoing the secret', async () => {
    const wrong = connect({
      credentials: { accountSid: TWILIO.accountSid, authToken: 'not-the-auth-token-0000' },
    });
    try {
      const error = await upstreamError(() => wrong.getMessage(testRequest(), `SM${'0'.repeat(32)}`));
      expect(error.details).toMatchObject({
        code: 'UPSTREAM_UNAUTHORIZED',
        status: 401,
        upstreamCode: '20003',
      });
      expect(error.message).not.toContain('not-the-auth-token-0000');
    } finally {
      await wrong.close();
    }
    // The auth token works as well as the API key.
    const byToken = connect({ credentials: AUTH_TOKEN });
    try {
      expect(await byToken.getMessage(testRequest(), `SM${'0'.repeat(32)}`)).toBeNull();
    } finally {
      await byToken.close();
    }
  });

  it('should retry a read and a send refused with 429 (20429), sending the message once', async () => {
    const to = await textable();
    running.server.faults.set({
      rateLimitRate: 1,
      remaining: 1,
      endpoints: ['POST /2010-04-01/Accounts/{AccountSid}/Messages.json'],
    });
    running.server.stats.reset();
    const sent = await twilio.sendMessage(testRequest(), { to, body: 'Once' });
    const statuses =
      running.server.stats.snapshot().endpoints['POST /2010-04-01/Accounts/{AccountSid}/Messages.json']
        ?.statuses;
    expect(statuses).toEqual({ '201': 1, '429': 1 });
    // The refused attempt is recorded too: two requests, one message.
    const attempts = running.server.requests
      .list({ endpoint: SEND })
      .filter((r) => formOf(r)['Body'] === 'Once');
    expect(attempts.map((r) => r.status)).toEqual([429, 201]);
    expect(sent.status).toBe('QUEUED');

    running.server.faults.set({ rateLimitRate: 1 });
    const noRetries = connect({ maxRetries: 0 });
    try {
      const error = await upstreamError(() => noRetries.getMessage(testRequest(), sent.id));
      expect(error.details).toMatchObject({
        code: 'UPSTREAM_RATE_LIMITED',
        status: 429,
        upstreamCode: '20429',
      });
    } finally {
      await noRetries.close();
    }
  });

  it("should answer 429 (20429) beyond the account's concurrent requests, and the client keeps to its cap", async () => {
    const narrow = await startTwilioSandbox({ world: running.world, maxConcurrent: 2 });
    try {
      const greedy = connect({ baseUrl: narrow.baseUrl, limits: { maxConcurrent: 20 }, maxRetries: 0 });
      narrow.server.faults.set({ latencyMs: 50 });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, () =>
          greedy.listMessages(testRequest(), { from: TWILIO.from }, { limit: 1 }),
        ),
      );
      await greedy.close();
      const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as UpstreamError] : []));
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.every((e) => e.details.upstreamCode === '20429')).toBe(true);

      narrow.server.stats.reset();
      const polite = connect({ baseUrl: narrow.baseUrl, limits: { maxConcurrent: 2 } });
      const all = await Promise.all(
        Array.from({ length: 8 }, () =>
          polite.listMessages(testRequest(), { from: TWILIO.from }, { limit: 1 }),
        ),
      );
      await polite.close();
      expect(all.every((page) => page.length === 1)).toBe(true);
      expect(narrow.server.stats.snapshot().maxConcurrent).toBeLessThanOrEqual(2);
    } finally {
      await narrow.close();
    }
  });

  it('should never repeat a send that timed out: Twilio may have accepted it', async () => {
    const to = await textable();
    running.server.faults.set({
      latencyMs: 3_000,
      endpoints: ['POST /2010-04-01/Accounts/{AccountSid}/Messages.json'],
    });
    const slow = connect({ timeoutMs: 300, maxRetries: 3 });
    const body = `Maybe twice? ${Date.now()}`;
    try {
      const error = await upstreamError(() => slow.sendMessage(testRequest(), { to, body }));
      expect(error.details.code).toBe('UPSTREAM_TIMEOUT');
      // The platform went on and created it after the client gave up: exactly once.
      const created = await eventually(
        async () =>
          running.server.requests.list({ endpoint: SEND }).filter((r) => formOf(r)['Body'] === body).length,
        (count) => count > 0,
        50,
      );
      expect(created).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(
        running.server.requests.list({ endpoint: SEND }).filter((r) => formOf(r)['Body'] === body),
      ).toHaveLength(1);
    } finally {
      await slow.close();
    }
  });

  it("should refuse a send beyond the sender's queue (21611), and fail one through a Messaging Service (30001)", async () => {
    const queued = await startTwilioSandbox({ world: running.world, mps: 1, queueLimit: 2 });
    const client = connect({ baseUrl: queued.baseUrl });
    try {
      const to = (
        await Promise.all(
          phones.slice(0, 10).map(async (p) => ({ p, c: await client.consent(testRequest(), p) })),
        )
      ).find((x) => x.c.status !== 'OPTED_OUT')?.p as string;
      await client.sendMessage(testRequest(), { to, body: 'one' });
      await client.sendMessage(testRequest(), { to, body: 'two' });
      const full = await upstreamError(() => client.sendMessage(testRequest(), { to, body: 'three' }));
      expect(full.details).toMatchObject({ status: 400, upstreamCode: '21611' });

      const viaService = { to, body: 'one', messagingServiceSid: TWILIO.messagingServiceSid };
      await client.sendMessage(testRequest(), viaService);
      await client.sendMessage(testRequest(), viaService);
      const overflow = await client.sendMessage(testRequest(), viaService);
      const fetched = await client.getMessage(testRequest(), overflow.id);
      expect(fetched).toMatchObject({ status: 'FAILED', errorCode: 30001, sentAt: null });
    } finally {
      await client.close();
      await queued.close();
    }
  });

  it('should post signed status callbacks as a message goes queued, sent, delivered', async () => {
    const capture = await startCapture();
    try {
      const to = await textable();
      const url = `${capture.origin}/webhooks/twilio?tenant=demo`;
      const sent = await twilio.sendMessage(testRequest(), { to, body: 'Tracked', statusCallback: url });
      await running.sandbox.settled();
      const mine = capture.received.filter((r) => new URLSearchParams(r.body).get('MessageSid') === sent.id);
      expect(mine.map((r) => new URLSearchParams(r.body).get('MessageStatus'))).toEqual([
        'queued',
        'sent',
        'delivered',
      ]);
      for (const received of mine) {
        expect(received.headers['content-type']).toBe('application/x-www-form-urlencoded');
        expect(
          verifyTwilio(
            { uri: url, rawBody: Buffer.from(received.body), headers: received.headers },
            { secrets: [TWILIO.authToken] },
          ),
        ).toEqual({ ok: true });
      }
    } finally {
      await capture.close();
    }
  });
});
