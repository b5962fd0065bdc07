import { derived } from '../../../sandboxes/world/derived.js';
import type { World } from '../../../sandboxes/world/world.js';
import { historyFor, keywordEffect, OPT_IN_REPLY, OPT_OUT_REPLY, worldPhones } from './history.js';
import { segmentsOf, sidFor, type SandboxMessage } from './resources.js';

/**
 * The Twilio account's messages for one world: the seeded history (history.ts) and every message
 * created or received since. Kept beside the world, not in it (the world is every platform's; only
 * Twilio knows texts), and shared by whoever holds the world: the sandbox serves it, and the demo
 * traffic (traffic.ts) adds the texts customers send, so the API shows what the webhooks said.
 */
interface SmsState {
  /** Messages created on the API or received since the world was generated, oldest first. */
  live: SandboxMessage[];
  /** Seeded history per sender, rebuilt when the world changes (a customer's number). */
  seeded: Map<string, () => { phones: ReadonlySet<string>; messages: readonly SandboxMessage[] }>;
  /** Messages made so far: part of each new SID, so two are never the same. */
  made: number;
}

const STATES = new WeakMap<World, SmsState>();

function stateOf(world: World): SmsState {
  let state = STATES.get(world);
  if (!state) {
    state = { live: [], seeded: new Map(), made: 0 };
    STATES.set(world, state);
  }
  return state;
}

function seededFor(world: World, sender: string) {
  const state = stateOf(world);
  let view = state.seeded.get(sender);
  if (!view) {
    view = derived(world, () => {
      const phones = worldPhones(world);
      return {
        phones: new Set(phones),
        messages: phones.flatMap((phone) => historyFor(world, phone, sender)),
      };
    });
    state.seeded.set(sender, view);
  }
  return view();
}

/** Every message of the account with customers of `sender`: seeded, then live, oldest first. */
export function messagesOf(world: World, sender: string): SandboxMessage[] {
  return [...seededFor(world, sender).messages, ...stateOf(world).live];
}

/** Whether `phone` is one of the world's customers' numbers (a handset the carrier reaches). */
export function isCustomerPhone(world: World, sender: string, phone: string): boolean {
  return seededFor(world, sender).phones.has(phone);
}

/** A fresh message SID. */
export function newSid(world: World, accountSid: string, at: number): string {
  return sidFor('SM', `${accountSid}:${stateOf(world).made++}:${at}`);
}

/** Keeps a message created on the API. */
export function addMessage(world: World, message: SandboxMessage): void {
  stateOf(world).live.push(message);
}

/**
 * What `phone` last texted `sender` that changes delivery: `out` (an opt-out keyword), `in` (an
 * opt-in one) or null (never one), up to `now`.
 */
export function lastKeyword(world: World, sender: string, phone: string, now: number): 'out' | 'in' | null {
  const keywords = messagesOf(world, sender)
    .filter((m) => m.direction === 'inbound' && m.from === phone && m.createdAt <= now)
    .map((m) => ({ at: m.createdAt, effect: keywordEffect(m.body) }))
    .filter((k) => k.effect !== null)
    .sort((a, b) => b.at - a.at);
  return keywords[0]?.effect ?? null;
}

/**
 * `phone` texts `sender`: Twilio stores the message and, for a keyword, applies it and answers with
 * its own confirmation (an `outbound-reply`, delivered a moment later).
 */
export function receiveText(
  world: World,
  options: { accountSid: string; sender: string; phone: string; body: string; at: number },
): { message: SandboxMessage; reply: SandboxMessage | null } {
  const { accountSid, sender, phone, body, at } = options;
  const message: SandboxMessage = {
    sid: newSid(world, accountSid, at),
    direction: 'inbound',
    from: phone,
    to: sender,
    body,
    segments: segmentsOf(body),
    messagingServiceSid: null,
    createdAt: at,
    sentAt: at,
    doneAt: at,
    final: 'received',
    errorCode: null,
  };
  addMessage(world, message);
  const effect = keywordEffect(body);
  if (effect === null) return { message, reply: null };
  const text = effect === 'out' ? OPT_OUT_REPLY : OPT_IN_REPLY;
  const reply: SandboxMessage = {
    ...message,
    sid: newSid(world, accountSid, at),
    direction: 'outbound-reply',
    from: sender,
    to: phone,
    body: text,
    segments: segmentsOf(text),
    createdAt: at + 1,
    sentAt: at + 1,
    doneAt: at + 250,
    final: 'delivered',
  };
  addMessage(world, reply);
  return { message, reply };
}
