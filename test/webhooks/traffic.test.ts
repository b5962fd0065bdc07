import { describe, expect, it } from 'vitest';
import { EVENT_SOURCE_NAMES } from '../../platforms/registry.js';
import type { TrafficKind } from '../../sandboxes/kit/traffic.js';
import {
  CAUSE_EXAMPLE,
  DEMO_EVENTS,
  indexTraffic,
  STAND_IN,
  TRAFFIC_KINDS,
  TRAFFIC_SOURCES,
  type TrafficSource,
} from '../../sandboxes/webhooks/traffic.js';

/**
 * The demo traffic is each source's to write (its descriptor's `webhooks.demoTraffic`); the emitter
 * and the sandboxes' `POST /__sandbox/webhooks` read it from the registry. These are the rules
 * that make a new source's traffic work without touching them.
 */
describe("the sources' demo traffic, from the registry", () => {
  it('should name every kind and every causable event once across the sources', () => {
    const kinds = TRAFFIC_SOURCES.flatMap((source) => source.kinds.map((kind) => kind.name));
    const types = TRAFFIC_SOURCES.flatMap((source) => source.events.map((event) => event.type));
    expect([...TRAFFIC_KINDS.keys()]).toEqual(kinds);
    expect([...DEMO_EVENTS.keys()]).toEqual(types);
    // The emitter reads a source's traffic from its descriptor: today's four sources all send some.
    expect(TRAFFIC_SOURCES.map((source) => source.name)).toEqual(
      expect.arrayContaining(['hubspot', 'mailchimp', 'shopify', 'site']),
    );
    expect(EVENT_SOURCE_NAMES).toEqual(expect.arrayContaining(TRAFFIC_SOURCES.map((source) => source.name)));
  });

  it('should refuse a kind or an event type that two sources both claim', () => {
    const [first] = TRAFFIC_SOURCES.filter((source) => source.events.length > 0);
    if (!first) throw new Error('no source with causable events');
    const copy: TrafficSource = { ...first, name: 'site' };
    expect(() => indexTraffic([first, copy])).toThrow(/named more than once across the sources: /);
  });

  it("should draw only events a user can cause on the same source's sandbox, at positive weights", () => {
    for (const source of TRAFFIC_SOURCES)
      for (const kind of source.kinds) {
        expect(kind.weight, kind.name).toBeGreaterThan(0);
        if ('event' in kind) expect(source.events, kind.name).toContain(kind.event);
      }
  });

  it('should stand in with the heaviest kind that changes no record, and show the heaviest event kind in the banner', () => {
    const all = [...TRAFFIC_KINDS.values()].map(({ kind }) => kind);
    const heaviest = (kinds: TrafficKind[]) => kinds.reduce((a, b) => (b.weight > a.weight ? b : a));
    expect(STAND_IN?.kind.name).toBe(heaviest(all.filter((kind) => 'send' in kind)).name);
    expect(STAND_IN?.kind.name).toBe('page-view');
    expect(CAUSE_EXAMPLE?.platform).toBe('shopify');
    expect(CAUSE_EXAMPLE?.body('10000')).toEqual({ type: 'orders/create', customerId: '10000' });
  });
});
