import { looksPersonal } from './personal-data.js';

/**
 * Shared by the Shopify connector's order records and the webhook normalisers (the gateway may not
 * import a connector), so one landing link gives the same attribution on both paths.
 */

/** Marketing attribution carried by a landing link: which campaign brought the visitor. */
export interface Utm {
  source: string | null;
  medium: string | null;
  campaign: string | null;
  content: string | null;
  term: string | null;
}

const KEYS = {
  utm_source: 'source',
  utm_medium: 'medium',
  utm_campaign: 'campaign',
  utm_content: 'content',
  utm_term: 'term',
} as const satisfies Record<string, keyof Utm>;

function isUtmKey(key: string): key is keyof typeof KEYS {
  return Object.hasOwn(KEYS, key);
}

/**
 * The UTM parameters of a landing page, given as Shopify stores it: a path with a query
 * (`/products/x?utm_source=facebook`) or a full URL. Null when the link carries none. Landing
 * sites are whatever the visitor's browser sent, so junk yields null rather than an error. A value
 * that looks like personal data (`utm_term=ada@example.com`, a phone number) counts as absent:
 * attribution is shown to readers without `pii:read`.
 */
export function parseUtm(landingSite: string | null | undefined): Utm | null {
  if (!landingSite) return null;
  const question = landingSite.indexOf('?');
  if (question < 0) return null;
  const query = landingSite.slice(question + 1).split('#')[0] ?? '';
  const utm: Utm = { source: null, medium: null, campaign: null, content: null, term: null };
  let found = false;
  for (const pair of query.split('&')) {
    const equals = pair.indexOf('=');
    if (equals <= 0) continue;
    // Links copied out of HTML emails arrive with `&amp;` between parameters.
    const key = decode(pair.slice(0, equals)).toLowerCase().replace(/^amp;/, '');
    if (!isUtmKey(key)) continue;
    const value = decode(pair.slice(equals + 1)).trim();
    const field = KEYS[key];
    if (value === '' || utm[field] !== null || looksPersonal(value)) continue;
    utm[field] = value;
    found = true;
  }
  return found ? utm : null;
}

/** Form decoding (`+` is a space) that keeps a malformed escape as written instead of throwing. */
function decode(text: string): string {
  const spaced = text.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}
