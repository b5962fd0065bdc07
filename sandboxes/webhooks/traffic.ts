import type { WebhookSource } from '../../platforms/kit/descriptor.js';
import {
  isPlatformName,
  WEBHOOK_SOURCES,
  type EventSourceName,
  type PlatformName,
} from '../../platforms/registry.js';
import type { DemoEvent, TrafficKind } from '../kit/traffic.js';

/**
 * Every source's demo traffic (its descriptor's `webhooks.demoTraffic`), read from the registry
 * once: the emitter and `POST /__sandbox/webhooks` know the sources through here only, so a new
 * source's traffic is a descriptor field.
 */

/** A source that sends demo traffic. */
export interface TrafficSource {
  name: EventSourceName;
  kinds: readonly TrafficKind[];
  events: readonly DemoEvent[];
}

// Awaited here, at the top level, so what imports this module (the emitter, the sandbox command,
// `start`) sees plain values, while the descriptors the gateway reads load no traffic code.
export const TRAFFIC_SOURCES: readonly TrafficSource[] = (
  await Promise.all(
    (WEBHOOK_SOURCES as readonly WebhookSource[]).map(async (source) =>
      source.demoTraffic ? [{ name: source.name as EventSourceName, ...(await source.demoTraffic()) }] : [],
    ),
  )
).flat();

/** One kind of live traffic with the source that sends it. */
export interface SourcedKind {
  source: TrafficSource;
  kind: TrafficKind;
}

/** One causable event with the source (and sandbox) that sends it. */
export interface SourcedEvent {
  source: TrafficSource;
  event: DemoEvent;
}

/** The names that must be unique across sources, and are not: for the error that says so. */
function repeated(names: readonly string[]): string[] {
  return [...new Set(names.filter((name, i) => names.indexOf(name) !== i))];
}

function indexed<T>(entries: readonly (readonly [string, T])[], what: string): ReadonlyMap<string, T> {
  const twice = repeated(entries.map(([name]) => name));
  if (twice.length > 0)
    throw new Error(`Demo traffic: ${what} named more than once across the sources: ${twice.join(', ')}`);
  return new Map(entries);
}

/**
 * The sources' kinds by name (`emit(kind)` names one) and their causable events by type (a refusal
 * names the sandbox that sends one); an Error when a name is taken twice.
 */
export function indexTraffic(sources: readonly TrafficSource[]): {
  kinds: ReadonlyMap<string, SourcedKind>;
  events: ReadonlyMap<string, SourcedEvent>;
} {
  return {
    kinds: indexed(
      sources.flatMap((source) => source.kinds.map((kind) => [kind.name, { source, kind }] as const)),
      'traffic kinds',
    ),
    events: indexed(
      sources.flatMap((source) => source.events.map((event) => [event.type, { source, event }] as const)),
      'event types',
    ),
  };
}

const INDEX = indexTraffic(TRAFFIC_SOURCES);
export const TRAFFIC_KINDS = INDEX.kinds;
export const DEMO_EVENTS = INDEX.events;

/** The kinds of live traffic, in the registry's order of sources. */
export const WEBHOOK_KINDS: readonly string[] = [...TRAFFIC_KINDS.keys()];
export type WebhookKind = string;

/** Heaviest first: the most common traffic leads when one kind stands for all. */
const BY_WEIGHT = [...TRAFFIC_KINDS.values()].sort((a, b) => b.kind.weight - a.kind.weight);

/**
 * The kind that stands in when the world's state allows no change of a drawn kind: the heaviest
 * that changes no record (a page view), always possible; undefined when no source sends one.
 */
export const STAND_IN: SourcedKind | undefined = BY_WEIGHT.find(({ kind }) => 'send' in kind);

/** The traffic kind an event is an occurrence of (its name in counts), else the event's type. */
export function kindOf(event: DemoEvent): string {
  return (
    [...TRAFFIC_KINDS.values()].find(({ kind }) => 'event' in kind && kind.event === event)?.kind.name ??
    event.type
  );
}

/** The events a platform's sandbox lets a user cause (none for a platform that sends no webhooks). */
export function eventsOf(platform: PlatformName): readonly DemoEvent[] {
  return TRAFFIC_SOURCES.find((source) => source.name === platform)?.events ?? [];
}

/**
 * An event `POST /__sandbox/webhooks` causes, for the start banner: the event of the heaviest kind
 * of platform traffic, on its platform's sandbox, with only a customer (its other fields have
 * defaults). Undefined when no platform sends any.
 */
export const CAUSE_EXAMPLE = (():
  { platform: PlatformName; body(customerId: string): object } | undefined => {
  for (const { source, kind } of BY_WEIGHT) {
    const platform = source.name;
    if (!('event' in kind) || !isPlatformName(platform)) continue;
    const type = kind.event.type;
    return { platform, body: (customerId) => ({ type, customerId }) };
  }
  return undefined;
})();
