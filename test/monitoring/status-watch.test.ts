import { describe, expect, it } from 'vitest';
import type { IntegrationStatus } from '../../monitoring/health-model.js';
import { StatusWatch } from '../../monitoring/status-watch.js';

/** The status changes behind `integrationStatusChanged`, on statuses a test sets. */
describe('StatusWatch', () => {
  const setup = () => {
    const statuses = new Map<string, IntegrationStatus>([
      ['hubspot', 'OK'],
      ['shopify', 'OK'],
    ]);
    // A long interval: the test evaluates by hand.
    const watch = new StatusWatch({ intervalMs: 3_600_000, statuses: () => statuses, now: () => 1_000 });
    return { statuses, watch };
  };

  it('should send changes only, from the moment a watcher joins, filtered by name', async () => {
    const { statuses, watch } = setup();
    const controller = new AbortController();
    const all = watch.changes(undefined, controller.signal);
    const onlyShopify = watch.changes(['shopify'], controller.signal);
    const first = all.next();
    const firstShopify = onlyShopify.next();
    expect(watch.watching).toBe(2);
    statuses.set('hubspot', 'DOWN');
    statuses.set('mailchimp', 'IDLE');
    watch.evaluate();
    expect((await first).value).toEqual({ name: 'hubspot', previous: 'OK', status: 'DOWN', at: 1_000 });
    expect((await all.next()).value).toEqual({
      name: 'mailchimp',
      previous: null,
      status: 'IDLE',
      at: 1_000,
    });
    statuses.set('shopify', 'DEGRADED');
    expect(watch.evaluate()).toHaveLength(1); // hubspot stays DOWN: no change
    expect((await firstShopify).value).toMatchObject({ name: 'shopify', previous: 'OK', status: 'DEGRADED' });
    controller.abort();
    await all.return(undefined);
    await onlyShopify.return(undefined);
    expect(watch.watching).toBe(0);
  });

  it("should give a slow reader each connection's latest change, not a backlog", async () => {
    const { statuses, watch } = setup();
    const controller = new AbortController();
    const changes = watch.changes(undefined, controller.signal);
    const first = changes.next();
    statuses.set('hubspot', 'DEGRADED');
    watch.evaluate();
    await first;
    statuses.set('hubspot', 'DOWN');
    watch.evaluate();
    statuses.set('hubspot', 'OK');
    watch.evaluate();
    statuses.set('hubspot', 'DOWN');
    watch.evaluate();
    expect((await changes.next()).value).toMatchObject({ name: 'hubspot', previous: 'OK', status: 'DOWN' });
    const next = changes.next();
    controller.abort();
    expect((await next).done).toBe(true);
    expect(watch.watching).toBe(0);
  });
});
