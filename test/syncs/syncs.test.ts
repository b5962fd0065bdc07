import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { DEMO_API_KEYS } from '../../gateway/auth/demo-keys.js';
import { platformNamed } from '../../platforms/registry.js';
import { loadSyncFile, parseSyncDefinitions, type SyncDefinition } from '../../syncs/definition.js';
import type { SyncService } from '../../syncs/service.js';
import { graphql, startTestStack, type GraphQLResponse } from '../helpers/stack.js';
import { clearRecorded, recorded, syncServiceFor, tempDir } from './harness.js';

/**
 * The demo's three syncs end to end: the source read through a real gateway stack with a client's
 * key, the writes checked as the platform sandboxes recorded them over HTTP.
 */

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const DAY_MS = 86_400_000;

interface Person {
  id: string;
  email: string;
  firstName: string | null;
  ordersCount: number | null;
  lifetimeValue: { amount: string } | null;
  lastOrderAt: string | null;
}

interface PeoplePage {
  customers: { edges: { node: Person }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

/** Every customer as the personalization client reads them: the expectations come from here. */
async function everyone(stack: Stack): Promise<Person[]> {
  const people: Person[] = [];
  let after: string | null = null;
  for (;;) {
    const page: GraphQLResponse<PeoplePage> = await graphql<PeoplePage>(
      stack.gatewayUrl,
      'query($after: String) { customers(first: 100, after: $after) { edges { node { id email firstName ordersCount lifetimeValue { amount } lastOrderAt } } pageInfo { hasNextPage endCursor } } }',
      { after },
      { authorization: `Bearer ${DEMO_API_KEYS['personalization-service']}` },
    );
    const data: PeoplePage | null | undefined = page.body.data;
    if (!data) throw new Error(JSON.stringify(page.body.errors));
    people.push(...data.customers.edges.map((e) => e.node));
    if (!data.customers.pageInfo.hasNextPage) return people;
    after = data.customers.pageInfo.endCursor;
  }
}

const batchEndpoint = 'POST /3.0/lists/{listId}';
type MemberBody = {
  email_address: string;
  status: string;
  tags?: string[];
  merge_fields: Record<string, unknown>;
};
const membersOf = (body: unknown) => (body as { members: MemberBody[] }).members;

describe('batch syncs against the sandboxes through a real gateway', () => {
  let stack: Stack;
  let tmp: ReturnType<typeof tempDir>;
  let definitions: SyncDefinition[];
  let service: SyncService;
  let people: Person[];

  beforeAll(async () => {
    stack = await startTestStack({ customers: 400, responseCache: false, ttlSeconds: 0 });
    tmp = tempDir('syncs-e2e-');
    definitions = loadSyncFile('syncs/demo.yaml');
    service = syncServiceFor(stack, definitions, `${tmp.dir}/syncs.db`);
    people = await everyone(stack);
  }, 60_000);
  afterAll(async () => {
    service.close();
    await stack.close();
    tmp.remove();
  });

  describe('vip-customers → Mailchimp audience', () => {
    const vips = () => people.filter((p) => p.lifetimeValue && Number(p.lifetimeValue.amount) >= 500);

    it('should preview without writing: counts and samples, no request to Mailchimp', async () => {
      await clearRecorded(stack.origins.mailchimp);
      const preview = await service.run('vip-customers', { dryRun: true });
      expect(preview.status).toBe('DRY_RUN');
      expect(preview.counts).toMatchObject({ sourceRows: people.length, inserts: vips().length, updates: 0 });
      expect(preview.lowerBound).toBe(Math.ceil(vips().length / 500));
      expect(preview.samples.length).toBe(Math.min(3, vips().length));
      expect(vips().map((p) => p.email)).toEqual(expect.arrayContaining(preview.samples.map((s) => s.key)));
      expect(await recorded(stack.origins.mailchimp)).toEqual([]);
      expect(service.runs({ sync: 'vip-customers' })).toEqual([]);
    });

    it('should subscribe every VIP in ceil(n/500) batch calls, record the rows Mailchimp refused, and retry only those', async () => {
      const compliance: string[] = [];
      for (const vip of vips()) {
        const status = await memberStatus(stack, vip.email);
        if (status === 'unsubscribed' || status === 'cleaned') compliance.push(vip.email);
      }
      // The seeded audience has VIPs who unsubscribed: the per-row refusals are exercised.
      expect(compliance.length).toBeGreaterThan(0);
      await clearRecorded(stack.origins.mailchimp);
      const first = await service.run('vip-customers');
      const calls = await recorded(stack.origins.mailchimp, batchEndpoint);
      expect(calls.length).toBe(Math.ceil(vips().length / 500));
      expect(first.counts.calls).toBe(calls.length);
      const sent = calls.flatMap((c) => membersOf(c.body));
      expect(sent.map((m) => m.email_address).sort()).toEqual(
        vips()
          .map((p) => p.email)
          .sort(),
      );
      const kofi = vips()[0] as Person;
      expect(sent.find((m) => m.email_address === kofi.email)).toEqual({
        email_address: kofi.email,
        status: 'subscribed',
        tags: ['VIP'],
        merge_fields: expect.objectContaining({
          FNAME: kofi.firstName,
          LTV: Number(kofi.lifetimeValue?.amount),
        }),
      });
      expect(calls.every((c) => (c.body as { update_existing: boolean }).update_existing)).toBe(true);

      const failed = service.runRows(first.id, 'FAILED');
      expect(failed.length).toBe(first.counts.rejected);
      expect(first.counts.written + first.counts.rejected).toBe(vips().length);
      expect(first.status).toBe(failed.length > 0 ? 'PARTIALLY_FAILED' : 'SUCCEEDED');
      for (const row of failed) expect(row.reason).toMatch(/compliance state/);
      // Mailchimp refuses to resubscribe who unsubscribed or bounced: exactly those come back refused.
      expect(failed.map((r) => r.key).sort()).toEqual(compliance.sort());

      // The next run sends nothing it sent before, only the refused rows again.
      await clearRecorded(stack.origins.mailchimp);
      const second = await service.run('vip-customers');
      const again = (await recorded(stack.origins.mailchimp, batchEndpoint)).flatMap((c) =>
        membersOf(c.body),
      );
      expect(again.map((m) => m.email_address).sort()).toEqual(failed.map((r) => r.key).sort());
      expect(second.counts).toMatchObject({ unchanged: first.counts.written, inserts: failed.length });
    });

    it('should send a changed customer alone, with the value the CRM now holds', async () => {
      const renamed = vips()[1] as Person;
      const hubspot = platformNamed('hubspot').sandbox.demoCredentials;
      const update = await fetch(`${stack.origins.hubspot}/crm/v3/objects/contacts/batch/update`, {
        method: 'POST',
        headers: { authorization: `Bearer ${hubspot.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ id: renamed.id, properties: { firstname: 'Renamed' } }] }),
      });
      expect(update.status).toBe(200);
      const retried = service.runRows(
        service.runs({ sync: 'vip-customers', limit: 1 })[0]?.id ?? 0,
        'FAILED',
      );
      await clearRecorded(stack.origins.mailchimp);
      const run = await service.run('vip-customers');
      const sent = (await recorded(stack.origins.mailchimp, batchEndpoint)).flatMap((c) => membersOf(c.body));
      expect(sent.map((m) => m.email_address).sort()).toEqual(
        [renamed.email, ...retried.map((r) => r.key)].sort(),
      );
      expect(sent.find((m) => m.email_address === renamed.email)?.merge_fields['FNAME']).toBe('Renamed');
      expect(run.counts.updates).toBe(1);
    });
  });

  describe('lapsed-buyers → Meta custom audience (mirror)', () => {
    const audienceId = '23850000000100000';
    const lapsed = (days: number) =>
      people.filter(
        (p) =>
          (p.ordersCount ?? 0) >= 1 &&
          p.lastOrderAt !== null &&
          Date.now() - Date.parse(p.lastOrderAt) >= days * DAY_MS,
      );

    it('should upload the audience hashed, in one session, and remove who left it with DELETE', async () => {
      await clearRecorded(stack.origins.meta);
      const first = await service.run('lapsed-buyers');
      expect(first.status).toBe('SUCCEEDED');
      const adds = await recorded(stack.origins.meta);
      expect(adds.length).toBe(Math.ceil(lapsed(90).length / 10_000));
      const add = adds[0];
      expect(add).toMatchObject({ method: 'POST', path: `/v25.0/${audienceId}/users`, status: 200 });
      const body = add?.body as {
        payload: { schema: string[]; data: string[][] };
        session: Record<string, unknown>;
      };
      expect(body.payload.schema).toEqual(['EMAIL', 'PHONE', 'EXTERN_ID']);
      expect(body.session).toMatchObject({
        batch_seq: 1,
        last_batch_flag: true,
        estimated_num_total: lapsed(90).length,
      });
      expect(body.payload.data.map((row) => row[0]).sort()).toEqual(
        lapsed(90)
          .map((p) => sha256(p.email))
          .sort(),
      );
      expect(body.payload.data.map((row) => row[2]).sort()).toEqual(
        lapsed(90)
          .map((p) => p.id)
          .sort(),
      );

      // The same sync, narrowed to 120 days: the buyers between 90 and 120 days leave the audience.
      const narrowed = parseSyncDefinitions({
        syncs: [
          {
            ...rawSync('lapsed-buyers'),
            source: {
              ...rawSync('lapsed-buyers').source,
              where: [
                { field: 'ordersCount', gte: 1 },
                { field: 'lastOrderAt', olderThanDays: 120 },
              ],
            },
          },
        ],
      });
      const mirror = syncServiceFor(stack, narrowed, `${tmp.dir}/syncs.db`);
      await clearRecorded(stack.origins.meta);
      const second = await mirror.run('lapsed-buyers');
      mirror.close();
      const departed = lapsed(90).filter((p) => !lapsed(120).includes(p));
      expect(departed.length).toBeGreaterThan(0);
      expect(second.counts).toMatchObject({ removals: departed.length, inserts: 0, updates: 0 });
      const removes = await recorded(stack.origins.meta);
      expect(removes.map((r) => r.method)).toEqual(departed.length > 0 ? ['DELETE'] : []);
      if (departed.length > 0) {
        const removal = removes[0]?.body as { payload: { data: string[][] } };
        expect(removal.payload.data.map((row) => row[0]).sort()).toEqual(
          departed.map((p) => sha256(p.email)).sort(),
        );
      }
    });
  });

  describe('commerce-totals → HubSpot contact properties', () => {
    it('should upsert the totals by email, 100 inputs a call, and send nothing when nothing changed', async () => {
      await clearRecorded(stack.origins.hubspot);
      const buyers = people.filter((p) => (p.ordersCount ?? 0) >= 1);
      const run = await service.run('commerce-totals');
      expect(run.status).toBe('SUCCEEDED');
      const calls = await recorded(stack.origins.hubspot, 'POST /crm/v3/objects/contacts/batch/upsert');
      expect(calls.length).toBe(Math.ceil(buyers.length / 100));
      expect(run.lowerBound).toBe(calls.length);
      type Input = { idProperty: string; id: string; properties: Record<string, string> };
      const inputs = calls.flatMap((c) => (c.body as { inputs: Input[] }).inputs);
      expect(inputs.length).toBe(buyers.length);
      const buyer = buyers[0] as Person;
      expect(inputs.find((i) => i.id === buyer.email)).toMatchObject({
        idProperty: 'email',
        properties: {
          email: buyer.email,
          order_count: String(buyer.ordersCount),
          lifetime_value: String(Number(buyer.lifetimeValue?.amount)),
          last_order_date: buyer.lastOrderAt?.slice(0, 10),
        },
      });
      await clearRecorded(stack.origins.hubspot);
      const again = await service.run('commerce-totals');
      expect(again.counts).toMatchObject({ calls: 0, unchanged: buyers.length });
      expect(await recorded(stack.origins.hubspot)).toEqual([]);
    });
  });

  describe('validation at the boundary', () => {
    it('should quarantine a bad email, a duplicate key and a value out of range with a reason, and never send them', async () => {
      // Customers whose address no sync wrote to the CRM (a written `email` property would win).
      const [bad, original, copy] = stack.world.customers
        .filter((c) => c.crm.properties?.['email'] === undefined)
        .slice(-3);
      if (!bad || !original || !copy) throw new Error('the world has too few customers');
      bad.person.email = 'not-an-address';
      copy.person.email = original.person.email;
      const [sync] = parseSyncDefinitions({
        syncs: [
          {
            name: 'checked-totals',
            source: { ...rawSync('commerce-totals').source, where: [] },
            key: 'email',
            mapping: { email: 'email', lifetime_value: { from: 'lifetimeValue.amount', as: 'number' } },
            rules: { email: { required: true, email: true }, lifetime_value: { max: 1000 } },
            destination: { type: 'hubspot-contacts' },
          },
        ],
      });
      const checked = syncServiceFor(stack, [sync as SyncDefinition], `${tmp.dir}/checked.db`);
      await clearRecorded(stack.origins.hubspot);
      const run = await checked.run('checked-totals');
      const quarantined = checked.runRows(run.id, 'QUARANTINED');
      checked.close();
      const keysOf = (code: string) =>
        quarantined
          .filter((q) => q.code === code)
          .map((q) => q.key)
          .sort();
      expect(keysOf('INVALID_EMAIL')).toEqual(['not-an-address']);
      expect(keysOf('DUPLICATE_KEY')).toEqual([original.person.email]);
      const bigSpenders = people
        .filter((p) => (p.ordersCount ?? 0) >= 1 && Number(p.lifetimeValue?.amount) > 1000)
        .filter((p) => ![bad.person.email, original.person.email].includes(p.email))
        .map((p) => p.email);
      expect(bigSpenders.length).toBeGreaterThan(0);
      expect(keysOf('OUT_OF_RANGE')).toEqual(expect.arrayContaining(bigSpenders.sort()));
      expect(run.counts.quarantined).toBe(quarantined.length);
      const sent = (await recorded(stack.origins.hubspot)).flatMap(
        (c) => (c.body as { inputs: { id: string; properties: Record<string, string> }[] }).inputs,
      );
      const sentIds = sent.map((i) => i.id);
      expect(sentIds).not.toContain('not-an-address');
      expect(sentIds.filter((id) => id === original.person.email).length).toBeLessThanOrEqual(1);
      expect(sent.every((i) => Number(i.properties['lifetime_value']) <= 1000)).toBe(true);
    });
  });
});

/** A sync of the demo file as written (before checking), to vary one field. */
function rawSync(name: string): Record<string, unknown> & { source: Record<string, unknown> } {
  const file = parse(readFileSync('syncs/demo.yaml', 'utf8')) as { syncs: Record<string, unknown>[] };
  const found = file.syncs.find((s) => s['name'] === name);
  if (!found) throw new Error(`the demo file has no sync ${name}`);
  return found as Record<string, unknown> & { source: Record<string, unknown> };
}

/** The member's status in the Mailchimp sandbox's audience, read over its API; undefined when absent. */
async function memberStatus(stack: Stack, email: string): Promise<string | undefined> {
  const { apiKey, listId } = platformNamed('mailchimp').sandbox.demoCredentials;
  const hash = createHash('md5').update(email.toLowerCase()).digest('hex');
  const response = await fetch(`${stack.origins.mailchimp}/3.0/lists/${listId}/members/${hash}`, {
    headers: { authorization: `Basic ${Buffer.from(`any:${apiKey}`).toString('base64')}` },
  });
  if (response.status === 404) return undefined;
  return ((await response.json()) as { status: string }).status;
}
