import { describe, expect, it } from 'vitest';
import { hubSpotSignedUri, verifyHubSpot } from '../../platforms/hubspot/webhooks/verify.js';
import { signHubSpotV1, signHubSpotV3 } from '../../platforms/hubspot/sandbox/sign.js';

const SECRET = 'test-hubspot-client-secret-0001';
const OLD_SECRET = 'test-hubspot-client-secret-0000';
const URI = 'https://hooks.example.com/webhooks/hubspot';
const NOW = Date.parse('2026-11-28T12:00:00.000Z');
const BODY = Buffer.from(
  '[{"objectId":1246965,"propertyName":"lifecyclestage","propertyValue":"subscriber","changeSource":"ACADEMY","eventId":3816279340,"subscriptionId":25,"portalId":33,"appId":1160452,"occurredAt":1462216307945,"subscriptionType":"contact.propertyChange","attemptNumber":0}]',
);

/** A v3-signed request as HubSpot sends it, signed `ageMs` before NOW. */
function signed(
  options: { secret?: string; ageMs?: number; uri?: string; signedUri?: string; body?: Buffer } = {},
) {
  const timestamp = NOW - (options.ageMs ?? 1_000);
  const body = options.body ?? BODY;
  return {
    method: 'POST',
    uri: options.uri ?? URI,
    rawBody: body,
    headers: {
      'x-hubspot-signature-v3': signHubSpotV3({
        secret: options.secret ?? SECRET,
        uri: options.signedUri ?? options.uri ?? URI,
        body,
        timestamp,
      }),
      'x-hubspot-request-timestamp': String(timestamp),
    },
  };
}

describe('HubSpot v3 signature', () => {
  it('should accept the published SDK vector (client secret yyyy…, POST, timestamp 15000000)', () => {
    const result = verifyHubSpot(
      {
        method: 'POST',
        uri: 'https://www.example.com/webhook_uri',
        rawBody: Buffer.from("{'example_field':'example_value'}"),
        headers: {
          'X-HubSpot-Signature-v3': 'HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=',
          'X-HubSpot-Request-Timestamp': '15000000',
        },
      },
      { secrets: ['yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy'], now: 15_000_000 + 60_000 },
    );
    expect(result).toEqual({ ok: true });
  });

  it('should accept a request signed with the secret, and refuse a tampered body or a wrong secret', () => {
    expect(verifyHubSpot(signed(), { secrets: [SECRET], now: NOW })).toEqual({ ok: true });
    const tampered = signed();
    tampered.rawBody = Buffer.from(BODY.toString().replace('subscriber', 'customer'));
    expect(verifyHubSpot(tampered, { secrets: [SECRET], now: NOW })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifyHubSpot(signed({ secret: 'someone-else' }), { secrets: [SECRET], now: NOW })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('should refuse a request whose method or URI differs from what was signed', () => {
    expect(verifyHubSpot({ ...signed(), method: 'PUT' }, { secrets: [SECRET], now: NOW })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifyHubSpot({ ...signed(), uri: `${URI}?x=1` }, { secrets: [SECRET], now: NOW })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('should accept the old and the new secret during a rotation, and neither once removed', () => {
    const both = { secrets: [SECRET, OLD_SECRET], now: NOW };
    expect(verifyHubSpot(signed({ secret: OLD_SECRET }), both)).toEqual({ ok: true });
    expect(verifyHubSpot(signed({ secret: SECRET }), both)).toEqual({ ok: true });
    expect(verifyHubSpot(signed({ secret: OLD_SECRET }), { secrets: [SECRET], now: NOW })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('should say which header is missing or malformed', () => {
    const request = signed();
    const { 'x-hubspot-request-timestamp': _timestamp, ...noTimestamp } = request.headers;
    expect(verifyHubSpot({ ...request, headers: {} }, { secrets: [SECRET], now: NOW })).toEqual({
      ok: false,
      reason: 'missing-signature',
    });
    expect(verifyHubSpot({ ...request, headers: noTimestamp }, { secrets: [SECRET], now: NOW })).toEqual({
      ok: false,
      reason: 'missing-timestamp',
    });
    for (const timestamp of ['soon', '1.7e12', '-1', '']) {
      expect(
        verifyHubSpot(
          { ...request, headers: { ...request.headers, 'x-hubspot-request-timestamp': timestamp } },
          { secrets: [SECRET], now: NOW },
        ),
      ).toEqual({ ok: false, reason: 'bad-timestamp' });
    }
  });

  it('should treat a signature header sent twice with different values as missing', () => {
    const request = signed();
    const headers = {
      ...request.headers,
      'x-hubspot-signature-v3': [request.headers['x-hubspot-signature-v3'], 'AAAA'],
    };
    expect(verifyHubSpot({ ...request, headers }, { secrets: [SECRET], now: NOW })).toEqual({
      ok: false,
      reason: 'missing-signature',
    });
  });

  it('should accept a timestamp exactly 5 minutes old and refuse one a millisecond older, or too far ahead', () => {
    const options = { secrets: [SECRET], now: NOW };
    expect(verifyHubSpot(signed({ ageMs: 300_000 }), options)).toEqual({ ok: true });
    expect(verifyHubSpot(signed({ ageMs: 300_001 }), options)).toEqual({ ok: false, reason: 'stale' });
    expect(verifyHubSpot(signed({ ageMs: -300_000 }), options)).toEqual({ ok: true });
    expect(verifyHubSpot(signed({ ageMs: -300_001 }), options)).toEqual({ ok: false, reason: 'future' });
    expect(verifyHubSpot(signed({ ageMs: 60_000 }), { ...options, toleranceMs: 30_000 })).toEqual({
      ok: false,
      reason: 'stale',
    });
  });
});

describe('HubSpot v3 URI decoding', () => {
  it('should decode exactly the twelve listed escapes, in either case, in one pass', () => {
    expect(hubSpotSignedUri('https://x.example/a%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B')).toBe(
      "https://x.example/a:/?@!$'()*,;",
    );
    expect(hubSpotSignedUri('https://x.example/a%3a%2f%3f')).toBe('https://x.example/a:/?');
    expect(hubSpotSignedUri('https://x.example/a%20b%26c%3Dd%25e%2B')).toBe(
      'https://x.example/a%20b%26c%3Dd%25e%2B',
    );
    expect(hubSpotSignedUri('https://x.example/%253A')).toBe('https://x.example/%253A');
  });

  it('should verify a request whose query the client percent-encoded, HubSpot having signed it decoded', () => {
    const signedUri = "https://hooks.example.com/webhooks/hubspot?portal=a:b/c@d!$'()*,;&next=?x";
    const sentUri =
      'https://hooks.example.com/webhooks/hubspot?portal=a%3Ab%2Fc%40d%21%24%27%28%29%2A%2C%3B&next=%3Fx';
    expect(verifyHubSpot(signed({ uri: sentUri, signedUri }), { secrets: [SECRET], now: NOW })).toEqual({
      ok: true,
    });
    const lower = sentUri.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase());
    expect(verifyHubSpot(signed({ uri: lower, signedUri }), { secrets: [SECRET], now: NOW })).toEqual({
      ok: true,
    });
  });

  it('should keep escapes outside the list, so a space decoded by the signer does not match', () => {
    const sentUri = 'https://hooks.example.com/webhooks/hubspot?team=growth%20ops';
    expect(verifyHubSpot(signed({ uri: sentUri }), { secrets: [SECRET], now: NOW })).toEqual({ ok: true });
    expect(
      verifyHubSpot(
        signed({ uri: sentUri, signedUri: 'https://hooks.example.com/webhooks/hubspot?team=growth ops' }),
        {
          secrets: [SECRET],
          now: NOW,
        },
      ),
    ).toEqual({ ok: false, reason: 'bad-signature' });
  });
});

describe('HubSpot v1 signature', () => {
  const vectorBody =
    '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]';
  const vector = {
    method: 'POST',
    uri: URI,
    rawBody: Buffer.from(vectorBody),
    headers: {
      'x-hubspot-signature': '232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de',
      'x-hubspot-signature-version': 'v1',
    },
  };
  const vectorSecret = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';

  it('should accept the published vector only when v1 is enabled', () => {
    expect(verifyHubSpot(vector, { secrets: [vectorSecret], acceptV1: true })).toEqual({ ok: true });
    expect(verifyHubSpot(vector, { secrets: [vectorSecret] })).toEqual({
      ok: false,
      reason: 'unsupported-version',
    });
  });

  it('should refuse a tampered body, a wrong secret and a v2 signature', () => {
    expect(
      verifyHubSpot(
        { ...vector, rawBody: Buffer.from(vectorBody.replace('123', '124')) },
        {
          secrets: [vectorSecret],
          acceptV1: true,
        },
      ),
    ).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyHubSpot(vector, { secrets: [SECRET], acceptV1: true })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(
      verifyHubSpot(
        { ...vector, headers: { ...vector.headers, 'x-hubspot-signature-version': 'v2' } },
        { secrets: [vectorSecret], acceptV1: true },
      ),
    ).toEqual({ ok: false, reason: 'unsupported-version' });
  });

  it('should prefer v3 when both are sent, so a valid v1 does not excuse a stale v3', () => {
    const request = signed({ ageMs: 600_000 });
    const headers = {
      ...request.headers,
      'x-hubspot-signature': signHubSpotV1(SECRET, BODY),
      'x-hubspot-signature-version': 'v1',
    };
    expect(verifyHubSpot({ ...request, headers }, { secrets: [SECRET], acceptV1: true, now: NOW })).toEqual({
      ok: false,
      reason: 'stale',
    });
  });
});
