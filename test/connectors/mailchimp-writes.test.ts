import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MailchimpConnector, type MailchimpSettings } from '../../platforms/mailchimp/client/connector.js';
import type { BatchMember } from '../../platforms/mailchimp/client/writes.js';
import { UpstreamError } from '../../lib/errors.js';
import { writeFailure } from '../../lib/upstream/writes.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import type { Customer } from '../../sandboxes/world/world.js';
import { testRequest } from '../helpers/context.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox.js';

const { apiKey, listId } = DEMO_CREDENTIALS.mailchimp;
const md5 = (text: string) => createHash('md5').update(text.toLowerCase()).digest('hex');
const basic = `Basic ${Buffer.from(`anystring:${apiKey}`).toString('base64')}`;
const ENDPOINT = {
  put: 'PUT /3.0/lists/{listId}/members/{subscriberHash}',
  tags: 'POST /3.0/lists/{listId}/members/{subscriberHash}/tags',
  archive: 'DELETE /3.0/lists/{listId}/members/{subscriberHash}',
  batch: 'POST /3.0/lists/{listId}',
} as const;

describe('Mailchimp connector writes against the Mailchimp sandbox', () => {
  let sandbox: RunningSandbox;
  let mailchimp: MailchimpConnector;
  /** Customers handed out one test at a time, so no two tests write the same member. */
  let pool: Customer[];
  const take = (where: (c: Customer) => boolean): Customer => {
    const index = pool.findIndex(where);
    if (index < 0) throw new Error('the seeded world has no customer left for this test');
    return pool.splice(index, 1)[0]!;
  };
  const connect = (overrides: Partial<MailchimpSettings> = {}) =>
    new MailchimpConnector({
      baseUrl: sandbox.baseUrl,
      apiKey,
      listId,
      timeoutMs: 5_000,
      maxRetries: 2,
      ...overrides,
    });
  const raw = (method: string, path: string, body?: unknown, base = sandbox.baseUrl) =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: basic,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const readMember = async (email: string) => {
    const response = await raw('GET', `/lists/${listId}/members/${md5(email)}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    sandbox = await startSandbox('mailchimp', { customers: 400 });
    mailchimp = connect();
    pool = [...sandbox.world.customers];
  });
  afterAll(async () => {
    await mailchimp.close();
    await sandbox.close();
  });
  beforeEach(async () => {
    await sandbox.setFaults({});
    await sandbox.resetStats();
    await sandbox.clearRequests();
  });

  describe('upsertMember', () => {
    it('should add an address nobody knows with PUT to its MD5 hash, and reads should see it', async () => {
      const email = 'New.Reader@Example.org';
      const row = await mailchimp.writes.upsertMember(testRequest(), {
        email,
        statusIfNew: 'SUBSCRIBED',
        mergeFields: { FNAME: 'New', LTV: 120.5 },
      });
      expect(row).toEqual({
        status: 'accepted',
        key: 'new.reader@example.org',
        change: 'upserted',
        id: md5(email),
      });
      const sent = await sandbox.requests(ENDPOINT.put);
      expect(sent).toMatchObject([
        {
          method: 'PUT',
          path: `/3.0/lists/${listId}/members/${md5(email)}`,
          body: {
            email_address: email,
            status_if_new: 'subscribed',
            merge_fields: { FNAME: 'New', LTV: 120.5 },
          },
          status: 200,
        },
      ]);
      expect(await mailchimp.getMember(testRequest(), email)).toMatchObject({
        email: 'new.reader@example.org',
        status: 'SUBSCRIBED',
      });
      const member = await readMember(email);
      expect(member.body).toMatchObject({
        email_address: email,
        merge_fields: { FNAME: 'New', LNAME: '', LTV: '120.5' },
      });
    });

    it('should keep an existing member status unless asked, and change it when status is given', async () => {
      const customer = take((c) => c.audience?.status === 'pending');
      const email = customer.person.email;
      const kept = await mailchimp.writes.upsertMember(testRequest(), { email, statusIfNew: 'SUBSCRIBED' });
      expect(kept).toMatchObject({ status: 'accepted', change: 'upserted' });
      expect(customer.audience?.status).toBe('pending');
      await mailchimp.writes.upsertMember(testRequest(), {
        email,
        statusIfNew: 'SUBSCRIBED',
        status: 'SUBSCRIBED',
      });
      expect(customer.audience?.status).toBe('subscribed');
      expect(await mailchimp.getMember(testRequest(), email)).toMatchObject({ status: 'SUBSCRIBED' });
    });

    it('should bring a world customer who was not in the audience into it', async () => {
      const customer = take((c) => !c.audience);
      const row = await mailchimp.writes.upsertMember(testRequest(), {
        email: customer.person.email,
        statusIfNew: 'PENDING',
      });
      expect(row.status).toBe('accepted');
      expect(customer.audience).toMatchObject({ status: 'pending' });
      const member = await readMember(customer.person.email);
      expect(member.body).toMatchObject({
        status: 'pending',
        merge_fields: { FNAME: customer.person.firstName, LNAME: customer.person.lastName },
      });
    });

    it("should reject a fake address, a malformed one, a bad merge field and a resubscribe with Mailchimp's reasons", async () => {
      const unsubscribed = take((c) => c.audience?.status === 'unsubscribed');
      const ctx = testRequest();
      const rows = [
        await mailchimp.writes.upsertMember(ctx, {
          email: 'someone@nowhere.invalid',
          statusIfNew: 'SUBSCRIBED',
        }),
        await mailchimp.writes.upsertMember(ctx, { email: 'not an address', statusIfNew: 'SUBSCRIBED' }),
        await mailchimp.writes.upsertMember(ctx, {
          email: 'fields@example.net',
          statusIfNew: 'SUBSCRIBED',
          mergeFields: { LTV: 'lots', SHOESIZE: 44 },
        }),
        await mailchimp.writes.upsertMember(ctx, {
          email: unsubscribed.person.email,
          statusIfNew: 'SUBSCRIBED',
          status: 'SUBSCRIBED',
        }),
      ];
      expect(rows).toEqual([
        {
          status: 'rejected',
          key: 'someone@nowhere.invalid',
          code: 'Invalid Resource',
          reason: 'someone@nowhere.invalid looks fake or invalid, please enter a real email address.',
          retryable: false,
        },
        {
          status: 'rejected',
          key: 'not an address',
          code: 'Invalid Resource',
          reason: 'Please provide a valid email address.',
          retryable: false,
        },
        {
          status: 'rejected',
          key: 'fields@example.net',
          code: 'Invalid Resource',
          reason:
            'Your merge fields were invalid. LTV: Please enter a number.; SHOESIZE: This merge field does not exist in the audience.',
          retryable: false,
        },
        {
          status: 'rejected',
          key: unsubscribed.person.email,
          code: 'Member In Compliance State',
          reason: `${unsubscribed.person.email} is already a list member in compliance state due to unsubscribe, bounce, or compliance review.`,
          retryable: false,
        },
      ]);
      expect(unsubscribed.audience?.status).toBe('unsubscribed');
      expect((await readMember('fields@example.net')).status).toBe(404);
      const sent = await sandbox.requests(ENDPOINT.put);
      expect(sent.map((r) => r.status)).toEqual([400, 400, 400, 400]);
    });
  });

  describe('setMemberTags', () => {
    it('should add and remove tags with one POST and answer 204, and the member should show them', async () => {
      const customer = take((c) => c.audience?.status === 'subscribed' && c.audience.vip);
      const email = customer.person.email;
      const row = await mailchimp.writes.setMemberTags(testRequest(), email, [
        { name: 'High value', active: true },
        { name: 'VIP', active: false },
      ]);
      expect(row).toEqual({ status: 'accepted', key: email, change: 'updated' });
      expect(await sandbox.requests(ENDPOINT.tags)).toMatchObject([
        {
          path: `/3.0/lists/${listId}/members/${md5(email)}/tags`,
          body: {
            tags: [
              { name: 'High value', status: 'active' },
              { name: 'VIP', status: 'inactive' },
            ],
          },
          status: 204,
        },
      ]);
      const member = await readMember(email);
      expect(member.body['tags']).toEqual([{ id: expect.any(Number), name: 'High value' }]);
      // Setting the same tags again changes nothing: the write is idempotent.
      await mailchimp.writes.setMemberTags(testRequest(), email, [{ name: 'High value', active: true }]);
      expect((await readMember(email)).body['tags_count']).toBe(1);
    });

    it('should reject tags for an address not in the audience as retryable, the member being absent', async () => {
      const row = await mailchimp.writes.setMemberTags(testRequest(), 'stranger@example.com', [
        { name: 'x', active: true },
      ]);
      expect(row).toEqual({
        status: 'rejected',
        key: 'stranger@example.com',
        code: 'Resource Not Found',
        reason: 'The requested resource could not be found.',
        retryable: true,
      });
    });
  });

  describe('archiveMember', () => {
    it('should archive with DELETE: the member reads ARCHIVED, leaves the listing and the counts', async () => {
      const customer = take((c) => c.audience?.status === 'subscribed');
      const email = customer.person.email;
      const before = await mailchimp.listMembers(testRequest(), { count: 1, offset: 0 });
      expect(await mailchimp.writes.archiveMember(testRequest(), email)).toEqual({
        status: 'accepted',
        key: email,
        change: 'archived',
      });
      expect(await sandbox.requests(ENDPOINT.archive)).toMatchObject([
        { method: 'DELETE', path: `/3.0/lists/${listId}/members/${md5(email)}`, body: null, status: 204 },
      ]);
      expect(await mailchimp.getMember(testRequest(), email)).toMatchObject({ status: 'ARCHIVED' });
      const after = await mailchimp.listMembers(testRequest(), { count: 1, offset: 0 });
      expect(after.total).toBe(before.total - 1);
      const archived = await raw(
        'GET',
        `/lists/${listId}/members?status=archived&fields=members.email_address`,
      );
      expect(await archived.json()).toEqual({ members: [{ email_address: email }] });
      // Archived members can come back through an upsert, as new.
      await mailchimp.writes.upsertMember(testRequest(), { email, statusIfNew: 'SUBSCRIBED' });
      expect(customer.audience?.status).toBe('subscribed');
    });

    it('should accept archiving an address that is not in the audience as unchanged', async () => {
      expect(await mailchimp.writes.archiveMember(testRequest(), 'ghost@example.com')).toEqual({
        status: 'accepted',
        key: 'ghost@example.com',
        change: 'unchanged',
      });
    });
  });

  describe('batchSubscribe', () => {
    it('should write 500 members in one call and answer every row in order: created, updated or rejected', async () => {
      const existing = pool.filter((c) => c.audience?.status === 'subscribed').slice(0, 3);
      const unsubscribed = pool.find((c) => c.audience?.status === 'unsubscribed')!;
      for (const c of [...existing, unsubscribed]) pool.splice(pool.indexOf(c), 1);
      const fresh = Array.from({ length: 494 }, (_, i) => `batch.${i}@example.com`);
      const members: BatchMember[] = [
        ...existing.map((c) => ({
          email: c.person.email,
          status: 'SUBSCRIBED' as const,
          mergeFields: { LTV: 900 },
        })),
        { email: 'fake@shop.test', status: 'SUBSCRIBED' },
        { email: 'badfield@example.com', status: 'SUBSCRIBED', mergeFields: { LASTORDER: 'yesterday' } },
        { email: unsubscribed.person.email, status: 'SUBSCRIBED' },
        ...fresh.map((email) => ({ email, status: 'SUBSCRIBED' as const, tags: ['Synced'] })),
      ];
      expect(members).toHaveLength(500);
      const result = await mailchimp.writes.batchSubscribe(testRequest(), members);
      expect(result).toMatchObject({ created: 494, updated: 3, rejected: 3 });
      expect(result.rows).toHaveLength(500);
      expect(result.rows.slice(0, 5)).toEqual([
        ...existing.map((c) => ({
          status: 'accepted',
          key: c.person.email,
          change: 'updated',
          id: md5(c.person.email),
        })),
        {
          status: 'rejected',
          key: 'fake@shop.test',
          code: 'ERROR_GENERIC',
          reason: 'fake@shop.test looks fake or invalid, please enter a real email address.',
          retryable: false,
        },
        {
          status: 'rejected',
          key: 'badfield@example.com',
          code: 'ERROR_GENERIC',
          reason:
            'Your merge fields were invalid. (LASTORDER: Please enter the date in the format YYYY-MM-DD.)',
          retryable: false,
        },
      ]);
      expect(result.rows[5]).toMatchObject({
        status: 'rejected',
        code: 'ERROR_GENERIC',
        reason: expect.stringMatching(/compliance state/),
      });
      expect(result.rows.slice(6).every((r) => r.status === 'accepted' && r.change === 'created')).toBe(true);

      const sent = await sandbox.requests(ENDPOINT.batch);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({
        path: `/3.0/lists/${listId}`,
        status: 200,
        body: { update_existing: true },
      });
      const body = sent[0]!.body as { members: unknown[] };
      expect(body.members).toHaveLength(500);
      expect(body.members[0]).toEqual({
        email_address: existing[0]!.person.email,
        status: 'subscribed',
        merge_fields: { LTV: 900 },
      });
      expect(body.members[6]).toEqual({ email_address: fresh[0], status: 'subscribed', tags: ['Synced'] });

      const written = await readMember(fresh[10]!);
      expect(written.body).toMatchObject({ status: 'subscribed', tags: [{ name: 'Synced' }] });
      expect(existing[0]!.audience?.mergeFields).toEqual({ LTV: '900' });
    });

    it('should reject existing members as ERROR_CONTACT_EXISTS when existing members are not to be updated', async () => {
      const customer = take((c) => c.audience?.status === 'subscribed');
      const result = await mailchimp.writes.batchSubscribe(
        testRequest(),
        [
          { email: customer.person.email, status: 'SUBSCRIBED' },
          { email: 'only-new@example.com', status: 'PENDING' },
        ],
        { updateExisting: false },
      );
      expect(result.rows).toEqual([
        {
          status: 'rejected',
          key: customer.person.email,
          code: 'ERROR_CONTACT_EXISTS',
          reason: `${customer.person.email} is already a list member. Use PUT to insert or update list members.`,
          retryable: false,
        },
        {
          status: 'accepted',
          key: 'only-new@example.com',
          change: 'created',
          id: md5('only-new@example.com'),
        },
      ]);
    });

    it('should refuse more than 500 members or a repeated address before calling Mailchimp', async () => {
      const many = Array.from({ length: 501 }, (_, i) => ({
        email: `m${i}@example.com`,
        status: 'SUBSCRIBED' as const,
      }));
      await expect(mailchimp.writes.batchSubscribe(testRequest(), many)).rejects.toThrow(
        /at most 500 members, got 501/,
      );
      await expect(
        mailchimp.writes.batchSubscribe(testRequest(), [
          { email: 'twice@example.com', status: 'SUBSCRIBED' },
          { email: 'TWICE@example.com', status: 'SUBSCRIBED' },
        ]),
      ).rejects.toThrow(/each address once/);
      expect(await mailchimp.writes.batchSubscribe(testRequest(), [])).toEqual({
        rows: [],
        created: 0,
        updated: 0,
        rejected: 0,
      });
      expect((await sandbox.stats()).total).toBe(0);
    });
  });

  describe('the sandbox checks requests as Mailchimp does', () => {
    it('should answer more than 500 members with a 400 problem naming the field, and record it', async () => {
      const members = Array.from({ length: 501 }, (_, i) => ({
        email_address: `x${i}@example.com`,
        status: 'subscribed',
      }));
      const response = await raw('POST', `/lists/${listId}`, { members, update_existing: true });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await response.json()).toMatchObject({
        type: 'https://mailchimp.com/developer/marketing/docs/errors/',
        title: 'Invalid Resource',
        status: 400,
        instance: expect.any(String),
        errors: [
          {
            field: 'members',
            message: 'You can add or update at most 500 members per call; this one has 501.',
          },
        ],
      });
      expect((await sandbox.requests(ENDPOINT.batch)).map((r) => r.status)).toEqual([400]);
    });

    it('should answer a body that breaks the schema with the fields at fault', async () => {
      const batch = await raw('POST', `/lists/${listId}`, {
        members: [{ email_address: 'a@example.com', status: 'maybe' }],
      });
      expect(batch.status).toBe(400);
      expect(await batch.json()).toMatchObject({ errors: [{ field: 'members.item:0.status' }] });
      const tags = await raw('POST', `/lists/${listId}/members/${md5('a@example.com')}/tags`, {
        tags: [{ name: 'x', status: 'on' }],
      });
      expect(tags.status).toBe(400);
      expect(await tags.json()).toMatchObject({ errors: [{ field: 'tags.item:0.status' }] });
      const mismatch = await raw('PUT', `/lists/${listId}/members/${md5('one@example.com')}`, {
        email_address: 'other@example.com',
        status_if_new: 'subscribed',
      });
      expect(mismatch.status).toBe(400);
      expect(await mismatch.json()).toMatchObject({
        detail: 'The email_address in the body does not match the subscriber hash in the URL.',
      });
      const noStatus = await raw('PUT', `/lists/${listId}/members/${md5('newbie@example.com')}`, {
        email_address: 'newbie@example.com',
      });
      expect(noStatus.status).toBe(400);
      const repeated = await raw('POST', `/lists/${listId}`, {
        members: [
          { email_address: 'dup@example.com', status: 'subscribed' },
          { email_address: 'Dup@example.com', status: 'pending' },
        ],
      });
      expect(repeated.status).toBe(400);
      const skipped = await raw('POST', `/lists/${listId}?skip_duplicate_check=true`, {
        members: [
          { email_address: 'dup@example.com', status: 'subscribed' },
          { email_address: 'Dup@example.com', status: 'pending' },
        ],
      });
      expect(await skipped.json()).toMatchObject({
        total_created: 1,
        error_count: 0,
        new_members: [{ status: 'subscribed' }],
      });
      expect((await sandbox.requests()).map((r) => r.endpoint)).toEqual([
        ENDPOINT.batch,
        ENDPOINT.tags,
        ENDPOINT.put,
        ENDPOINT.put,
        ENDPOINT.batch,
        ENDPOINT.batch,
      ]);
    });

    it('should never record the API key', async () => {
      await mailchimp.writes.upsertMember(testRequest(), {
        email: 'keyless@example.com',
        statusIfNew: 'SUBSCRIBED',
      });
      const response = await fetch(`${sandbox.origin}/__sandbox/requests`);
      expect(await response.text()).not.toContain(apiKey);
    });
  });

  describe('limits, retries and priority', () => {
    let slow: RunningSandbox;
    beforeAll(async () => {
      slow = await startSandbox('mailchimp', { world: sandbox.world, latencyMs: 200 });
    });
    afterAll(async () => {
      await slow.close();
    });
    beforeEach(async () => {
      await slow.resetStats();
      await slow.clearRequests();
    });

    it('should answer the 11th simultaneous write 429 with the problem body, and record it', async () => {
      const responses = await Promise.all(
        Array.from({ length: 11 }, (_, i) =>
          raw(
            'PUT',
            `/lists/${listId}/members/${md5(`burst${i}@example.com`)}`,
            {
              email_address: `burst${i}@example.com`,
              status_if_new: 'subscribed',
            },
            slow.baseUrl,
          ),
        ),
      );
      expect(responses.map((r) => r.status).sort()).toEqual([...Array(10).fill(200), 429]);
      const rejected = responses.find((r) => r.status === 429)!;
      expect(await rejected.json()).toMatchObject({ title: 'Too Many Requests', status: 429 });
      const recorded = await slow.requests(ENDPOINT.put);
      expect(recorded.map((r) => r.status).sort()).toEqual([...Array(10).fill(200), 429]);
    });

    it('should keep 40 concurrent writes within the connection cap: no 429, at most 9 in flight', async () => {
      const writer = connect({ baseUrl: slow.baseUrl });
      try {
        const rows = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            writer.writes.upsertMember(testRequest(), {
              email: `calm${i}@example.com`,
              statusIfNew: 'SUBSCRIBED',
            }),
          ),
        );
        expect(rows.every((r) => r.status === 'accepted')).toBe(true);
        const stats = await slow.stats();
        expect(stats.endpoints[ENDPOINT.put]).toEqual({ count: 40, statuses: { '200': 40 } });
        // Background writes leave one of the 10 connections to reads.
        expect(stats.maxConcurrent).toBe(9);
      } finally {
        await writer.close();
      }
    });

    it("should let a read start ahead of queued writes, so a sync never holds up a user's query", async () => {
      const writer = connect({ baseUrl: slow.baseUrl });
      const reader = sandbox.world.customers.find((c) => c.audience)!;
      const finished: string[] = [];
      try {
        const writes = Array.from({ length: 36 }, (_, i) =>
          writer.writes
            .upsertMember(testRequest(), { email: `queue${i}@example.com`, statusIfNew: 'SUBSCRIBED' })
            .then(() => finished.push('write')),
        );
        const read = writer.getMember(testRequest(), reader.person.email).then(() => finished.push('read'));
        await Promise.all([...writes, read]);
        // 36 writes run 9 at a time in 4 waves; the read takes the reserved connection in the first.
        expect(finished.indexOf('read')).toBeLessThan(10);
        expect((await slow.stats()).endpoints[ENDPOINT.put]?.statuses['429']).toBeUndefined();
      } finally {
        await writer.close();
      }
    });

    it('should retry an idempotent write after a 429 and record both attempts', async () => {
      await sandbox.setFaults({ rateLimitRate: 1, endpoints: [ENDPOINT.put], remaining: 1 });
      const row = await mailchimp.writes.upsertMember(testRequest(), {
        email: 'retried@example.com',
        statusIfNew: 'SUBSCRIBED',
      });
      expect(row.status).toBe('accepted');
      expect((await sandbox.requests(ENDPOINT.put)).map((r) => r.status)).toEqual([429, 200]);
    });

    it('should not retry a batch that may not be repeated, and say its failure is ambiguous', async () => {
      await sandbox.setFaults({ errorRate: 1, errorStatus: 500, endpoints: [ENDPOINT.batch], remaining: 1 });
      const error = await mailchimp.writes
        .batchSubscribe(testRequest(), [{ email: 'once@example.com', status: 'SUBSCRIBED' }], {
          updateExisting: false,
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UpstreamError);
      expect(writeFailure(error as UpstreamError)).toBe('ambiguous');
      expect((await sandbox.requests(ENDPOINT.batch)).map((r) => r.status)).toEqual([500]);
    });
  });
});
