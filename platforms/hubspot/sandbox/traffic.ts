import { z } from 'zod';
import {
  defineDemoEvent,
  pickCustomer,
  type DemoTraffic,
  type OutgoingWebhook,
  type TrafficContext,
} from '../../../sandboxes/kit/traffic.js';
import { TransitionError } from '../../../sandboxes/world/changes.js';
import type { Customer } from '../../../sandboxes/world/world.js';
import { HUBSPOT_DEMO } from '../demo.js';
import {
  changeContact,
  laterStages,
  LEAD_STATUSES,
  LIFECYCLE_ORDER,
  type LifecycleStage,
} from './changes.js';
import { signHubSpotV1, signHubSpotV3 } from './sign.js';

/**
 * HubSpot's webhooks in the demo: a contact's lifecycle stage or lead status changes in the world,
 * then a `contact.propertyChange` batch says so, signed as HubSpot signs it.
 */

const APP_ID = 1_160_452;
/** One HubSpot subscription per subscribed-to property, as an app configures them. */
const SUBSCRIPTIONS: Record<string, number> = {
  lifecyclestage: 25,
  hs_lead_status: 26,
  firstname: 27,
  phone: 28,
};

/**
 * A `contact.propertyChange` batch for property values already set on the contact: one event per
 * property, as HubSpot sends one per subscription. Each attempt counts itself in the body
 * (`attemptNumber`) and is signed afresh over the full URI it is posted to.
 */
export function contactPropertyChanges(
  context: TrafficContext,
  customer: Customer,
  changes: readonly { propertyName: string; propertyValue: string }[],
  at: number,
): OutgoingWebhook {
  const { random, secret, endpoint } = context;
  const changeSource = random.pick(['CRM_UI', 'AUTOMATION_PLATFORM', 'INTEGRATION']);
  const events = changes.map((change) => ({
    objectId: Number(customer.crm.id),
    propertyName: change.propertyName,
    propertyValue: change.propertyValue,
    changeSource,
    eventId: random.int(1_000_000_000, 4_000_000_000),
    subscriptionId: SUBSCRIPTIONS[change.propertyName] ?? 25,
    portalId: Number(HUBSPOT_DEMO.credentials.accountId),
    appId: APP_ID,
    occurredAt: at,
    subscriptionType: 'contact.propertyChange',
  }));
  return {
    topic: 'contact.propertyChange',
    url: endpoint,
    payload: events.map((event) => ({ ...event, attemptNumber: 0 })),
    attempt: (number, now) => {
      const body = JSON.stringify(events.map((event) => ({ ...event, attemptNumber: number })));
      const timestamp = now.getTime();
      return {
        headers: {
          'content-type': 'application/json',
          'user-agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/) - WebhooksExecutorDaemon',
          'x-hubspot-signature-version': 'v1',
          'x-hubspot-signature': signHubSpotV1(secret, body),
          'x-hubspot-signature-v3': signHubSpotV3({ secret, method: 'POST', uri: endpoint, body, timestamp }),
          'x-hubspot-request-timestamp': String(timestamp),
        },
        body,
      };
    },
  };
}

function nextStage(customer: Customer): LifecycleStage {
  const next = laterStages(customer.crm.lifecycleStage)[0];
  if (next === undefined)
    throw new TransitionError(
      `Contact ${customer.crm.id} is at lifecycle stage ${customer.crm.lifecycleStage}, the last one: there is no stage to move it to.`,
    );
  return next;
}

/** A contact's lifecycle stage (the next one unless given) and/or lead status change. */
const contactChange = defineDemoEvent({
  type: 'contact.propertyChange',
  fields: {
    lifecycleStage: z.enum(LIFECYCLE_ORDER).optional(),
    leadStatus: z.enum(LEAD_STATUSES).optional(),
  },
  happen(context, customer, fields, at) {
    const lifecycleStage =
      fields.lifecycleStage ?? (fields.leadStatus === undefined ? nextStage(customer) : undefined);
    const applied = changeContact(
      context.world,
      customer,
      {
        ...(lifecycleStage !== undefined ? { lifecycleStage } : {}),
        ...(fields.leadStatus !== undefined ? { leadStatus: fields.leadStatus } : {}),
      },
      at,
    );
    const changes = [
      ...(applied.lifecycleStage
        ? [{ propertyName: 'lifecyclestage', propertyValue: applied.lifecycleStage.to }]
        : []),
      ...(applied.leadStatus
        ? [{ propertyName: 'hs_lead_status', propertyValue: applied.leadStatus.to }]
        : []),
    ];
    return { applied: { ...applied }, webhooks: [contactPropertyChanges(context, customer, changes, at)] };
  },
});

export const HUBSPOT_TRAFFIC: DemoTraffic = {
  events: [contactChange],
  kinds: [
    {
      name: 'contact-change',
      weight: 15,
      event: contactChange,
      draw(context) {
        const { random } = context;
        const customer = pickCustomer(context, (c) => laterStages(c.crm.lifecycleStage).length > 0);
        if (!customer) return undefined;
        const later = laterStages(customer.crm.lifecycleStage);
        // Usually one step along the funnel; sometimes a jump (a lead who buys at once).
        const lifecycleStage = random.chance(0.7) ? later[0] : random.pick(later);
        const leadStatus = random.chance(0.4)
          ? random.pick(LEAD_STATUSES.filter((status) => status !== customer.crm.leadStatus))
          : undefined;
        return {
          customer,
          fields: {
            ...(lifecycleStage !== undefined ? { lifecycleStage } : {}),
            ...(leadStatus !== undefined ? { leadStatus } : {}),
          },
        };
      },
    },
  ],
};
