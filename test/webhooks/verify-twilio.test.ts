import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { twilioSignature } from '../../platforms/twilio/sandbox/sign.js';
import { TWILIO_DEMO } from '../../platforms/twilio/demo.js';
import { TWILIO_TRAFFIC } from '../../platforms/twilio/sandbox/traffic.js';
import { normaliseTwilio } from '../../platforms/twilio/webhooks/normalise.js';
import { verifyTwilio } from '../../platforms/twilio/webhooks/verify.js';
import { Random } from '../../sandboxes/world/random.js';
import { generateWorld } from '../../sandboxes/world/world.js';
import { TEST_ANCHOR_DATE } from '../helpers/sandbox.js';

/**
 * Twilio's own worked example (twilio.com/docs/usage/security): auth token 12345, this URL and
 * these parameters sign to `0/KCTR6DLpKmkAf8muzZqo1nDgQ=`. A published vector, so neither the
 * verifier nor the sandbox's signer is checked only against the other.
 */
const TOKEN = '12345';
const URL = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const PARAMS = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+12349013030',
  Digits: '1234',
  From: '+12349013030',
  To: '+18005551212',
};
const SIGNATURE = '0/KCTR6DLpKmkAf8muzZqo1nDgQ=';

const body = (params: Record<string, string>) => Buffer.from(new URLSearchParams(params).toString());
const verify = (
  uri: string,
  raw: Buffer,
  signature: string | undefined,
  secrets: readonly string[] = [TOKEN],
  extra: Record<string, string> = {},
) =>
  verifyTwilio(
    {
      uri,
      rawBody: raw,
      headers: { ...(signature !== undefined ? { 'x-twilio-signature': signature } : {}), ...extra },
    },
    { secrets },
  );

describe("Twilio's X-Twilio-Signature", () => {
  it("should verify Twilio's published example, and the sandbox should sign it the same way", () => {
    expect(verify(URL, body(PARAMS), SIGNATURE)).toEqual({ ok: true });
    expect(twilioSignature(TOKEN, URL, PARAMS)).toBe(SIGNATURE);
  });

  it('should sort the parameters by name whatever order the body sends them in', () => {
    const reversed = Object.fromEntries(Object.entries(PARAMS).reverse());
    expect(verify(URL, body(reversed), SIGNATURE)).toEqual({ ok: true });
  });

  it('should refuse a tampered parameter, an added one and a removed one', () => {
    expect(verify(URL, body({ ...PARAMS, Digits: '1235' }), SIGNATURE)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verify(URL, body({ ...PARAMS, Extra: 'x' }), SIGNATURE)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    const { Digits: _dropped, ...fewer } = PARAMS;
    expect(verify(URL, body(fewer), SIGNATURE)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('should refuse the same request at another URL: another host, path, scheme or query', () => {
    for (const other of [
      'https://evil.example/myapp.php?foo=1&bar=2',
      'https://mycompany.com/other.php?foo=1&bar=2',
      'http://mycompany.com/myapp.php?foo=1&bar=2',
      'https://mycompany.com/myapp.php?foo=1&bar=3',
    ])
      expect(verify(other, body(PARAMS), SIGNATURE)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('should accept the URL with its port written out or left out, as Twilio signs either', () => {
    expect(verify('https://mycompany.com:443/myapp.php?foo=1&bar=2', body(PARAMS), SIGNATURE)).toEqual({
      ok: true,
    });
    const withPort = 'https://hooks.example.com:443/webhooks/twilio';
    const signed = twilioSignature(TOKEN, withPort, PARAMS);
    expect(verify('https://hooks.example.com/webhooks/twilio', body(PARAMS), signed)).toEqual({ ok: true });
    // Only the port: another host with the same path is still another URL.
    expect(verify('https://mycompany.example:443/myapp.php?foo=1&bar=2', body(PARAMS), SIGNATURE)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('should sign a repeated parameter with each distinct value in order', () => {
    const raw = Buffer.from('To=%2B1555&MediaUrl=b&MediaUrl=a');
    const expected = createHmac('sha1', TOKEN).update(`${URL}MediaUrlaMediaUrlbTo+1555`).digest('base64');
    expect(verify(URL, raw, expected)).toEqual({ ok: true });
  });

  it('should try every configured token, so the secondary verifies while the primary rotates', () => {
    expect(verify(URL, body(PARAMS), SIGNATURE, ['new-primary-token-000', TOKEN])).toEqual({ ok: true });
    expect(verify(URL, body(PARAMS), SIGNATURE, ['new-primary-token-000'])).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('should say what is missing or not supported', () => {
    expect(verify(URL, body(PARAMS), undefined)).toEqual({ ok: false, reason: 'missing-signature' });
    expect(verify(URL, body(PARAMS), '  ')).toEqual({ ok: false, reason: 'missing-signature' });
    expect(
      verify(URL, body(PARAMS), SIGNATURE, [TOKEN], {
        'x-twilio-webhooks-signature-settings': 'key=KS1,algorithm=HMAC_SHA256',
      }),
    ).toEqual({ ok: false, reason: 'unsupported-version' });
    expect(() => verify(URL, body(PARAMS), SIGNATURE, [])).toThrow(TypeError);
  });
});

describe("the demo's Twilio traffic", () => {
  it('should send an incoming message the gateway verifies and reads as an opt-out', () => {
    const world = generateWorld({ seed: 3, customers: 20, anchorDate: TEST_ANCHOR_DATE });
    const customer = world.customers[0]!;
    const endpoint = 'http://127.0.0.1:4000/webhooks/twilio';
    const [event] = TWILIO_TRAFFIC.events;
    const happening = event!.happen(
      { world, random: Random.for(3, 'test'), secret: TWILIO_DEMO.webhookSecret, endpoint },
      customer,
      { body: 'STOP' },
      Date.now(),
    );
    const [webhook] = happening.webhooks;
    const attempt = webhook!.attempt(0, new Date());
    const request = { uri: endpoint, rawBody: Buffer.from(attempt.body), headers: attempt.headers };
    expect(verifyTwilio(request, { secrets: [TWILIO_DEMO.webhookSecret] })).toEqual({ ok: true });
    const normalised = normaliseTwilio(request.rawBody, request.headers, new Date());
    expect(normalised).toMatchObject({
      ok: true,
      events: [{ type: 'SMS_RECEIVED', properties: { optOut: true, keyword: 'STOP' } }],
    });
    // The sandbox holds the text and Twilio's confirmation, as its API will show them.
    expect(happening.applied).toMatchObject({ reply: { body: expect.stringContaining('unsubscribed') } });
  });
});
