import { describe, expect, it } from 'vitest';
import {
  standardWebhookSecretSchema,
  verifyStandardWebhook,
  type StandardWebhookVerifyInput,
} from '../../lib/webhooks/standard-webhooks.js';
import { generateStandardWebhookSecret, signStandardWebhook } from '../../lib/webhooks/sign.js';

/** The Standard Webhooks JavaScript library's published test vector. */
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1_614_265_330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const NOW_S = 1_800_000_000;

function message(
  options: { secret?: string; ageSeconds?: number; body?: string; signatures?: (s: string) => string } = {},
) {
  const timestamp = NOW_S - (options.ageSeconds ?? 2);
  const body = options.body ?? '{"type":"page.viewed","timestamp":"2027-01-15T08:00:00Z","data":{}}';
  const signature = signStandardWebhook({
    secret: options.secret ?? VECTOR.secret,
    id: VECTOR.id,
    timestamp,
    body,
  });
  return {
    rawBody: Buffer.from(body),
    headers: {
      'webhook-id': VECTOR.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': options.signatures ? options.signatures(signature) : signature,
    },
  };
}
const verify = (
  input: StandardWebhookVerifyInput,
  secrets = [VECTOR.secret],
  extra: { toleranceSeconds?: number } = {},
) => verifyStandardWebhook(input, { secrets, now: NOW_S * 1000, ...extra });

describe('Standard Webhooks signature', () => {
  it('should accept the published vector', () => {
    const result = verifyStandardWebhook(
      {
        rawBody: Buffer.from(VECTOR.body),
        headers: {
          'webhook-id': VECTOR.id,
          'webhook-timestamp': String(VECTOR.timestamp),
          'webhook-signature': VECTOR.signature,
        },
      },
      { secrets: [VECTOR.secret], now: VECTOR.timestamp * 1000 + 999 },
    );
    expect(result).toEqual({ ok: true });
  });

  it('should refuse a tampered body, a wrong secret, and a signature moved to another message id', () => {
    expect(verify(message())).toEqual({ ok: true });
    const tampered = message();
    tampered.rawBody = Buffer.from(tampered.rawBody.toString().replace('page.viewed', 'form.submitted'));
    expect(verify(tampered)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify(message({ secret: generateStandardWebhookSecret() }))).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    const moved = message();
    moved.headers['webhook-id'] = 'msg_another';
    expect(verify(moved)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('should say which header is missing', () => {
    const { 'webhook-id': _id, ...noId } = message().headers;
    const { 'webhook-timestamp': _ts, ...noTimestamp } = message().headers;
    const { 'webhook-signature': _sig, ...noSignature } = message().headers;
    expect(verify({ ...message(), headers: noId })).toEqual({ ok: false, reason: 'missing-id' });
    expect(verify({ ...message(), headers: noTimestamp })).toEqual({
      ok: false,
      reason: 'missing-timestamp',
    });
    expect(verify({ ...message(), headers: noSignature })).toEqual({
      ok: false,
      reason: 'missing-signature',
    });
  });

  it('should accept a list where one v1 entry is valid, skipping other versions and bad entries', () => {
    const listed = message({
      signatures: (valid) =>
        [
          'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
          `v2,${valid.slice(3)}`,
          valid,
          'v1a,c29tZQ==',
        ].join(' '),
    });
    expect(verify(listed)).toEqual({ ok: true });
    const noValid = message({ signatures: () => 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1,' });
    expect(verify(noValid)).toEqual({ ok: false, reason: 'bad-signature' });
    const onlyOtherVersions = message({ signatures: (valid) => `v2,${valid.slice(3)} v1a,c29tZQ==` });
    expect(verify(onlyOtherVersions)).toEqual({ ok: false, reason: 'unsupported-version' });
  });

  it('should accept messages signed with the old or the new secret while both are configured', () => {
    const fresh = generateStandardWebhookSecret();
    expect(verify(message({ secret: VECTOR.secret }), [fresh, VECTOR.secret])).toEqual({ ok: true });
    expect(verify(message({ secret: fresh }), [fresh, VECTOR.secret])).toEqual({ ok: true });
    // The sender signs with both during its own rotation: either key alone verifies.
    const dual = message({
      secret: fresh,
      signatures: (s) =>
        `${s} ${signStandardWebhook({ secret: VECTOR.secret, id: VECTOR.id, timestamp: NOW_S - 2, body: message().rawBody.toString() })}`,
    });
    expect(verify(dual, [VECTOR.secret])).toEqual({ ok: true });
  });

  it('should accept exactly ±300 s and refuse 301 s either way', () => {
    expect(verify(message({ ageSeconds: 300 }))).toEqual({ ok: true });
    expect(verify(message({ ageSeconds: 301 }))).toEqual({ ok: false, reason: 'stale' });
    expect(verify(message({ ageSeconds: -300 }))).toEqual({ ok: true });
    expect(verify(message({ ageSeconds: -301 }))).toEqual({ ok: false, reason: 'future' });
    expect(verify(message({ ageSeconds: 20 }), [VECTOR.secret], { toleranceSeconds: 10 })).toEqual({
      ok: false,
      reason: 'stale',
    });
  });

  it('should refuse a timestamp that is not a whole number of seconds', () => {
    for (const timestamp of [`${NOW_S}.5`, 'hello', `${NOW_S * 1000}x`, '-5', ' 1800000000']) {
      const input = message();
      input.headers['webhook-timestamp'] = timestamp;
      expect(verify(input)).toEqual({ ok: false, reason: 'bad-timestamp' });
    }
  });
});

describe('Standard Webhooks secrets', () => {
  it('should accept whsec_ secrets of 24 to 64 bytes and nothing else', () => {
    expect(standardWebhookSecretSchema.safeParse(VECTOR.secret).success).toBe(true);
    expect(standardWebhookSecretSchema.safeParse(generateStandardWebhookSecret(64)).success).toBe(true);
    expect(standardWebhookSecretSchema.safeParse(generateStandardWebhookSecret(16)).success).toBe(false);
    expect(standardWebhookSecretSchema.safeParse(generateStandardWebhookSecret(65)).success).toBe(false);
    expect(standardWebhookSecretSchema.safeParse(VECTOR.secret.slice('whsec_'.length)).success).toBe(false);
    expect(standardWebhookSecretSchema.safeParse('whsec_not*base64*at*all*0000000000').success).toBe(false);
  });

  it('should throw on a malformed configured secret rather than verify against it', () => {
    expect(() => verify(message(), ['whsec_short'])).toThrow(/whsec_/);
  });
});
