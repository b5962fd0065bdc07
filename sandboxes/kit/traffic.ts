import { z } from 'zod';
import type { Random } from '../world/random.js';
import type { Customer, World } from '../world/world.js';

/**
 * The demo's webhook traffic as one source sends it, written in the source's folder
 * (`platforms/<name>/sandbox/traffic.ts`) and exposed by its descriptor (`webhooks.demoTraffic`):
 * the events a user can cause on its sandbox, and the kinds of live traffic the emitter
 * (sandboxes/webhooks/) draws among every source's. A platform event is applied to the shared world
 * first, then written as the webhooks that report it, so the graph read afterwards agrees with it.
 * The sender signs on its own (`platforms/<name>/sandbox/sign.ts`), never with the gateway's
 * verifier: a fake that shares code with what it tests proves nothing.
 */

/** The signed request for one delivery attempt. */
export interface WebhookAttempt {
  headers: Record<string, string>;
  body: string;
}

/**
 * A webhook as the source sends it. A platform signs every delivery attempt afresh (new timestamp;
 * some count the attempt in the body), so a webhook is a recipe for an attempt, not fixed bytes.
 */
export interface OutgoingWebhook {
  /** The source's name for it: `orders/create`, `contact.propertyChange`, `cleaned`, `form.submitted`. */
  topic: string;
  /** Where it is posted: the context's `endpoint`, with whatever the source adds (a URL secret). */
  url: string;
  /** What the first attempt's body says, as data (a form body as its fields), to show a user. */
  payload: unknown;
  /** The signed request for one attempt (0 is the first delivery). */
  attempt(number: number, now: Date): WebhookAttempt;
}

/** What a source's traffic is written with. */
export interface TrafficContext {
  /** The sandboxes' shared state: a platform event changes it before its webhooks say so. */
  world: World;
  random: Random;
  /** The secret this source signs with (its demo secret, which the demo gateway verifies with). */
  secret: string;
  /** The gateway's endpoint for this source, `<gateway origin>/webhooks/<source>`. */
  endpoint: string;
}

/** What an event changed, to show whoever caused it, and the webhooks that report it, in order. */
export interface Happening {
  applied: Record<string, unknown>;
  webhooks: OutgoingWebhook[];
}

/**
 * An event of the platform's a user can cause on its sandbox (`POST /__sandbox/webhooks` with its
 * `type`, the customer, and its `fields`), and the live traffic draws.
 */
export interface DemoEvent {
  /** The platform's own name for it: `orders/create`. */
  type: string;
  /** The request's fields beside `type` and the customer, as zod parts; others are refused. */
  fields: z.ZodRawShape;
  /**
   * Applies it to the world and writes its webhooks; `fields` are checked against `fields` first. A
   * transition the platform would not make throws TransitionError and changes nothing.
   */
  happen(
    context: TrafficContext,
    customer: Customer,
    fields: Readonly<Record<string, unknown>>,
    at: number,
  ): Happening;
}

/** A DemoEvent whose `happen` is given its fields as its schema types them. */
export function defineDemoEvent<S extends z.ZodRawShape>(event: {
  type: string;
  fields: S;
  happen(
    context: TrafficContext,
    customer: Customer,
    fields: z.output<z.ZodObject<S>>,
    at: number,
  ): Happening;
}): DemoEvent {
  const schema = z.object(event.fields).strict();
  return {
    type: event.type,
    fields: event.fields,
    happen: (context, customer, fields, at) => event.happen(context, customer, schema.parse(fields), at),
  };
}

/** A request for an event, drawn among the customers the world's state allows it for. */
export interface DrawnEvent {
  customer: Customer;
  fields: Record<string, unknown>;
}

/** One kind of live traffic, picked by the emitter at its weight among every source's kinds. */
export type TrafficKind =
  | {
      /** Unique among every source's kinds: `order`, `page-view`. */
      name: string;
      /** How often it comes up relative to the others (page views dominate, as on a real site). */
      weight: number;
      /** The platform event it is an occurrence of. */
      event: DemoEvent;
      /** An occurrence the current state allows; undefined when nobody can have one. */
      draw(context: TrafficContext): DrawnEvent | undefined;
    }
  | {
      name: string;
      weight: number;
      /**
       * A message that changes no platform record (a page view): always possible, so the heaviest
       * such kind stands in when the state allows no change of a drawn kind.
       */
      send(context: TrafficContext): OutgoingWebhook;
    };

/** A webhook source's demo traffic: its descriptor's `webhooks.demoTraffic`. */
export interface DemoTraffic {
  /** What a user can cause on the source's sandbox; empty for a source without one (the site). */
  events: readonly DemoEvent[];
  kinds: readonly TrafficKind[];
}

/** A customer the predicate holds for, drawn at random; undefined when it holds for nobody. */
export function pickCustomer(
  { world, random }: Pick<TrafficContext, 'world' | 'random'>,
  where: (customer: Customer) => boolean,
): Customer | undefined {
  const candidates = world.customers.filter(where);
  return candidates.length > 0 ? random.pick(candidates) : undefined;
}
