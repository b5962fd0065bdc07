import { Random } from '../../../sandboxes/world/random.js';
import { WINDOW_DAYS, type World } from '../../../sandboxes/world/world.js';
import { sidFor, segmentsOf, type SandboxMessage } from './resources.js';

/**
 * The texts the demo company exchanged with its customers over the world's 90 days, derived from
 * the seed and each phone number, so every process with the same seed serves the same history.
 * Consent is per phone number, as at Twilio: customers who share a number share its history.
 */

/** Twilio's default opt-out and opt-in keywords, as the carrier layer reacts to them. */
export const OPT_OUT_WORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'];
export const OPT_IN_WORDS = ['START', 'YES', 'UNSTOP'];

/** Twilio's own answer to an opt-out keyword on a long code. */
export const OPT_OUT_REPLY =
  'You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe.';
export const OPT_IN_REPLY =
  'You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe.';

/** What a text does to consent: 'out', 'in' or nothing, matched as Twilio does (whole text, any case). */
export function keywordEffect(body: string): 'out' | 'in' | null {
  const word = body.trim().toUpperCase();
  if (OPT_OUT_WORDS.includes(word)) return 'out';
  return OPT_IN_WORDS.includes(word) ? 'in' : null;
}

const DAY_MS = 86_400_000;
const CAMPAIGN_TEXTS = [
  'Demo Outdoor Co: 20% off trail gear this weekend. Reply STOP to opt out.',
  'Your order has shipped! Track it in your account.',
  'New arrivals: lightweight packs for spring. Reply STOP to opt out.',
  'Last chance: free shipping ends tonight. Reply STOP to opt out.',
];

/** An E.164 number from how the world writes it (`+1 415 555 0123`); null when it is not one. */
export function e164(phone: string): string | null {
  const compact = phone.replace(/[\s().-]/g, '');
  return /^\+[1-9]\d{7,14}$/.test(compact) ? compact : null;
}

/** Every distinct customer number of the world, E.164. */
export function worldPhones(world: World): string[] {
  return [...new Set(world.customers.flatMap((c) => e164(c.person.phone) ?? []))].sort();
}

/**
 * One number's history with `sender`, oldest first: marketing texts, mostly delivered; about one
 * number in ten texts STOP (and gets Twilio's confirmation), a third of those later START; a few
 * reply something else. Nothing is sent to a number while it is opted out.
 */
export function historyFor(world: World, phone: string, sender: string): SandboxMessage[] {
  const r = Random.for(world.options.seed, 'twilio-sms', phone);
  const end = Date.parse(`${world.options.anchorDate}T18:00:00Z`);
  const start = end - WINDOW_DAYS * DAY_MS;
  const out: SandboxMessage[] = [];
  const times = Array.from({ length: r.int(0, 6) }, () => start + r.int(0, WINDOW_DAYS * DAY_MS)).sort(
    (a, b) => a - b,
  );
  const stopAt = r.chance(0.1) ? start + r.int(1, WINDOW_DAYS - 2) * DAY_MS : null;
  const startAt = stopAt !== null && r.chance(0.35) ? stopAt + r.int(1, end - stopAt - 1) : null;
  let n = 0;
  const message = (
    direction: SandboxMessage['direction'],
    body: string,
    at: number,
    final: SandboxMessage['final'],
    errorCode: number | null = null,
  ): SandboxMessage => ({
    sid: sidFor('SM', `${world.options.seed}:${phone}:${n++}`),
    direction,
    from: direction === 'inbound' ? phone : sender,
    to: direction === 'inbound' ? sender : phone,
    body,
    segments: segmentsOf(body),
    messagingServiceSid: null,
    createdAt: direction === 'inbound' ? at : at - 1_000,
    sentAt: at,
    doneAt: direction === 'inbound' ? at : at + 4_000,
    final,
    errorCode,
  });
  const optedOut = (at: number) => stopAt !== null && at > stopAt && (startAt === null || at < startAt);
  for (const at of times) {
    if (optedOut(at)) continue;
    const fate = r.weighted<[SandboxMessage['final'], number | null]>([
      [['delivered', null], 92],
      [['undelivered', 30003], 5],
      [['failed', 30007], 3],
    ]);
    out.push(message('outbound-api', r.pick(CAMPAIGN_TEXTS), at, fate[0], fate[1]));
    if (fate[0] === 'delivered' && r.chance(0.05))
      out.push(message('inbound', 'Thanks!', at + 600_000, 'received'));
  }
  if (stopAt !== null) {
    out.push(message('inbound', r.pick(['STOP', 'stop', 'Stop', 'UNSUBSCRIBE']), stopAt, 'received'));
    out.push(message('outbound-reply', OPT_OUT_REPLY, stopAt + 2_000, 'delivered'));
  }
  if (startAt !== null) {
    out.push(message('inbound', r.pick(['START', 'start', 'UNSTOP']), startAt, 'received'));
    out.push(message('outbound-reply', OPT_IN_REPLY, startAt + 2_000, 'delivered'));
  }
  return out.sort((a, b) => a.createdAt - b.createdAt);
}
