/**
 * Telling personal data apart from the details an event may show without `pii:read`. Webhooks carry
 * page URLs, referrers and campaign tags that the sender fills in, and senders put email addresses
 * and phone numbers in them (`?email=ada@example.com`, `utm_term=+44 20 7946 0958`): anything
 * headed for an event's public `properties` passes through here first. Shared by the webhook
 * normalisers and the Shopify connector's order records (through lib/utm.ts), so both answer alike.
 */

/**
 * Query parameters that carry campaign attribution and nothing about the visitor: everything else
 * in a URL's query (search terms, tokens, form echoes, `email=`) is dropped. Click ids are opaque
 * ad-platform references, kept because attribution needs them.
 */
export const ATTRIBUTION_PARAMS: ReadonlySet<string> = new Set([
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'utm_id',
  'gclid',
  'gbraid',
  'wbraid',
  'dclid',
  'fbclid',
  'msclkid',
  'ttclid',
  'li_fat_id',
]);

/** Written where a path segment held personal data, so the page's shape stays readable. */
export const REDACTED = '(redacted)';

/** `local@domain.tld` anywhere in the text; the local part as mail systems allow it. */
const EMAIL =
  /[\w.!#$%&'*+/=?^`{|}~-]+@[a-z\d](?:[a-z\d-]*[a-z\d])?(?:\.[a-z\d](?:[a-z\d-]*[a-z\d])?)*\.[a-z]{2,}/i;
const PHONE_CHARACTERS = /^\+?[\d\s().-]+$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Percent-escapes and form `+` decoded, as many times as the text was encoded (at most three). */
function decoded(text: string): string {
  let current = text;
  for (let round = 0; round < 3; round += 1) {
    let next: string;
    try {
      next = decodeURIComponent(current.replace(/\+(?=\D)/g, ' '));
    } catch {
      return current;
    }
    if (next === current) return current;
    current = next;
  }
  return current;
}

/** True when an email address appears anywhere in the text, escaped or not. */
export function containsEmail(text: string): boolean {
  return EMAIL.test(text) || EMAIL.test(decoded(text));
}

/**
 * True when the whole text reads as a phone number: 7 to 15 digits (E.164's most) written with a
 * leading `+`, or in groups split by spaces, dashes, dots or brackets. A bare run of digits is not
 * taken for one: ids, order numbers and timestamps look the same, and redacting them would lose
 * what the event is about. Dates (`2026-03-01`) are not phones either.
 */
export function looksLikePhone(text: string): boolean {
  const value = decoded(text).trim();
  if (!PHONE_CHARACTERS.test(value) || ISO_DATE.test(value)) return false;
  const digits = value.replace(/\D/g, '').length;
  if (digits < 7 || digits > 15) return false;
  return value.startsWith('+') || /\d[\s().-]+\d/.test(value);
}

/** True when the text holds an email address or is a phone number: it must not be shown as a detail. */
export function looksPersonal(text: string): boolean {
  return containsEmail(text) || looksLikePhone(text);
}

/** A path with each segment that looks personal (`/u/ada@example.com/orders`) replaced by REDACTED. */
export function pathWithoutPersonalData(path: string): string {
  return path
    .split('/')
    .map((segment) => (segment !== '' && looksPersonal(segment) ? REDACTED : segment))
    .join('/');
}

/**
 * A URL as an event may show it to any reader: scheme, host, port and path (personal segments
 * redacted), plus only the attribution parameters whose values do not look personal. The
 * fragment, credentials and every other parameter go. Null when the text is not an absolute URL;
 * a non-web scheme (`android-app://com.google.android.gm/`) keeps only its scheme and host.
 */
export function urlWithoutPersonalData(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return url.host === '' ? null : `${url.protocol}//${url.host}`;
  const kept = new URLSearchParams();
  for (const [name, value] of url.searchParams) {
    const key = name.toLowerCase();
    if (ATTRIBUTION_PARAMS.has(key) && value.trim() !== '' && !looksPersonal(value)) kept.append(key, value);
  }
  const query = kept.toString();
  return `${url.protocol}//${url.host}${pathWithoutPersonalData(url.pathname)}${query ? `?${query}` : ''}`;
}
