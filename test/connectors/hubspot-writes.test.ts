import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HubSpotConnector, type HubSpotSettings } from '../../platforms/hubspot/client/connector.js';
import { createHubSpotSandbox } from '../../platforms/hubspot/sandbox/index.js';
import { UpstreamError } from '../../lib/errors.js';
import { listen } from '../../lib/server/listen.js';
import { writeFailure } from '../../lib/upstream/writes.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { createSandboxServer } from '../../sandboxes/kit/server.js';
import type { Customer } from '../../sandboxes/world/world.js';
import { silentLogger, testRequest } from '../helpers/context.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox.js';

const { accessToken } = DEMO_CREDENTIALS.hubspot;
const ENDPOINT = {
  update: 'POST /crm/v3/objects/contacts/batch/update',
  upsert: 'POST /crm/v3/objects/contacts/batch/upsert',
  note: 'POST /crm/v3/objects/notes',
} as const;

describe('HubSpot connector writes against the HubSpot sandbox', () => {
  let sandbox: RunningSandbox;
  let hubspot: HubSpotConnector;
  let pool: Customer[];
  /** Customers handed out one test at a time, so no two tests write the same contact. */
  const take = (n: number, where: (c: Customer) => boolean = () => true): Customer[] => {
    const picked = pool.filter(where).slice(0, n);
    if (picked.length < n) throw new Error('the seeded world has too few customers left for this test');
    pool = pool.filter((c) => !picked.includes(c));
    return picked;
  };
  const connect = (overrides: Partial<HubSpotSettings> = {}) =>
    new HubSpotConnector({
      baseUrl: sandbox.baseUrl,
      accessToken,
      accountId: 'portal-writes',
      timeoutMs: 5_000,
      maxRetries: 2,
      ...overrides,
    });
  const raw = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${sandbox.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${accessToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const propertiesOf = async (id: string, names: string[]) =>
    (await raw('GET', `/crm/v3/objects/contacts/${id}?properties=${names.join(',')}`)).body['properties'];

  beforeAll(async () => {
    sandbox = await startSandbox('hubspot', { customers: 300 });
    hubspot = connect();
    pool = [...sandbox.world.customers];
  });
  afterAll(async () => {
    await hubspot.close();
    await sandbox.close();
  });
  beforeEach(async () => {
    await sandbox.setFaults({});
    await sandbox.resetStats();
    await sandbox.clearRequests();
  });

  describe('batchUpdateContacts', () => {
    it('should write properties by id in one call and answer each input: written, or rejected with its reason', async () => {
      const [a, b, c, d] = take(4, (x) => x.crm.lifecycleStage === 'lead');
      const rows = await hubspot.writes.batchUpdateContacts(testRequest(), [
        {
          id: a!.crm.id,
          properties: { lifecyclestage: 'customer', total_revenue: 1234.5, last_order_date: '2026-11-20' },
        },
        { id: '999999999', properties: { total_revenue: 1 } },
        { id: b!.crm.id, properties: { favourite_colour: 'green', lifecyclestage: 'champion' } },
        { id: c!.crm.id, properties: { order_count: 'several' } },
        { id: d!.crm.id, properties: { firstname: 'Dana', hs_lead_status: 'OPEN' } },
      ]);
      expect(rows).toEqual([
        { status: 'accepted', key: a!.crm.id, change: 'updated', id: a!.crm.id },
        {
          status: 'rejected',
          key: '999999999',
          code: 'OBJECT_NOT_FOUND',
          reason: 'Object not found.  objectId are usually numeric.',
          retryable: false,
        },
        {
          status: 'rejected',
          key: b!.crm.id,
          code: 'PROPERTY_DOESNT_EXIST',
          reason: expect.stringMatching(
            /^Property "favourite_colour" does not exist; champion was not one of the allowed options: \[subscriber, lead,/,
          ) as string,
          retryable: false,
        },
        {
          status: 'rejected',
          key: c!.crm.id,
          code: 'INVALID_DECIMAL',
          reason: 'several was not a valid number.',
          retryable: false,
        },
        { status: 'accepted', key: d!.crm.id, change: 'updated', id: d!.crm.id },
      ]);

      const sent = await sandbox.requests(ENDPOINT.update);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({ status: 207 });
      expect((sent[0]!.body as { inputs: unknown[] }).inputs[0]).toEqual({
        id: a!.crm.id,
        properties: { lifecyclestage: 'customer', total_revenue: '1234.5', last_order_date: '2026-11-20' },
        objectWriteTraceId: '0',
      });

      // Reads see the writes; the rejected inputs changed nothing.
      expect(await hubspot.getContact(testRequest(), { by: 'id', id: a!.crm.id })).toMatchObject({
        lifecycleStage: 'CUSTOMER',
      });
      expect(await propertiesOf(a!.crm.id, ['total_revenue', 'last_order_date'])).toMatchObject({
        total_revenue: '1234.5',
        last_order_date: '2026-11-20',
      });
      expect(b!.crm.lifecycleStage).toBe('lead');
      expect(d!.crm).toMatchObject({ leadStatus: 'OPEN', properties: { firstname: 'Dana' } });
      // The CRM's copy of the name changed, not the person's name in the other systems.
      expect(d!.person.firstName).not.toBe('Dana');
      expect(await hubspot.getContact(testRequest(), { by: 'id', id: d!.crm.id })).toMatchObject({
        firstName: 'Dana',
      });
    });

    it('should refuse more than 100 inputs or a repeated id before calling HubSpot', async () => {
      const many = Array.from({ length: 101 }, (_, i) => ({ id: String(i), properties: {} }));
      await expect(hubspot.writes.batchUpdateContacts(testRequest(), many)).rejects.toThrow(
        /at most 100 inputs, got 101/,
      );
      await expect(
        hubspot.writes.batchUpdateContacts(testRequest(), [
          { id: '10000', properties: {} },
          { id: '10000', properties: {} },
        ]),
      ).rejects.toThrow(/each contact once/);
      expect(await hubspot.writes.batchUpdateContacts(testRequest(), [])).toEqual([]);
      expect((await sandbox.stats()).total).toBe(0);
    });
  });

  describe('batchUpsertContactsByEmail', () => {
    it('should update the contacts an address finds, create the others, and reject invalid addresses', async () => {
      const [existing] = take(1);
      const before = sandbox.world.customers.length;
      const rows = await hubspot.writes.batchUpsertContactsByEmail(testRequest(), [
        { email: existing!.person.email.toUpperCase(), properties: { lifetime_value: 310, order_count: 4 } },
        { email: 'Brand.New@Example.com', properties: { firstname: 'Brand', lifetime_value: 20 } },
        { email: 'no-at-sign.example.com', properties: {} },
      ]);
      const created = sandbox.world.customers.at(-1)!;
      expect(rows).toEqual([
        { status: 'accepted', key: existing!.person.email, change: 'updated', id: existing!.crm.id },
        { status: 'accepted', key: 'brand.new@example.com', change: 'created', id: created.crm.id },
        {
          status: 'rejected',
          key: 'no-at-sign.example.com',
          code: 'INVALID_EMAIL',
          reason: 'Email address no-at-sign.example.com is invalid',
          retryable: false,
        },
      ]);
      expect(sandbox.world.customers).toHaveLength(before + 1);
      expect(created).toMatchObject({
        person: { email: 'brand.new@example.com', firstName: 'Brand' },
        crm: { properties: { lifetime_value: '20' } },
      });
      expect((await sandbox.requests(ENDPOINT.upsert))[0]).toMatchObject({
        status: 207,
        body: {
          inputs: [
            {
              idProperty: 'email',
              id: existing!.person.email,
              properties: { email: existing!.person.email, lifetime_value: '310', order_count: '4' },
              objectWriteTraceId: '0',
            },
            expect.anything(),
            expect.anything(),
          ],
        },
      });
      expect(
        await hubspot.getContact(testRequest(), { by: 'email', email: 'brand.new@example.com' }),
      ).toMatchObject({ id: created.crm.id, firstName: 'Brand', lifecycleStage: 'SUBSCRIBER' });
      expect(await propertiesOf(existing!.crm.id, ['lifetime_value', 'order_count'])).toMatchObject({
        lifetime_value: '310',
        order_count: '4',
      });
      // A second identical upsert creates nothing: the write is idempotent.
      const again = await hubspot.writes.batchUpsertContactsByEmail(testRequest(), [
        { email: 'brand.new@example.com', properties: { lifetime_value: 20 } },
      ]);
      expect(again).toEqual([
        { status: 'accepted', key: 'brand.new@example.com', change: 'updated', id: created.crm.id },
      ]);
      expect(sandbox.world.customers).toHaveLength(before + 1);
    });
  });

  describe('createNote', () => {
    it('should add a note associated to the contact with type 202, readable back', async () => {
      const [contact] = take(1);
      const timestamp = new Date('2026-11-27T10:00:00.000Z');
      const row = await hubspot.writes.createNote(testRequest(), {
        contactId: contact!.crm.id,
        body: 'Placed a high-value order (#1042, $640).',
        timestamp,
      });
      expect(row).toEqual({
        status: 'accepted',
        key: contact!.crm.id,
        change: 'created',
        id: expect.any(String),
      });
      expect(await sandbox.requests(ENDPOINT.note)).toMatchObject([
        {
          status: 201,
          body: {
            properties: {
              hs_timestamp: '2026-11-27T10:00:00.000Z',
              hs_note_body: 'Placed a high-value order (#1042, $640).',
            },
            associations: [
              {
                to: { id: contact!.crm.id },
                types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 202 }],
              },
            ],
          },
        },
      ]);
      const read = await raw(
        'GET',
        `/crm/v3/objects/notes/${row.status === 'accepted' ? row.id : ''}?associations=contacts`,
      );
      expect(read.body).toMatchObject({
        properties: {
          hs_note_body: 'Placed a high-value order (#1042, $640).',
          hs_timestamp: timestamp.toISOString(),
        },
        associations: { contacts: { results: [{ id: contact!.crm.id, type: 'note_to_contact' }] } },
      });
    });

    it('should reject a note for a contact that does not exist', async () => {
      const row = await hubspot.writes.createNote(testRequest(), {
        contactId: '424242',
        body: 'x',
        timestamp: new Date(),
      });
      expect(row).toEqual({
        status: 'rejected',
        key: '424242',
        code: 'VALIDATION_ERROR',
        reason: 'One or more associations are invalid: no contact has id 424242.',
        retryable: false,
      });
    });

    it('should send a note once and never retry it: a 500 is an ambiguous failure', async () => {
      const [contact] = take(1);
      await sandbox.setFaults({ errorRate: 1, errorStatus: 500, endpoints: [ENDPOINT.note], remaining: 1 });
      const error = await hubspot.writes
        .createNote(testRequest(), { contactId: contact!.crm.id, body: 'once', timestamp: new Date() })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UpstreamError);
      expect(writeFailure(error as UpstreamError)).toBe('ambiguous');
      expect((await sandbox.requests(ENDPOINT.note)).map((r) => r.status)).toEqual([500]);
    });

    it('should retry an idempotent batch write after a 500 and record both attempts', async () => {
      const [contact] = take(1);
      await sandbox.setFaults({ errorRate: 1, errorStatus: 500, endpoints: [ENDPOINT.update], remaining: 1 });
      const rows = await hubspot.writes.batchUpdateContacts(testRequest(), [
        { id: contact!.crm.id, properties: { order_count: 2 } },
      ]);
      expect(rows[0]).toMatchObject({ status: 'accepted' });
      expect((await sandbox.requests(ENDPOINT.update)).map((r) => r.status)).toEqual([500, 200]);
    });
  });

  describe('the sandbox checks requests as HubSpot does', () => {
    it('should answer more than 100 inputs with a 400 VALIDATION_ERROR body, and record it', async () => {
      const inputs = Array.from({ length: 101 }, (_, i) => ({ id: String(10_000 + i * 17), properties: {} }));
      const response = await raw('POST', '/crm/v3/objects/contacts/batch/update', { inputs });
      expect(response).toEqual({
        status: 400,
        body: {
          status: 'error',
          message: 'Batch input limit is 100, got 101',
          correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
          category: 'VALIDATION_ERROR',
        },
      });
      expect((await sandbox.requests(ENDPOINT.update)).map((r) => r.status)).toEqual([400]);
    });

    it('should refuse repeated ids and an id property that is not unique', async () => {
      const repeated = await raw('POST', '/crm/v3/objects/contacts/batch/upsert', {
        inputs: [
          { idProperty: 'email', id: 'same@example.com', properties: {} },
          { idProperty: 'email', id: 'SAME@example.com', properties: {} },
        ],
      });
      expect(repeated.status).toBe(400);
      expect(repeated.body['message']).toMatch(/^Duplicate IDs found in batch input/);
      const byName = await raw('POST', '/crm/v3/objects/contacts/batch/upsert', {
        inputs: [{ idProperty: 'firstname', id: 'Ann', properties: {} }],
      });
      expect(byName.body).toMatchObject({
        category: 'VALIDATION_ERROR',
        message: 'Unable to perform update/upsert by non-unique 0-1 property: firstname',
      });
    });

    it('should fail the whole batch and write nothing when inputs carry no objectWriteTraceId', async () => {
      const [good] = take(1, (x) => x.crm.lifecycleStage === 'subscriber');
      const response = await raw('POST', '/crm/v3/objects/contacts/batch/update', {
        inputs: [
          { id: good!.crm.id, properties: { lifecyclestage: 'lead' } },
          { id: good!.crm.id === '10000' ? '10017' : '10000', properties: { email: 'not-an-email' } },
        ],
      });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        status: 'error',
        category: 'VALIDATION_ERROR',
        message: expect.stringMatching(/^Property values were not valid: /) as string,
        errors: [{ code: 'INVALID_EMAIL', context: { propertyName: ['email'] } }],
      });
      expect(good!.crm.lifecycleStage).toBe('subscriber');
    });

    it('should answer a note without hs_timestamp, or with a foreign association type, with a 400', async () => {
      const [contact] = take(1);
      const noTime = await raw('POST', '/crm/v3/objects/notes', { properties: { hs_note_body: 'x' } });
      expect(noTime.status).toBe(400);
      expect(noTime.body).toMatchObject({ errors: [{ code: 'REQUIRED_PROPERTY' }] });
      const wrongType = await raw('POST', '/crm/v3/objects/notes', {
        properties: { hs_timestamp: '2026-11-27T10:00:00Z' },
        associations: [
          {
            to: { id: contact!.crm.id },
            types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 1 }],
          },
        ],
      });
      expect(wrongType.status).toBe(400);
      expect(wrongType.body['message']).toMatch(/association type 1 is not valid from a note to a contact/);
    });
  });

  describe('limits shared with reads', () => {
    it('should keep background writes inside the ten-second window with room left for a read, and send no 429', async () => {
      const limited = createSandboxServer(
        createHubSpotSandbox({ world: sandbox.world, accessToken, tenSecondLimit: 10 }),
        {
          logger: silentLogger,
        },
      );
      const listening = await listen(limited.server, 0, '127.0.0.1');
      const writer = new HubSpotConnector({
        baseUrl: listening.origin,
        accessToken,
        accountId: 'window',
        timeoutMs: 5_000,
        maxRetries: 0,
        limits: { per10s: 10 },
      });
      const ids = take(12).map((c) => c.crm.id);
      try {
        // Twelve batch calls, each one call against the window whatever its size.
        const outcomes = await Promise.all(
          ids.map((id) =>
            writer.writes
              .batchUpdateContacts(testRequest(2_000), [{ id, properties: { order_count: 1 } }])
              .then(
                () => 'written',
                (e: UpstreamError) => `${e.details.upstreamCode}/${writeFailure(e)}`,
              ),
          ),
        );
        // Background calls leave one slot in ten to reads; the rest cannot start before their deadline.
        expect(outcomes.filter((o) => o === 'written')).toHaveLength(9);
        expect(outcomes.filter((o) => o === 'CLIENT_THROTTLE/not-applied')).toHaveLength(3);
        // The read still gets the reserved slot at once.
        expect(await writer.getContact(testRequest(2_000), { by: 'id', id: ids[0]! })).toMatchObject({
          id: ids[0],
        });
        expect(limited.stats.snapshot().endpoints[ENDPOINT.update]?.statuses).toEqual({ '200': 9 });
        expect(limited.requests.list({ endpoint: ENDPOINT.update })).toHaveLength(9);
      } finally {
        await writer.close();
        await listening.close();
      }
    });

    it("should hold writes and reads alike once HubSpot says the day's calls are spent", async () => {
      const daily = connect({ accountId: 'daily-writes' });
      const [contact] = take(1);
      await sandbox.setFaults({
        rateLimitRate: 1,
        rateLimitPolicy: 'daily',
        endpoints: [ENDPOINT.update],
        remaining: 1,
      });
      const error = await daily.writes
        .batchUpdateContacts(testRequest(), [{ id: contact!.crm.id, properties: { order_count: 3 } }])
        .catch((e: unknown) => e);
      expect((error as UpstreamError).details).toMatchObject({
        code: 'UPSTREAM_RATE_LIMITED',
        upstreamCode: 'DAILY',
      });
      expect(writeFailure(error as UpstreamError)).toBe('not-applied');
      const read = await daily
        .getContact(testRequest(), { by: 'id', id: contact!.crm.id })
        .catch((e: unknown) => e);
      expect((read as UpstreamError).details).toMatchObject({
        code: 'UPSTREAM_RATE_LIMITED',
        upstreamCode: 'DAILY',
      });
      expect((await sandbox.stats()).total).toBe(1);
      await daily.close();
    });
  });
});
