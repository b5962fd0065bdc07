import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { actionKey } from '../../events/actions/runner.js';
import { openSqliteActionOutbox } from '../../events/actions/outbox-sqlite.js';
import { needsCustomer } from '../../events/routing.js';
import { ConfigError } from '../../lib/config/env.js';
import { createLogger } from '../../lib/logger.js';
import { sha256Hex } from '../../platforms/meta/client/hashing.js';
import { META_DEMO } from '../../platforms/meta/demo.js';
import type { PixelSnapshot } from '../../platforms/meta/sandbox/pixels.js';
import { toE164 } from '../../platforms/twilio/client/records.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import type { Customer } from '../../sandboxes/world/world.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox.js';
import { textFrom } from '../helpers/twilio.js';
import { scratch, startActions, storedEvent, type RunningActions } from './actions-helpers.js';

const { pixelId } = META_DEMO.assets;
const META_EVENTS = 'POST /{version}/{pixelId}/events';
const MAILCHIMP_TAGS = 'POST /3.0/lists/{listId}/members/{subscriberHash}/tags';
const MAILCHIMP_PUT = 'PUT /3.0/lists/{listId}/members/{subscriberHash}';
const HUBSPOT_UPDATE = 'POST /crm/v3/objects/contacts/batch/update';
const TWILIO_SEND = 'POST /2010-04-01/Accounts/{AccountSid}/Messages.json';
const md5 = (text: string) => createHash('md5').update(text.toLowerCase()).digest('hex');

const files = scratch();
afterAll(() => files.cleanup());

const RULES = `
rules:
  - name: big orders
    when: { types: [ORDER_PLACED], orderTotalAtLeast: '200.00' }
    actions:
      - { platform: meta, type: conversion, event: Purchase, pixelId: '${pixelId}' }
  - name: tag buyers
    when: { types: [CUSTOMER_CREATED] }
    actions:
      - { platform: mailchimp, type: add-tags, tags: [Buyer, Web] }
      - { platform: mailchimp, type: upsert-member, statusIfNew: TRANSACTIONAL }
  - name: unsubscribes
    when: { types: [EMAIL_UNSUBSCRIBED] }
    actions:
      - { platform: hubspot, type: update-contact, properties: { hs_lead_status: BAD_TIMING, order_count: 3 } }
  - name: thank by text
    when: { types: [SMS_RECEIVED] }
    actions:
      - { platform: twilio, type: send-sms, template: 'Thanks {{firstName}}, reply STOP to opt out.' }
`;

describe('routing rules with actions', () => {
  it('should name the rule and the field of a bad action, and list the kinds there are', () => {
    let error: unknown;
    try {
      files.rules(
        [
          'rules:',
          '  - name: tagging',
          '    when: { types: [ORDER_PLACED] }',
          '    actions:',
          '      - { platform: mailchimp, type: add-tags, tags: [] }',
          '      - { platform: mailchimp, type: add-tag, tags: [x] }',
          '      - { platform: meta, type: conversion, event: Purchase, pixelId: act_1 }',
          '  - name: nothing to do',
          '    when: { types: [ORDER_PLACED] }',
        ].join('\n'),
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/rules\[0\] \(name "tagging"\)\.actions\.0\.tags: .*>=1/);
    expect(problems[1]).toMatch(
      /rules\[0\] \(name "tagging"\)\.actions\.1\.type: no action mailchimp\/add-tag; expected one of .*mailchimp\/add-tags/,
    );
    expect(problems[2]).toMatch(
      /rules\[0\] \(name "tagging"\)\.actions\.2\.pixelId: expected the pixel's numeric id/,
    );
    expect(problems[3]).toMatch(
      /rules\[1\] \(name "nothing to do"\): a rule needs a channel, actions, or both/,
    );
  });
});

describe('customer reads for actions', () => {
  it("should read the customer when a CRM action's event names only an email, and not for a pixel action", () => {
    const rules = files.rules(RULES);
    const unsubscribe = (customer: { id?: string; email?: string }) =>
      storedEvent({ id: 'ev-1', type: 'EMAIL_UNSUBSCRIBED', source: 'mailchimp', customer });
    expect(needsCustomer(rules, unsubscribe({ email: 'a@example.com' }))).toBe(true);
    expect(needsCustomer(rules, unsubscribe({ id: '42', email: 'a@example.com' }))).toBe(false);
    const bigOrder = storedEvent({
      id: 'ev-2',
      type: 'ORDER_PLACED',
      customer: { email: 'a@example.com' },
      properties: { totalPrice: '900.00' },
    });
    expect(needsCustomer(rules, bigOrder)).toBe(false);
  });
});

describe('the action outbox (SQLite)', () => {
  it('should record an action once per (rule, action, event), and keep it across a reopen', async () => {
    const file = files.file('outbox-once.db');
    const outbox = openSqliteActionOutbox({ file });
    const action = {
      key: actionKey('big orders', 0, 'evt-1'),
      rule: 'big orders',
      platform: 'meta',
      type: 'conversion',
      params: { event: 'Purchase' },
      event: { ...storedEvent({ id: 'evt-1', type: 'ORDER_PLACED' }), customer: null },
    };
    expect(await outbox.enqueue([action])).toBe(1);
    expect(await outbox.enqueue([action])).toBe(0);
    await outbox.close();
    const reopened = openSqliteActionOutbox({ file });
    expect((await reopened.list()).map((a) => [a.key, a.status, a.attempts])).toEqual([
      [action.key, 'pending', 0],
    ]);
    await reopened.close();
  });

  it('should requeue an idempotent action found under way after a crash, and fail a send with ACTION_OUTCOME_UNKNOWN', async () => {
    const outbox = openSqliteActionOutbox({ file: files.file('outbox-crash.db') });
    const event = { ...storedEvent({ id: 'evt-2', type: 'ORDER_PLACED' }), customer: null };
    await outbox.enqueue([
      { key: 'a', rule: 'r', platform: 'meta', type: 'conversion', params: {}, event },
      { key: 'b', rule: 'r', platform: 'twilio', type: 'send-sms', params: {}, event },
    ]);
    expect(await outbox.claim('meta', 'conversion', 10, Date.now())).toHaveLength(1);
    expect(await outbox.claim('twilio', 'send-sms', 10, Date.now())).toHaveLength(1);
    // The process dies here: both are `sending`, and nothing says whether the calls arrived.
    const recovered = await outbox.recover((platform) => platform === 'meta', Date.now());
    expect(recovered.requeued).toBe(1);
    expect(recovered.unknown.map((a) => a.key)).toEqual(['b']);
    expect(await outbox.get('a')).toMatchObject({ status: 'pending', attempts: 1 });
    expect(await outbox.get('b')).toMatchObject({ status: 'failed', code: 'ACTION_OUTCOME_UNKNOWN' });
    await outbox.close();
  });
});

describe('actions against the platform sandboxes over HTTP', () => {
  let meta: RunningSandbox;
  let mailchimp: RunningSandbox;
  let hubspot: RunningSandbox;
  let twilio: RunningSandbox;
  let running: RunningActions | undefined;
  let n = 0;
  const pixel = async (): Promise<PixelSnapshot> =>
    (await fetch(`${meta.origin}/__sandbox/meta/pixels/${pixelId}/events`)).json() as Promise<PixelSnapshot>;
  const start = async (overrides: Parameters<typeof startActions>[0]['runner'] = {}) => {
    running = await startActions({
      file: files.file(`runner-${n++}.db`),
      rules: files.rules(RULES),
      origins: {
        meta: meta.origin,
        mailchimp: mailchimp.origin,
        hubspot: hubspot.origin,
        twilio: twilio.origin,
      },
      runner: overrides,
    });
    return running;
  };

  beforeAll(async () => {
    [meta, mailchimp, hubspot, twilio] = await Promise.all([
      startSandbox('meta', { customers: 50 }),
      startSandbox('mailchimp', { customers: 200 }),
      startSandbox('hubspot', { customers: 200 }),
      startSandbox('twilio', { customers: 200 }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([meta, mailchimp, hubspot, twilio].map((s) => s.close()));
  });
  beforeEach(async () => {
    await running?.stop();
    running = undefined;
    for (const sandbox of [meta, mailchimp, hubspot, twilio]) {
      await sandbox.setFaults({});
      await sandbox.clearRequests();
    }
  });
  afterAll(async () => {
    await running?.stop();
  });

  const order = (id: string, total: string, email: string) =>
    storedEvent({
      id,
      type: 'ORDER_PLACED',
      customer: { email, id: `crm-${id}` },
      properties: {
        orderId: Number(id.replace(/\D/g, '')),
        name: `#${id}`,
        totalPrice: total,
        currency: 'EUR',
      },
    });

  it('should send high-value orders to the pixel as Purchases in one batch, hashed, with the order id as event_id', async () => {
    const actions = await start({ lingerMs: 200 });
    await actions.runner.accept(order('ev-101', '250.00', ' Ada@Example.com '), null);
    await actions.runner.accept(order('ev-102', '199.99', 'low@example.com'), null);
    await actions.runner.accept(
      { ...order('ev-103', '900.00', 'grace@example.com'), personal: { phone: '+1 (212) 555-0100' } },
      null,
    );
    const settled = await actions.settled();
    expect(settled.map((a) => [a.event.id, a.status, a.detail])).toEqual([
      ['ev-101', 'done', 'order-101'],
      ['ev-103', 'done', 'order-103'],
    ]);
    const sent = await meta.requests(META_EVENTS);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ status: 200, path: `/v25.0/${pixelId}/events` });
    const data = (sent[0]!.body as { data: Record<string, unknown>[] }).data;
    expect(data).toEqual([
      {
        event_name: 'Purchase',
        event_time: Math.floor(Date.parse(settled[0]!.event.occurredAt) / 1000),
        event_id: 'order-101',
        action_source: 'system_generated',
        user_data: { em: sha256Hex('ada@example.com'), external_id: sha256Hex('crm-ev-101') },
        custom_data: { value: 250, currency: 'EUR', order_id: '101' },
      },
      {
        event_name: 'Purchase',
        event_time: Math.floor(Date.parse(settled[1]!.event.occurredAt) / 1000),
        event_id: 'order-103',
        action_source: 'system_generated',
        user_data: {
          em: sha256Hex('grace@example.com'),
          ph: sha256Hex('12125550100'),
          external_id: sha256Hex('crm-ev-103'),
        },
        custom_data: { value: 900, currency: 'EUR', order_id: '103' },
      },
    ]);
  });

  it('should send 1,001 purchases in two requests: 1,000, the most Meta takes, then 1', async () => {
    const actions = await start({ lingerMs: 2_000 });
    for (let i = 0; i < 1_001; i++)
      await actions.runner.accept(
        order(`ev-9${String(i).padStart(4, '0')}`, '250.00', `b${i}@example.com`),
        null,
      );
    const settled = await actions.settled();
    expect(settled.filter((a) => a.status === 'done')).toHaveLength(1_001);
    const sent = await meta.requests(META_EVENTS);
    expect(sent.map((r) => (r.body as { data: unknown[] }).data.length)).toEqual([1_000, 1]);
  });

  it('should record an event processed twice once, and count it once at Meta when a crash makes it send again', async () => {
    const file = files.file('meta-crash.db');
    const rules = files.rules(RULES);
    const first = await startActions({ file, rules, origins: { meta: meta.origin } });
    const event = order('ev-201', '300.00', 'twice@example.com');
    expect(await first.runner.accept(event, null)).toBe(1);
    expect(await first.runner.accept(event, null)).toBe(0);
    expect((await first.settled()).map((a) => a.status)).toEqual(['done']);
    await first.stop();
    const before = await pixel();
    // The crash: Meta acknowledged the call, but the process died before the outbox recorded it.
    const db = new Database(file);
    db.prepare(`UPDATE action_outbox SET status = 'sending', detail = NULL`).run();
    db.close();
    running = await startActions({ file, rules, origins: { meta: meta.origin } });
    const [action] = await running.settled();
    expect(action).toMatchObject({ status: 'done', attempts: 2 });
    const after = await pixel();
    expect(after.received - before.received).toBe(1);
    expect(after.kept - before.kept).toBe(0);
    expect(after.duplicates - before.duplicates).toBe(1);
    const ids = (await meta.requests(META_EVENTS)).map((r) =>
      (r.body as { data: { event_id: string }[] }).data.map((e) => e.event_id),
    );
    expect(ids).toEqual([['order-201'], ['order-201']]);
  });

  it("should retry after Meta's 429 with backoff and send the same events again", async () => {
    await meta.setFaults({ rateLimitRate: 1, remaining: 1, retryAfterSeconds: 0, endpoints: [META_EVENTS] });
    const actions = await start();
    await actions.runner.accept(order('ev-301', '500.00', 'retry@example.com'), null);
    const [action] = await actions.settled();
    expect(action).toMatchObject({ status: 'done', attempts: 2 });
    const sent = await meta.requests(META_EVENTS);
    // Meta answers throttling with HTTP 400 and a throttling code, which the client reads as a 429.
    expect(sent.map((r) => r.status)).toEqual([400, 200]);
    expect(sent[1]!.body).toEqual(sent[0]!.body);
  });

  it("should retry after Mailchimp's 429 and tag the member once it is let through", async () => {
    const email = mailchimp.world.customers.filter((c) => c.audience?.status === 'subscribed')[1]!.person
      .email;
    await mailchimp.setFaults({
      rateLimitRate: 1,
      remaining: 1,
      retryAfterSeconds: 0,
      endpoints: [MAILCHIMP_TAGS],
    });
    const actions = await start();
    await actions.runner.accept(
      storedEvent({ id: 'ev-351', type: 'CUSTOMER_CREATED', customer: { email } }),
      null,
    );
    const settled = await actions.settled();
    expect(settled.map((a) => [a.type, a.status, a.attempts])).toEqual([
      ['add-tags', 'done', 2],
      ['upsert-member', 'done', 1],
    ]);
    expect((await mailchimp.requests(MAILCHIMP_TAGS)).map((r) => r.status)).toEqual([429, 204]);
  });

  it('should record a permanent 4xx as a failed action with its code, without retrying it', async () => {
    await meta.setFaults({ errorRate: 1, errorStatus: 400, remaining: 1, endpoints: [META_EVENTS] });
    const lines: string[] = [];
    const logger = createLogger({
      name: 'actions',
      level: 'info',
      destination: { write: (l) => lines.push(l) },
    });
    const actions = await start({ logger });
    await actions.runner.accept(order('ev-401', '500.00', 'refused@example.com'), null);
    const [action] = await actions.settled();
    expect(action).toMatchObject({ status: 'failed', attempts: 1 });
    expect(action!.code).toMatch(/^UPSTREAM_/);
    expect(await meta.requests(META_EVENTS)).toHaveLength(1);
    const failures = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l['code'] === 'ACTION_FAILED');
    expect(failures).toEqual([
      expect.objectContaining({
        actionCode: action!.code,
        rule: 'big orders',
        platform: 'meta',
        type: 'conversion',
        eventId: 'ev-401',
        action: actionKey('big orders', 0, 'ev-401'),
      }),
    ]);
    expect(lines.join('\n')).not.toContain('refused@example.com');
  });

  it("should tag a new customer's member and upsert them into the audience, as Mailchimp's API asks", async () => {
    const member: Customer = mailchimp.world.customers.find((c) => c.audience?.status === 'subscribed')!;
    const email = member.person.email;
    const actions = await start();
    await actions.runner.accept(
      storedEvent({ id: 'ev-501', type: 'CUSTOMER_CREATED', customer: { email: email.toUpperCase() } }),
      null,
    );
    const settled = await actions.settled();
    expect(settled.map((a) => [a.type, a.status])).toEqual([
      ['add-tags', 'done'],
      ['upsert-member', 'done'],
    ]);
    const tags = await mailchimp.requests(MAILCHIMP_TAGS);
    expect(tags).toHaveLength(1);
    expect(tags[0]).toMatchObject({
      status: 204,
      path: `/3.0/lists/${DEMO_CREDENTIALS.mailchimp.listId}/members/${md5(email)}/tags`,
      body: {
        tags: [
          { name: 'Buyer', status: 'active' },
          { name: 'Web', status: 'active' },
        ],
      },
    });
    const puts = await mailchimp.requests(MAILCHIMP_PUT);
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({
      status: 200,
      body: { email_address: email.toUpperCase(), status_if_new: 'transactional' },
    });
  });

  it('should set contact properties for several unsubscribes in one HubSpot batch update', async () => {
    const [a, b] = hubspot.world.customers.slice(0, 2);
    const actions = await start({ lingerMs: 200 });
    for (const [i, c] of [a!, b!].entries())
      await actions.runner.accept(
        storedEvent({
          id: `ev-60${i}`,
          type: 'EMAIL_UNSUBSCRIBED',
          source: 'mailchimp',
          customer: { email: c.person.email },
        }),
        // The processor's customer context completes the reference with the CRM id.
        { id: c.crm.id, email: c.person.email, lifecycleStage: 'CUSTOMER', lists: [], lifetimeValue: null },
      );
    const settled = await actions.settled();
    expect(settled.map((s) => s.status)).toEqual(['done', 'done']);
    const sent = await hubspot.requests(HUBSPOT_UPDATE);
    expect(sent).toHaveLength(1);
    expect((sent[0]!.body as { inputs: unknown[] }).inputs).toEqual([
      {
        id: a!.crm.id,
        properties: { hs_lead_status: 'BAD_TIMING', order_count: '3' },
        objectWriteTraceId: '0',
      },
      {
        id: b!.crm.id,
        properties: { hs_lead_status: 'BAD_TIMING', order_count: '3' },
        objectWriteTraceId: '1',
      },
    ]);
  });

  it('should text only numbers that opted in, honouring a STOP sent after a START', async () => {
    const phones = [
      ...new Set(twilio.world.customers.map((c) => toE164(c.person.phone)).filter((p): p is string => !!p)),
    ];
    const [optedIn, stopped, silent] = phones.slice(-3);
    textFrom(twilio.world, optedIn!, 'START', Date.now() - 60_000);
    textFrom(twilio.world, stopped!, 'START', Date.now() - 60_000);
    textFrom(twilio.world, stopped!, 'STOP', Date.now() - 30_000);
    const actions = await start();
    for (const [i, phone] of [optedIn!, stopped!, silent!].entries())
      await actions.runner.accept(
        storedEvent({
          id: `ev-70${i}`,
          type: 'SMS_RECEIVED',
          source: 'twilio',
          personal: { phone, firstName: 'Ada' },
        }),
        null,
      );
    const settled = await actions.settled();
    expect(settled.map((a) => [a.event.id, a.status, a.code])).toEqual([
      ['ev-700', 'done', null],
      ['ev-701', 'failed', 'SMS_OPTED_OUT'],
      ['ev-702', 'failed', 'SMS_NO_CONSENT'],
    ]);
    expect(settled[0]!.detail).toMatch(/^SM[0-9a-f]{32}$/);
    const sent = await twilio.requests(TWILIO_SEND);
    expect(sent).toHaveLength(1);
    const form = Object.fromEntries(new URLSearchParams(sent[0]!.body as string));
    expect(form).toEqual({ To: optedIn, Body: 'Thanks Ada, reply STOP to opt out.', From: '+15005550006' });
  });

  it('should retry a send whose consent could not be read (nothing was sent), and text once it can', async () => {
    const phone = toE164(twilio.world.customers.at(-5)!.person.phone)!;
    textFrom(twilio.world, phone, 'START', Date.now() - 60_000);
    await twilio.setFaults({
      errorRate: 1,
      errorStatus: 500,
      remaining: 1,
      endpoints: ['GET /2010-04-01/Accounts/{AccountSid}/Messages.json'],
    });
    const actions = await start();
    await actions.runner.accept(
      storedEvent({
        id: 'ev-750',
        type: 'SMS_RECEIVED',
        source: 'twilio',
        personal: { phone, firstName: 'Ada' },
      }),
      null,
    );
    const [action] = await actions.settled();
    expect(action).toMatchObject({ status: 'done', attempts: 2 });
    expect(await twilio.requests(TWILIO_SEND)).toHaveLength(1);
  });

  it('should never send an SMS twice: a send found under way after a crash is failed, not repeated', async () => {
    const phone = toE164(twilio.world.customers.at(-4)!.person.phone)!;
    textFrom(twilio.world, phone, 'START', Date.now() - 60_000);
    const file = files.file('crash-sms.db');
    const outbox = openSqliteActionOutbox({ file });
    const rules = files.rules(RULES);
    const event = storedEvent({
      id: 'ev-801',
      type: 'SMS_RECEIVED',
      source: 'twilio',
      personal: { phone, firstName: 'Ada' },
    });
    await outbox.enqueue([
      {
        key: actionKey('thank by text', 0, 'ev-801'),
        rule: 'thank by text',
        platform: 'twilio',
        type: 'send-sms',
        params: rules[3]!.actions![0]!.params,
        event: { ...event, customer: null },
      },
    ]);
    // The idempotency record is written (claimed, `sending`); the process dies before recording more.
    await outbox.claim('twilio', 'send-sms', 1, Date.now());
    await outbox.close();
    const actions = await startActions({ file, rules, origins: { twilio: twilio.origin } });
    running = actions;
    const [action] = await actions.settled();
    expect(action).toMatchObject({ status: 'failed', code: 'ACTION_OUTCOME_UNKNOWN', attempts: 1 });
    expect(await twilio.requests(TWILIO_SEND)).toHaveLength(0);
  });
});

describe("the README's actions", () => {
  it("should show the demo's high-value rule as the demo file has it", () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('**Actions.**'));
    const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    const shown = files.rules(`rules:\n${block ?? ''}`);
    const demo = files.rules(readFileSync('events/demo-routing.yaml', 'utf8'));
    expect(shown).toHaveLength(1);
    expect(demo.find((rule) => rule.name === shown[0]!.name)).toEqual(shown[0]);
  });
});
