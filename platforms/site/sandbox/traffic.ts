import { randomUUID } from 'node:crypto';
import { signStandardWebhook } from '../../../lib/webhooks/sign.js';
import type { DemoTraffic, OutgoingWebhook, TrafficContext } from '../../../sandboxes/kit/traffic.js';
import { campaignVisit } from '../../../sandboxes/world/links.js';
import { PRODUCTS } from '../../../sandboxes/world/names.js';

/**
 * The company site's webhooks in the demo: form fills and page views, signed with Standard
 * Webhooks. They change no platform record, so they are drawn here, never refused by the state;
 * page views dominate, as on a real site.
 */

/** The demo company's website: `.example` is reserved, so no link ever leaves the machine. */
const SITE_ORIGIN = 'https://www.demo-outdoor.example';
const USER_AGENT = 'demo-outdoor-site/1.0 (standard-webhooks)';
const FORMS = [
  { formId: 'newsletter-signup', page: '/newsletter', fields: ['email', 'firstname'] },
  { formId: 'contact-us', page: '/contact', fields: ['email', 'firstname', 'lastname', 'phone', 'message'] },
  {
    formId: 'trail-guide-download',
    page: '/guides/trail-running',
    fields: ['email', 'firstname', 'lastname'],
  },
] as const;
const MESSAGES = [
  'Do you ship to Canada?',
  'Is the rain shell available in XL?',
  'I would like to ask about a team order.',
];
const REFERRERS = ['https://www.google.com/', 'https://l.facebook.com/', 'https://www.instagram.com/', ''];

/** A message of the site, signed with Standard Webhooks; `webhook-id` is kept across retries. */
function siteWebhook(
  context: TrafficContext,
  message: { type: string; [key: string]: unknown },
): OutgoingWebhook {
  const id = `msg_${randomUUID().replace(/-/g, '')}`;
  const body = JSON.stringify(message);
  return {
    topic: message.type,
    url: context.endpoint,
    payload: message,
    attempt: (_number, now) => {
      const timestamp = Math.floor(now.getTime() / 1000);
      return {
        headers: {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signStandardWebhook({ secret: context.secret, id, timestamp, body }),
        },
        body,
      };
    },
  };
}

/** The UTM query of a visit: a campaign's six times in ten (the rest come from bookmarks and search). */
const campaignQuery = (context: TrafficContext) => campaignVisit(context.world, context.random)?.query ?? '';

/** A form on the site filled by someone the world knows. */
export function formFill(context: TrafficContext): OutgoingWebhook {
  const { random } = context;
  const { person } = random.pick(context.world.customers);
  const form = random.pick(FORMS);
  const values: Record<string, string> = {
    email: person.email,
    firstname: person.firstName,
    lastname: person.lastName,
    phone: person.phone,
    message: random.pick(MESSAGES),
  };
  return siteWebhook(context, {
    type: 'form.submitted',
    timestamp: new Date().toISOString(),
    data: {
      formId: form.formId,
      pageUrl: `${SITE_ORIGIN}${form.page}${campaignQuery(context)}`,
      fields: form.fields.map((name) => ({ name, value: values[name] ?? '' })),
    },
  });
}

/** A page of the site viewed, by someone the world knows four times in ten. */
export function pageView(context: TrafficContext): OutgoingWebhook {
  const { random } = context;
  const product = random.pick(PRODUCTS);
  const path = random.chance(0.7)
    ? `/products/${product}`
    : random.pick(['/', '/collections/new', '/journal']);
  const known = random.chance(0.4) ? random.pick(context.world.customers).person.email : undefined;
  const title = path.startsWith('/products/')
    ? `${product.replace(/-/g, ' ')} | Demo Outdoor Co`
    : 'Demo Outdoor Co';
  return siteWebhook(context, {
    type: 'page.viewed',
    timestamp: new Date().toISOString(),
    data: {
      url: `${SITE_ORIGIN}${path}${campaignQuery(context)}`,
      path,
      referrer: random.pick(REFERRERS),
      title,
      ...(known ? { email: known } : {}),
    },
  });
}

/** The site has no sandbox to cause events on: its traffic is only drawn. */
export const SITE_TRAFFIC: DemoTraffic = {
  events: [],
  kinds: [
    { name: 'page-view', weight: 35, send: pageView },
    { name: 'form-fill', weight: 20, send: formFill },
  ],
};
