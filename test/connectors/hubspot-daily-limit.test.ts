import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HubSpotConnector } from '../../platforms/hubspot/client/connector.js';
import { nextDailyReset } from '../../platforms/hubspot/client/daily.js';
import { UpstreamError } from '../../lib/errors.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { testRequest } from '../helpers/context.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox.js';

const BATCH_READ = 'POST /crm/v3/objects/contacts/batch/read';

describe("HubSpot connector: the account's daily limit", () => {
  let sandbox: RunningSandbox;
  const connect = () =>
    new HubSpotConnector({
      baseUrl: sandbox.baseUrl,
      accessToken: DEMO_CREDENTIALS.hubspot.accessToken,
      accountId: 'portal-daily',
      timeoutMs: 5_000,
      maxRetries: 3,
    });

  beforeAll(async () => {
    sandbox = await startSandbox('hubspot', { customers: 50 });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(async () => {
    await sandbox.setFaults({});
    await sandbox.resetStats();
  });

  it('should fail fast with UPSTREAM_RATE_LIMITED naming the daily limit and its reset, and not call HubSpot again until then', async () => {
    const hubspot = connect();
    // One DAILY 429; were the connector to retry it like the ten-second window, the retry would succeed.
    await sandbox.setFaults({ rateLimitRate: 1, rateLimitPolicy: 'daily', remaining: 1 });
    const email = sandbox.world.customers[0]?.person.email ?? '';
    const before = Date.now();
    const first = await hubspot.getContact(testRequest(), { by: 'email', email }).catch((e: unknown) => e);
    const second = await hubspot.getContact(testRequest(), { by: 'id', id: '1' }).catch((e: unknown) => e);
    for (const error of [first, second]) {
      expect(error).toBeInstanceOf(UpstreamError);
      const { code, upstreamCode, resetsAt } = (error as UpstreamError).details;
      expect({ code, upstreamCode }).toEqual({ code: 'UPSTREAM_RATE_LIMITED', upstreamCode: 'DAILY' });
      expect([nextDailyReset(before), nextDailyReset(Date.now())]).toContain(Date.parse(resetsAt ?? ''));
      expect((error as UpstreamError).extensions['resetsAt']).toBe(resetsAt);
    }
    expect((second as UpstreamError).message).toMatch(/daily API limit is spent.*resets at/);
    expect((await sandbox.stats()).endpoints[BATCH_READ]?.count).toBe(1);
    expect(hubspot.dailyLimit()).toEqual({
      exhausted: true,
      resetsAt: (first as UpstreamError).details.resetsAt,
    });
    await hubspot.close();
  });

  it("should reset at midnight in the account's time zone, UTC unless configured", () => {
    const now = Date.parse('2026-12-04T15:30:00.000Z');
    expect(new Date(nextDailyReset(now)).toISOString()).toBe('2026-12-05T00:00:00.000Z');
    expect(new Date(nextDailyReset(now, 'America/New_York')).toISOString()).toBe('2026-12-05T05:00:00.000Z');
    // The day a New York clock goes back an hour is 25 hours long.
    expect(
      new Date(nextDailyReset(Date.parse('2026-11-01T12:00:00Z'), 'America/New_York')).toISOString(),
    ).toBe('2026-11-02T05:00:00.000Z');
  });
});
