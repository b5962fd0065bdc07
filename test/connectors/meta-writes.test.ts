import { afterEach, describe, expect, it } from 'vitest';
import type { ConversionEvent } from '../../platforms/meta/client/conversions.js';
import { MetaConnector, type MetaSettings } from '../../platforms/meta/client/connector.js';
import { sha256Hex } from '../../platforms/meta/client/hashing.js';
import type { AudienceMember } from '../../platforms/meta/client/audiences.js';
import { appBudget, META_DEFAULT_LIMITS } from '../../platforms/meta/client/limits.js';
import { META_DEMO } from '../../platforms/meta/demo.js';
import type { AudienceSnapshot } from '../../platforms/meta/sandbox/audiences.js';
import { createMetaSandbox, type MetaSandboxOptions } from '../../platforms/meta/sandbox/index.js';
import type { PixelSnapshot } from '../../platforms/meta/sandbox/pixels.js';
import { listen } from '../../lib/server/listen.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import type { FaultInput } from '../../sandboxes/kit/faults.js';
import type { RecordedRequest } from '../../sandboxes/kit/recorder.js';
import { createSandboxServer } from '../../sandboxes/kit/server.js';
import { generateWorld } from '../../sandboxes/world/world.js';
import { silentLogger, testRequest } from '../helpers/context.js';
import { failureOf } from '../helpers/failures.js';
import { TEST_ANCHOR_DATE } from '../helpers/sandbox.js';

const { accessToken, adAccountId } = DEMO_CREDENTIALS.meta;
const { pixelId, lapsedBuyersAudienceId } = META_DEMO.assets;
const EVENTS = 'POST /{version}/{pixelId}/events';
const ADD_USERS = 'POST /{version}/{audienceId}/users';
const REMOVE_USERS = 'DELETE /{version}/{audienceId}/users';
const HOUR_S = 3_600;

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

/** A Meta sandbox with its write state readable through its `/__sandbox/meta/*` routes. */
async function metaSandbox(options: Partial<MetaSandboxOptions> = {}, faults?: FaultInput) {
  const world = generateWorld({ seed: 7, customers: 20, anchorDate: TEST_ANCHOR_DATE });
  const built = createSandboxServer(createMetaSandbox({ world, accessToken, adAccountId, ...options }), {
    logger: silentLogger,
    ...(faults ? { faults } : {}),
  });
  const listening = await listen(built.server, 0, '127.0.0.1');
  opened.push(listening);
  const admin = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${listening.origin}/__sandbox/${path}`);
    if (!response.ok) throw new Error(`sandbox admin ${path} answered ${response.status}`);
    return (await response.json()) as T;
  };
  /** A raw Graph API call, as any client would make it. */
  const graph = async (method: string, path: string, body: unknown, contentType = 'application/json') => {
    const response = await fetch(`${listening.origin}/v25.0${path}`, {
      method,
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return {
      status: response.status,
      headers: response.headers,
      json: (await response.json()) as Record<string, unknown>,
    };
  };
  return {
    baseUrl: `${listening.origin}/v25.0`,
    graph,
    /** The requests the kit recorded for one endpoint, with their JSON bodies. */
    requests: async (endpoint: string) =>
      (
        await admin<{ requests: (RecordedRequest & { body: Record<string, unknown> })[] }>(
          `requests?endpoint=${encodeURIComponent(endpoint)}`,
        )
      ).requests,
    audience: (id: string) => admin<AudienceSnapshot>(`meta/audiences/${id}`),
    pixel: (id: string) => admin<PixelSnapshot>(`meta/pixels/${id}/events`),
    statuses: (endpoint: string) => built.stats.snapshot().endpoints[endpoint]?.statuses ?? {},
  };
}

function connect(baseUrl: string, overrides: Partial<MetaSettings> = {}): MetaConnector {
  const meta = new MetaConnector({
    baseUrl,
    accessToken,
    adAccountId,
    timeoutMs: 10_000,
    maxRetries: 2,
    ...overrides,
  });
  opened.push(meta);
  return meta;
}

/** The `i`th of many made-up customers (the world has only a few). */
const person = (i: number): AudienceMember => ({
  key: `customer-${i}`,
  email: ` Buyer.${i}@Example.com `,
  phone: `+1 (212) ${String(i).padStart(7, '0')}`,
  firstName: i % 2 === 0 ? 'Ada' : 'Grace',
});

/** `n` high-value orders placed an hour ago, as Purchase events keyed by their order ids. */
const purchases = (n: number, from = 0): ConversionEvent[] =>
  Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return {
      name: 'Purchase',
      time: new Date(Date.now() - HOUR_S * 1000),
      id: `order-${i}`,
      actionSource: 'system_generated',
      customer: person(i),
      value: { amount: '249.50', currency: 'USD' },
      orderId: `#${1000 + i}`,
    };
  });

describe('Conversions API events through the Meta connector', () => {
  it('should send 1,000 events in one request and 1,001 in two, each hashed as Meta asks', async () => {
    const sandbox = await metaSandbox();
    const meta = connect(sandbox.baseUrl);
    const thousand = await meta.conversions.sendEvents(testRequest(), pixelId, purchases(1_000));
    expect(thousand).toMatchObject({ received: 1_000, calls: 1, messages: [] });
    expect(thousand.rows).toHaveLength(1_000);
    expect(thousand.rows[999]).toEqual({ status: 'accepted', key: 'order-999', change: 'upserted' });
    expect(thousand.traceIds).toHaveLength(1);
    const [first] = await sandbox.requests(EVENTS);
    expect(first?.status).toBe(200);
    expect(first?.path).toBe(`/v25.0/${pixelId}/events`);
    const data = first?.body['data'] as Record<string, unknown>[];
    expect(data).toHaveLength(1_000);
    expect(data[7]).toEqual({
      event_name: 'Purchase',
      event_time: expect.any(Number) as number,
      event_id: 'order-7',
      action_source: 'system_generated',
      user_data: {
        em: sha256Hex('buyer.7@example.com'),
        ph: sha256Hex('12120000007'),
        fn: sha256Hex('grace'),
      },
      custom_data: { value: 249.5, currency: 'USD', order_id: '#1007' },
    });
    expect(
      Math.abs((data[7]?.['event_time'] as number) - (Math.floor(Date.now() / 1000) - HOUR_S)),
    ).toBeLessThan(60);

    const more = await meta.conversions.sendEvents(testRequest(), pixelId, purchases(1_001, 1_000));
    expect(more).toMatchObject({ received: 1_001, calls: 2 });
    const sent = await sandbox.requests(EVENTS);
    expect(sent.map((r) => (r.body['data'] as unknown[]).length)).toEqual([1_000, 1_000, 1]);
    expect(sandbox.statuses(EVENTS)).toEqual({ '200': 3 });
    expect((await sandbox.pixel(pixelId)).kept).toBe(2_001);
  });

  it('should cut requests at the batch size the caller gives, and send the test event code', async () => {
    const sandbox = await metaSandbox();
    const meta = connect(sandbox.baseUrl);
    const batches: number[] = [];
    const result = await meta.conversions.sendEvents(testRequest(), pixelId, purchases(1_001), {
      batchSize: 250,
      testEventCode: 'TEST4242',
      onBatch: ({ events }) => batches.push(events),
    });
    expect(result).toMatchObject({ received: 1_001, calls: 5 });
    expect(batches).toEqual([250, 250, 250, 250, 1]);
    const sent = await sandbox.requests(EVENTS);
    expect(sent.map((r) => r.body['test_event_code'])).toEqual(Array<string>(5).fill('TEST4242'));
    await expect(
      meta.conversions.sendEvents(testRequest(), pixelId, purchases(1), { batchSize: 1_001 }),
    ).rejects.toThrow('batchSize must be an integer from 1 to 1000');
  });

  it('should keep back the events Meta would refuse, say why, and send the rest in one request', async () => {
    const sandbox = await metaSandbox();
    const meta = connect(sandbox.baseUrl);
    const [ok1, ok2, ok3, ok4, ok5, ok6] = purchases(6) as [ConversionEvent, ...ConversionEvent[]];
    const { value: _value, ...unpriced } = ok3!;
    const events: ConversionEvent[] = [
      ok1,
      { ...ok2!, time: new Date(Date.now() - 8 * 86_400_000) },
      unpriced,
      { ...ok4!, customer: { email: 'nobody', phone: '12' } },
      { ...ok5!, id: '' },
      { ...ok6!, time: new Date(Date.now() + 3_600_000) },
      { ...unpriced, id: 'lead-1', name: 'Lead' },
    ];
    const result = await meta.conversions.sendEvents(testRequest(), pixelId, events);
    const rejected = (key: string, code: string, reason: string) => ({
      status: 'rejected',
      key,
      code,
      reason,
      retryable: false,
    });
    expect(result.rows).toEqual([
      { status: 'accepted', key: 'order-0', change: 'upserted' },
      rejected('order-1', 'EVENT_TOO_OLD', 'time: more than 7 days ago; Meta takes events up to 7 days old'),
      rejected('order-2', 'PURCHASE_WITHOUT_VALUE', 'value: a Purchase needs its value and currency'),
      rejected(
        'order-3',
        'NOTHING_TO_MATCH',
        'customer: nothing Meta can match on (no valid email, phone, name, external id or browser ids)',
      ),
      rejected('', 'INVALID_EVENT', 'id: an event id is required (Meta deduplicates on it)'),
      rejected('order-5', 'EVENT_IN_FUTURE', 'time: in the future'),
      { status: 'accepted', key: 'lead-1', change: 'upserted' },
    ]);
    expect(result).toMatchObject({ received: 2, calls: 1 });
    const [request] = await sandbox.requests(EVENTS);
    expect((request?.body['data'] as { event_id: string }[]).map((e) => e.event_id)).toEqual([
      'order-0',
      'lead-1',
    ]);
  });

  it('should count an event sent twice once: the same name and event_id within 48 hours is a duplicate', async () => {
    const sandbox = await metaSandbox();
    const meta = connect(sandbox.baseUrl);
    await meta.conversions.sendEvents(testRequest(), pixelId, purchases(10));
    // A worker that crashed before recording its success sends the whole batch again.
    const again = await meta.conversions.sendEvents(testRequest(), pixelId, purchases(10));
    expect(again.received).toBe(10);
    expect(await sandbox.pixel(pixelId)).toMatchObject({ received: 20, kept: 10, duplicates: 10 });
  });

  it("should fail with Meta's code and reason when Meta refuses the request, without retrying it", async () => {
    // Meta's clock runs eight days ahead of ours: every event looks too old to it, none to us.
    const sandbox = await metaSandbox({ now: () => Date.now() + 8 * 86_400_000 });
    const meta = connect(sandbox.baseUrl);
    const error = await failureOf(meta.conversions.sendEvents(testRequest(), pixelId, purchases(3)));
    expect(error.extensions).toMatchObject({
      code: 'UPSTREAM_ERROR',
      platform: 'meta',
      endpoint: 'POST /{pixelId}/events',
      upstreamStatus: 400,
      upstreamCode: '100/2804003',
    });
    expect(error.message).toContain('data[0].event_time is more than 7 days in the past');
    expect(sandbox.statuses(EVENTS)).toEqual({ '400': 1 });
    expect((await sandbox.pixel(pixelId)).received).toBe(0);
  });
});

describe('the Conversions API contract in the Meta sandbox', () => {
  const event = (overrides: Record<string, unknown> = {}) => ({
    event_name: 'Lead',
    event_time: Math.floor(Date.now() / 1000) - 60,
    event_id: 'lead-9',
    action_source: 'website',
    event_source_url: 'https://shop.example.com/contact',
    user_data: { em: sha256Hex('ada@example.com'), client_user_agent: 'Mozilla/5.0' },
    ...overrides,
  });

  it('should refuse the whole request for one event too old, with code 100 and subcode 2804003, storing nothing', async () => {
    const sandbox = await metaSandbox();
    const old = event({ event_id: 'lead-old', event_time: Math.floor(Date.now() / 1000) - 8 * 86_400 });
    const answer = await sandbox.graph('POST', `/${pixelId}/events`, { data: [event(), old] });
    expect(answer.status).toBe(400);
    expect(answer.json['error']).toMatchObject({
      message: 'Invalid parameter',
      type: 'OAuthException',
      code: 100,
      error_subcode: 2804003,
      error_user_title: 'Event Timestamp Too Old',
      fbtrace_id: expect.any(String) as string,
    });
    expect((await sandbox.pixel(pixelId)).received).toBe(0);
  });

  it('should refuse events without action_source, with unhashed contact details, or more than 1,000', async () => {
    const sandbox = await metaSandbox();
    const titleOf = async (data: unknown[]) =>
      (
        (await sandbox.graph('POST', `/${pixelId}/events`, { data })).json['error'] as {
          error_user_title: string;
        }
      ).error_user_title;
    expect(await titleOf([event({ action_source: undefined })])).toBe('Missing Action Source');
    expect(await titleOf([event({ user_data: { em: 'ada@example.com' } })])).toBe(
      'Unhashed Customer Information',
    );
    expect(await titleOf([event({ user_data: {} })])).toBe('Missing User Data');
    expect(await titleOf(Array.from({ length: 1_001 }, () => event()))).toBe('Too Many Events');
    expect(await titleOf([event({ event_name: 'Purchase' })])).toBe('Missing Purchase Value');
  });

  it('should take `data` as form-encoded JSON like the curl examples, and warn about thin website events', async () => {
    const sandbox = await metaSandbox();
    const form = new URLSearchParams({
      data: JSON.stringify([event(), event({ event_id: 'lead-10', event_source_url: undefined })]),
    });
    const answer = await sandbox.graph(
      'POST',
      `/${pixelId}/events`,
      form.toString(),
      'application/x-www-form-urlencoded',
    );
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ events_received: 2 });
    expect(answer.json['messages']).toEqual([
      'data[1]: website events should carry event_source_url and user_data.client_user_agent; without them the event may not be used for optimisation',
    ]);
    expect(answer.headers.get('x-app-usage')).toBe(
      JSON.stringify({ call_count: 0, total_cputime: 0, total_time: 0 }),
    );
  });

  it('should answer an unknown pixel the way Graph answers an unknown object', async () => {
    const sandbox = await metaSandbox();
    const answer = await sandbox.graph('POST', '/999/events', { data: [event()] });
    expect(answer.status).toBe(400);
    expect(answer.json['error']).toMatchObject({ code: 100, error_subcode: 33 });
  });
});

describe('custom audiences through the Meta connector', () => {
  it('should create an audience and upload 25,000 people as one session of three parts', async () => {
    const sandbox = await metaSandbox();
    const meta = connect(sandbox.baseUrl);
    const audienceId = await meta.audiences.create(testRequest(), {
      name: 'VIP buyers',
      description: 'Spent over $1,000',
    });
    expect(audienceId).toMatch(/^\d{17}$/);
    const people = Array.from({ length: 25_000 }, (_, i) => person(i));
    const result = await meta.audiences.addUsers(testRequest(), audienceId, people, {
      keys: ['EMAIL', 'PHONE'],
    });
    expect(result).toMatchObject({
      audienceId,
      calls: 3,
      sent: 25_000,
      received: 25_000,
      invalid: 0,
    });

    expect(result.rows.filter((row) => row.status !== 'accepted' || row.change !== 'upserted')).toEqual([]);
    expect(result.rows.map((row) => row.key).slice(-2)).toEqual(['customer-24998', 'customer-24999']);
    const parts = await sandbox.requests(ADD_USERS);
    expect(parts.map((p) => p.body['session'])).toEqual(
      [1, 2, 3].map((seq) => ({
        session_id: Number(result.sessionId),
        batch_seq: seq,
        last_batch_flag: seq === 3,
        estimated_num_total: 25_000,
      })),
    );
    const payloads = parts.map((p) => p.body['payload'] as { schema: string[]; data: string[][] });
    expect(payloads.map((p) => p.schema)).toEqual(Array<string[]>(3).fill(['EMAIL', 'PHONE']));
    expect(payloads.map((p) => p.data.length)).toEqual([10_000, 10_000, 5_000]);
    expect(payloads[2]?.data[4_999]).toEqual([
      sha256Hex('buyer.24999@example.com'),
      sha256Hex('12120024999'),
    ]);

    const audience = await sandbox.audience(audienceId);
    expect(audience).toMatchObject({ name: 'VIP buyers', description: 'Spent over $1,000', size: 25_000 });
    expect(audience.sessions).toEqual([
      {
        id: result.sessionId,
        operation: 'add',
        batches: [1, 2, 3],
        finished: true,
        received: 25_000,
        invalid: 0,
        estimatedTotal: 25_000,
      },
    ]);
  });

  it('should send the parts of a session the caller drives one call at a time, a resent part counted once', async () => {
    const sandbox = await metaSandbox();
    const meta = connect(sandbox.baseUrl);
    const people = Array.from({ length: 6 }, (_, i) => person(i));
    const session = { sessionId: 4_242, estimatedTotal: 6 };
    const part = (seq: number) =>
      meta.audiences.uploadPart(
        testRequest(),
        'add',
        lapsedBuyersAudienceId,
        people.slice((seq - 1) * 2, seq * 2),
        {
          ...session,
          batchSeq: seq,
          last: seq === 3,
        },
      );
    const first = await part(1);
    await part(2);
    // A caller killed after part 2 was acknowledged may send it again on resuming: no harm.
    await part(2);
    const last = await part(3);
    expect(first).toMatchObject({ calls: 1, sent: 2, received: 2 });
    expect(first.rows.map((r) => r.key)).toEqual(['customer-0', 'customer-1']);
    expect(last.rows.map((r) => [r.key, r.status])).toEqual([
      ['customer-4', 'accepted'],
      ['customer-5', 'accepted'],
    ]);
    const sent = await sandbox.requests(ADD_USERS);
    expect(sent.map((r) => r.body['session'])).toEqual(
      [1, 2, 2, 3].map((seq) => ({
        session_id: 4_242,
        batch_seq: seq,
        last_batch_flag: seq === 3,
        estimated_num_total: 6,
      })),
    );
    const audience = await sandbox.audience(lapsedBuyersAudienceId);
    expect(audience.sessions.find((s) => s.id === '4242')).toEqual({
      id: '4242',
      operation: 'add',
      batches: [1, 2, 3],
      finished: true,
      received: 6,
      invalid: 0,
      estimatedTotal: 6,
    });
  });

  it('should remove people with DELETE, and treat the audience as a set: repeats change nothing', async () => {
    const sandbox = await metaSandbox();
    const meta = connect(sandbox.baseUrl);
    const people = Array.from({ length: 6_000 }, (_, i) => person(i));
    await meta.audiences.addUsers(testRequest(), lapsedBuyersAudienceId, people);
    const gone = people.slice(0, 2_500);
    const removed = await meta.audiences.removeUsers(testRequest(), lapsedBuyersAudienceId, gone, {
      batchSize: 1_000,
    });
    expect(removed).toMatchObject({ calls: 3, sent: 2_500, received: 2_500 });
    expect(removed.rows[0]).toEqual({ status: 'accepted', key: 'customer-0', change: 'archived' });
    const deletes = await sandbox.requests(REMOVE_USERS);
    expect(deletes.map((d) => [d.path, (d.body['payload'] as { data: unknown[] }).data.length])).toEqual([
      [`/v25.0/${lapsedBuyersAudienceId}/users`, 1_000],
      [`/v25.0/${lapsedBuyersAudienceId}/users`, 1_000],
      [`/v25.0/${lapsedBuyersAudienceId}/users`, 500],
    ]);
    expect((await sandbox.audience(lapsedBuyersAudienceId)).size).toBe(3_500);
    // Removing the same people again, and adding the remaining ones again: the same audience.
    await meta.audiences.removeUsers(testRequest(), lapsedBuyersAudienceId, gone);
    await meta.audiences.addUsers(testRequest(), lapsedBuyersAudienceId, people.slice(2_500));
    const audience = await sandbox.audience(lapsedBuyersAudienceId);
    expect(audience.size).toBe(3_500);
    expect(audience.members.map((m) => m['EMAIL']).sort()).toEqual(
      people
        .slice(2_500)
        .map((p) => sha256Hex(p.email!.trim().toLowerCase()))
        .sort(),
    );
  });

  it('should keep back the rows with nothing to match on and report them by position', async () => {
    const sandbox = await metaSandbox();
    const meta = connect(sandbox.baseUrl);
    const people: AudienceMember[] = [
      person(1),
      { key: 'typo', email: 'not-an-email' },
      { key: 'first-name-only', firstName: 'Ada' },
      person(2),
    ];
    const result = await meta.audiences.addUsers(testRequest(), lapsedBuyersAudienceId, people, {
      keys: ['EMAIL', 'PHONE'],
    });
    const nothing = (key: string) => ({
      status: 'rejected',
      key,
      code: 'NOTHING_TO_MATCH',
      reason: 'no valid value for any of EMAIL, PHONE',
      retryable: false,
    });
    expect(result.rows).toEqual([
      { status: 'accepted', key: 'customer-1', change: 'upserted' },
      nothing('typo'),
      nothing('first-name-only'),
      { status: 'accepted', key: 'customer-2', change: 'upserted' },
    ]);
    expect(result).toMatchObject({ calls: 1, sent: 2, received: 2, invalid: 0 });
    expect((await sandbox.audience(lapsedBuyersAudienceId)).size).toBe(2);
  });
});

describe('the custom audience users contract in the Meta sandbox', () => {
  const session = (seq: number, last: boolean) => ({ session_id: 77, batch_seq: seq, last_batch_flag: last });
  const hash = (email: string) => sha256Hex(email);

  it('should count the rows it cannot use, sample them, and apply the others', async () => {
    const sandbox = await metaSandbox();
    const answer = await sandbox.graph('POST', `/${lapsedBuyersAudienceId}/users`, {
      payload: {
        schema: ['EMAIL', 'PHONE'],
        data: [[hash('a@example.com'), ''], ['ada@example.com', ''], ['', ''], [hash('b@example.com')]],
      },
      session: session(1, true),
    });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({
      audience_id: lapsedBuyersAudienceId,
      session_id: '77',
      num_received: 4,
      num_invalid_entries: 3,
      invalid_entry_samples: {
        '["ada@example.com",""]': 'EMAIL must be SHA-256 hashed (64 lowercase hex characters)',
        '["",""]': 'row has no value for any key',
        [JSON.stringify([hash('b@example.com')]).slice(0, 64)]: 'row has 1 values for a schema of 2 keys',
      },
    });
    expect((await sandbox.audience(lapsedBuyersAudienceId)).size).toBe(1);
    expect(JSON.parse(answer.headers.get('x-business-use-case-usage') ?? '{}')).toMatchObject({
      [adAccountId]: [{ type: 'custom_audience', call_count: 0, estimated_time_to_regain_access: 0 }],
    });
  });

  it('should take the legacy single-key EMAIL_SHA256 schema with a flat list of hashes', async () => {
    const sandbox = await metaSandbox();
    const answer = await sandbox.graph('POST', `/${lapsedBuyersAudienceId}/users`, {
      payload: { schema: 'EMAIL_SHA256', data: [hash('a@example.com'), hash('b@example.com')] },
      session: session(1, true),
    });
    expect(answer.json).toMatchObject({ num_received: 2, num_invalid_entries: 0 });
    expect((await sandbox.audience(lapsedBuyersAudienceId)).members).toEqual([
      { EMAIL: hash('a@example.com') },
      { EMAIL: hash('b@example.com') },
    ]);
  });

  it('should refuse a request without a session, with an unknown key, or with more than 10,000 rows', async () => {
    const sandbox = await metaSandbox();
    const titleOf = async (body: unknown) =>
      (
        (await sandbox.graph('POST', `/${lapsedBuyersAudienceId}/users`, body)).json['error'] as {
          error_user_title: string;
        }
      ).error_user_title;
    const rows = (n: number) => Array.from({ length: n }, (_, i) => [hash(`${i}@example.com`)]);
    expect(await titleOf({ payload: { schema: ['EMAIL'], data: rows(1) } })).toBe('Missing Session');
    expect(
      await titleOf({
        payload: { schema: ['EMAIL', 'SHOE_SIZE'], data: rows(1) },
        session: session(1, true),
      }),
    ).toBe('Invalid Schema');
    expect(
      await titleOf({ payload: { schema: ['EMAIL'], data: rows(10_001) }, session: session(1, true) }),
    ).toBe('Too Many Users');
    expect((await sandbox.audience(lapsedBuyersAudienceId)).size).toBe(0);
  });

  it('should end a session at its last batch, and take a repeated batch without counting it twice', async () => {
    const sandbox = await metaSandbox();
    const part = (seq: number, last: boolean, email: string) =>
      sandbox.graph('POST', `/${lapsedBuyersAudienceId}/users`, {
        payload: { schema: ['EMAIL'], data: [[hash(email)]] },
        session: session(seq, last),
      });
    expect((await part(1, false, 'a@example.com')).status).toBe(200);
    expect((await part(2, true, 'b@example.com')).status).toBe(200);
    expect((await part(2, true, 'b@example.com')).status).toBe(200);
    const late = await part(3, true, 'c@example.com');
    expect(late.status).toBe(400);
    expect(late.json['error']).toMatchObject({ code: 100, error_user_title: 'Upload Session Finished' });
    const audience = await sandbox.audience(lapsedBuyersAudienceId);
    expect(audience.size).toBe(2);
    expect(audience.sessions).toMatchObject([{ id: '77', batches: [1, 2], finished: true, received: 2 }]);
  });
});

describe('the app budget the Conversions API spends', () => {
  const call = { method: 'POST' as const, endpoint: 'POST /{pixelId}/events', path: `/${pixelId}/events` };
  const answer = (percent: number) => ({
    status: 200,
    headers: { 'x-app-usage': JSON.stringify({ call_count: percent, total_cputime: 1, total_time: 1 }) },
  });

  it('should work out the real budget from X-App-Usage, erring low, and trust the configured one again at low usage', async () => {
    const budget = appBudget({ ...META_DEFAULT_LIMITS, appCallsPerHour: 1_000 });
    for (const percent of [10, 20, 30, 40]) {
      await budget.acquire(call, Date.now() + 1_000);
      budget.release(call, answer(percent));
    }
    // Four calls are 40 % (Meta rounds, so 39.5 to 40.5): a budget of 400 / 40.5, about 10.
    expect(budget.policy.max).toBe(10);
    budget.release(call, answer(100));
    expect(budget.policy.max).toBe(4);
    budget.release(call, answer(5));
    expect(budget.policy.max).toBe(1_000);
  });
});

describe("the Meta connector's writes within Meta's limits", () => {
  it('should pace Conversions API calls by X-App-Usage alone: 9 requests through a budget of 4 per window, none refused', async () => {
    const windowMs = 1_500;
    const sandbox = await metaSandbox({ appCallsPerHour: 4, writeWindowMs: windowMs });
    // The client believes in 1,000 calls per window: only Meta's usage header tells it otherwise.
    const meta = connect(sandbox.baseUrl, { limits: { writeWindowMs: windowMs } });
    const result = await meta.conversions.sendEvents(testRequest(30_000), pixelId, purchases(9_000));
    expect(result).toMatchObject({ received: 9_000, calls: 9 });
    expect(result.rows.filter((row) => row.status === 'accepted')).toHaveLength(9_000);
    expect(sandbox.statuses(EVENTS)).toEqual({ '200': 9 });
  });

  it('should stop uploading at the custom audience budget Meta reports, failing fast instead of being refused', async () => {
    const sandbox = await metaSandbox({ customAudienceCallsPerHour: 4 });
    const meta = connect(sandbox.baseUrl);
    const acknowledged: number[] = [];
    const people = Array.from({ length: 6_000 }, (_, i) => person(i));
    const error = await failureOf(
      meta.audiences.addUsers(testRequest(), lapsedBuyersAudienceId, people, {
        batchSize: 1_000,
        onBatch: ({ batchSeq }) => acknowledged.push(batchSeq),
      }),
    );
    expect(error.extensions).toMatchObject({
      code: 'UPSTREAM_RATE_LIMITED',
      upstreamCode: 'CLIENT_THROTTLE',
    });
    // Meta said when access comes back (a minute at least): the client says so too.
    expect(error.details.retryAfterSeconds).toBeGreaterThan(30);
    expect(acknowledged).toEqual([1, 2, 3, 4]);
    expect(sandbox.statuses(ADD_USERS)).toEqual({ '200': 4 });
    expect((await sandbox.audience(lapsedBuyersAudienceId)).size).toBe(4_000);
  });

  it('should share one circuit breaker between reads and writes', async () => {
    const sandbox = await metaSandbox({}, { errorRate: 1, errorStatus: 500 });
    const meta = connect(sandbox.baseUrl, { maxRetries: 0 });
    for (let i = 0; i < 5; i++)
      expect(
        (await failureOf(meta.conversions.sendEvents(testRequest(), pixelId, purchases(1)))).extensions,
      ).toMatchObject({
        code: 'UPSTREAM_ERROR',
        upstreamStatus: 500,
      });
    const read = await failureOf(meta.listCampaigns(testRequest()));
    expect(read.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', upstreamCode: 'CIRCUIT_OPEN' });
    expect(sandbox.statuses(EVENTS)).toEqual({ '500': 5 });
  });
});
