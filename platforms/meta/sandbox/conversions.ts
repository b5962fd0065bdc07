/**
 * The Conversions API's `POST /{pixel-id}/events` as Meta checks it: `data` holds 1 to 1,000 server
 * events; each needs `event_name`, `event_time` (Unix seconds, at most 7 days old), `action_source`
 * and `user_data` with at least one customer information parameter, contact details SHA-256
 * hashed. One bad event refuses the whole request and stores nothing ("If any event you send in a
 * batch is invalid, we reject the entire batch"). Events that share `event_name` and `event_id`
 * within 48 hours count once, which is what lets the pixel and the server both send an event.
 */

export const MAX_EVENTS_PER_REQUEST = 1_000;
const MAX_AGE_SECONDS = 7 * 86_400;
/** Clock skew the sandbox forgives an event stamped a little ahead of its own clock. */
const FUTURE_SKEW_SECONDS = 60;
/** Meta's subcode for an `event_time` more than 7 days old ("Event Timestamp Too Old"). */
export const EVENT_TOO_OLD_SUBCODE = 2804003;

export const ACTION_SOURCES = new Set([
  'email',
  'website',
  'app',
  'phone_call',
  'chat',
  'physical_store',
  'system_generated',
  'business_messaging',
  'other',
]);

/** Contact details Meta only takes hashed. */
const HASHED_FIELDS = ['em', 'ph', 'fn', 'ln', 'ge', 'db', 'ct', 'st', 'zp', 'country'] as const;
/** Sent as they are (`external_id` may be hashed or not). */
const PLAIN_FIELDS = ['external_id', 'client_ip_address', 'client_user_agent', 'fbc', 'fbp'] as const;
const SHA256_HEX = /^[a-f0-9]{64}$/;

export interface ServerEvent {
  event_name: string;
  event_time: number;
  event_id?: string;
  action_source: string;
  event_source_url?: string;
  user_data: Record<string, string | string[]>;
  custom_data?: Record<string, unknown>;
}

export interface EventsRequest {
  events: ServerEvent[];
  testEventCode: string | undefined;
  /** Warnings for events Meta accepts but cannot use fully, as the response's `messages`. */
  messages: string[];
}

export interface EventsRefusal {
  refused: true;
  title: string;
  detail: string;
  subcode?: number;
}

type Checked<T> = { value: T } | EventsRefusal;

const refuse = (title: string, detail: string, subcode?: number): EventsRefusal => ({
  refused: true,
  title,
  detail,
  ...(subcode !== undefined ? { subcode } : {}),
});

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const strings = (value: unknown): string[] | undefined =>
  typeof value === 'string'
    ? [value]
    : Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')
      ? (value as string[])
      : undefined;

function userDataOf(value: unknown, at: string): Checked<Record<string, string | string[]>> {
  if (!isRecord(value))
    return refuse('Missing User Data', `${at}.user_data is required and must be an object`);
  const out: Record<string, string | string[]> = {};
  for (const field of HASHED_FIELDS) {
    if (value[field] === undefined) continue;
    const list = strings(value[field]);
    if (!list || !list.every((v) => SHA256_HEX.test(v)))
      return refuse(
        'Unhashed Customer Information',
        `${at}.user_data.${field} must be SHA-256 hashed (64 lowercase hex characters) after normalisation`,
      );
    out[field] = value[field] as string | string[];
  }
  for (const field of PLAIN_FIELDS) {
    if (value[field] === undefined) continue;
    if (!strings(value[field]))
      return refuse('Invalid Parameter', `${at}.user_data.${field} must be a string`);
    out[field] = value[field] as string | string[];
  }
  if (Object.keys(out).length === 0)
    return refuse(
      'Missing User Data',
      `${at}.user_data needs at least one customer information parameter (em, ph, external_id, ...)`,
    );
  return { value: out };
}

function customDataOf(
  value: unknown,
  eventName: string,
  at: string,
): Checked<Record<string, unknown> | undefined> {
  const purchaseNeeds = () =>
    refuse('Missing Purchase Value', `${at}.custom_data needs value and currency for a Purchase event`);
  if (value === undefined) return eventName === 'Purchase' ? purchaseNeeds() : { value: undefined };
  if (!isRecord(value)) return refuse('Invalid Parameter', `${at}.custom_data must be an object`);
  const amount = typeof value['value'] === 'string' ? Number(value['value']) : value['value'];
  if (value['value'] !== undefined && (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0))
    return refuse('Invalid Parameter', `${at}.custom_data.value must be a non-negative number`);
  const currency = value['currency'];
  if (currency !== undefined && (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency)))
    return refuse('Invalid Parameter', `${at}.custom_data.currency must be an ISO 4217 code`);
  if (eventName === 'Purchase' && (value['value'] === undefined || currency === undefined))
    return purchaseNeeds();
  return { value };
}

function eventOf(value: unknown, index: number, nowSeconds: number): Checked<ServerEvent> {
  const at = `data[${index}]`;
  if (!isRecord(value)) return refuse('Invalid Parameter', `${at} must be an object`);
  const name = value['event_name'];
  if (typeof name !== 'string' || name.length === 0 || name.length > 256)
    return refuse('Missing Event Name', `${at}.event_name is required`);
  const rawTime = value['event_time'];
  const time = typeof rawTime === 'string' && /^\d{1,12}$/.test(rawTime) ? Number(rawTime) : rawTime;
  if (typeof time !== 'number' || !Number.isInteger(time) || time <= 0)
    return refuse('Invalid Event Time', `${at}.event_time must be a Unix timestamp in seconds`);
  if (time < nowSeconds - MAX_AGE_SECONDS)
    return refuse(
      'Event Timestamp Too Old',
      `${at}.event_time is more than 7 days in the past; events must be sent within 7 days of when they happened`,
      EVENT_TOO_OLD_SUBCODE,
    );
  if (time > nowSeconds + FUTURE_SKEW_SECONDS)
    return refuse('Event Timestamp In The Future', `${at}.event_time is in the future`);
  const source = value['action_source'];
  if (typeof source !== 'string' || !ACTION_SOURCES.has(source))
    return refuse(
      'Missing Action Source',
      `${at}.action_source is required, one of ${[...ACTION_SOURCES].join(', ')}`,
    );
  const id = value['event_id'];
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > 256))
    return refuse('Invalid Parameter', `${at}.event_id must be a non-empty string`);
  const url = value['event_source_url'];
  if (url !== undefined && typeof url !== 'string')
    return refuse('Invalid Parameter', `${at}.event_source_url must be a string`);
  const userData = userDataOf(value['user_data'], at);
  if ('refused' in userData) return userData;
  const customData = customDataOf(value['custom_data'], name, at);
  if ('refused' in customData) return customData;
  return {
    value: {
      event_name: name,
      event_time: time,
      ...(typeof id === 'string' ? { event_id: id } : {}),
      action_source: source,
      ...(typeof url === 'string' ? { event_source_url: url } : {}),
      user_data: userData.value,
      ...(customData.value ? { custom_data: customData.value } : {}),
    },
  };
}

/** Reads the request's parameters; a refusal for the whole request when one event is not valid. */
export function eventsRequestOf(
  params: Record<string, unknown>,
  nowSeconds: number,
): EventsRequest | EventsRefusal {
  const data = params['data'];
  if (!Array.isArray(data) || data.length === 0)
    return refuse('Missing Data', 'data must be a non-empty array of server events');
  if (data.length > MAX_EVENTS_PER_REQUEST)
    return refuse(
      'Too Many Events',
      `data holds ${data.length} events; a request may send at most ${MAX_EVENTS_PER_REQUEST}`,
    );
  const testEventCode = params['test_event_code'];
  if (testEventCode !== undefined && typeof testEventCode !== 'string')
    return refuse('Invalid Parameter', 'test_event_code must be a string');
  const events: ServerEvent[] = [];
  const messages: string[] = [];
  for (const [index, raw] of data.entries()) {
    const checked = eventOf(raw, index, nowSeconds);
    if ('refused' in checked) return checked;
    const event = checked.value;
    if (
      event.action_source === 'website' &&
      (event.event_source_url === undefined || event.user_data['client_user_agent'] === undefined)
    )
      messages.push(
        `data[${index}]: website events should carry event_source_url and user_data.client_user_agent; without them the event may not be used for optimisation`,
      );
    events.push(event);
  }
  return { events, testEventCode, messages };
}
