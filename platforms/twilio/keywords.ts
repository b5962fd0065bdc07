/**
 * Twilio's default opt-out and opt-in keywords for SMS (its "STOP filtering"): a message whose
 * whole text is one of them, in any case and with surrounding spaces, stops (or resumes) delivery
 * from the sender it was sent to. Twilio answers them itself; the app only learns of them from the
 * inbound message. Shared by the client (consent from the message history) and the webhook
 * normaliser (consent from the inbound webhook); the sandbox keeps its own list, since a fake that
 * shares code with what it tests proves nothing.
 */
export const OPT_OUT_KEYWORDS = [
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'REVOKE',
  'OPTOUT',
] as const;
export const OPT_IN_KEYWORDS = ['START', 'YES', 'UNSTOP'] as const;

/** Inbound messages the client reads, newest first, looking for the latest opt-out or opt-in keyword. */
export const CONSENT_SCAN_LIMIT = 1000;

export type OptKeyword = (typeof OPT_OUT_KEYWORDS)[number] | (typeof OPT_IN_KEYWORDS)[number];

/** What a message's text does to consent: opts out, opts back in, or nothing (any other text). */
export function keywordOf(body: string | null): { keyword: OptKeyword; optOut: boolean } | null {
  const word = (body ?? '').trim().toUpperCase();
  const out = OPT_OUT_KEYWORDS.find((k) => k === word);
  if (out) return { keyword: out, optOut: true };
  const back = OPT_IN_KEYWORDS.find((k) => k === word);
  return back ? { keyword: back, optOut: false } : null;
}
