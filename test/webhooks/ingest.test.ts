import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookIngest } from '../../gateway/events/ingest.js';
import { openSqliteEventLog } from '../../lib/events/log/sqlite.js';
import type { EventLog } from '../../lib/events/log/types.js';
import { listen, type Listening } from '../../lib/server/listen.js';
import { DEMO_WEBHOOK_SECRETS } from '../../sandboxes/webhooks/index.js';
import { silentLogger } from '../helpers/context.js';
import { postWebhook, shopifyOrder } from '../helpers/webhooks.js';

/** The ingest endpoints alone on a real HTTP server, in front of the given log. */
async function serveIngest(log: EventLog): Promise<Listening> {
  const ingest = createWebhookIngest({
    log,
    secrets: { shopify: [DEMO_WEBHOOK_SECRETS.shopify], mailchimp: [DEMO_WEBHOOK_SECRETS.mailchimp] },
    onAppended: () => undefined,
    logger: silentLogger,
  });
  const server = createServer((req, res) => {
    void ingest(req, res, new URL(req.url ?? '/', 'http://localhost'));
  });
  return listen(server, 0, '127.0.0.1');
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
});
