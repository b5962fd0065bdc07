import { describe, expect, it } from 'vitest';
import { verifyMailchimp } from '../../platforms/mailchimp/webhooks/verify.js';
import { verifyShopify } from '../../platforms/shopify/webhooks/verify.js';
import { withMailchimpSecret } from '../../platforms/mailchimp/sandbox/sign.js';
import { signShopify } from '../../platforms/shopify/sandbox/sign.js';

describe('Shopify signature', () => {
  const secret = 'test-shopify-client-secret-new';
  const oldSecret = 'test-shopify-client-secret-old';
  // Raw bytes, not text: the HMAC covers bytes, including ones that are not valid UTF-8.
  const body = Buffer.concat([
    Buffer.from('{"id":820982911946154508,"note":"'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('"}'),
  ]);
  const request = (signature: string | undefined, raw = body) => ({
    rawBody: raw,
    headers: signature === undefined ? {} : { 'x-shopify-hmac-sha256': signature },
  });

  it('should accept the HMAC of the raw body and refuse a tampered body', () => {
    const signature = signShopify(secret, body);
    expect(verifyShopify(request(signature), { secrets: [secret] })).toEqual({ ok: true });
    const tampered = Buffer.from(body);
    tampered[7] = tampered[7] === 0x39 ? 0x38 : 0x39;
    expect(verifyShopify(request(signature, tampered), { secrets: [secret] })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('should refuse a wrong secret, a missing header and a signature with junk after it', () => {
    expect(verifyShopify(request(signShopify('another-app', body)), { secrets: [secret] })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifyShopify(request(undefined), { secrets: [secret] })).toEqual({
      ok: false,
      reason: 'missing-signature',
    });
    expect(verifyShopify(request(''), { secrets: [secret] })).toEqual({
      ok: false,
      reason: 'missing-signature',
    });
    expect(verifyShopify(request(`${signShopify(secret, body)}!!`), { secrets: [secret] })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('should accept both secrets while a rotation settles (Shopify may sign with the old one for an hour)', () => {
    const rotating = { secrets: [secret, oldSecret] };
    expect(verifyShopify(request(signShopify(oldSecret, body)), rotating)).toEqual({ ok: true });
    expect(verifyShopify(request(signShopify(secret, body)), rotating)).toEqual({ ok: true });
    expect(verifyShopify(request(signShopify(oldSecret, body)), { secrets: [secret] })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('should read the header whatever its case', () => {
    expect(
      verifyShopify(
        { rawBody: body, headers: { 'X-Shopify-Hmac-SHA256': signShopify(secret, body) } },
        { secrets: [secret] },
      ),
    ).toEqual({ ok: true });
  });
});

describe('Mailchimp URL secret', () => {
  const secret = 'test-mailchimp-url-secret-2';
  const queryOf = (url: string) => new URL(url).searchParams;

  it('should accept the secret of the registered URL, on the POSTs and on the validator GET alike', () => {
    const url = withMailchimpSecret('https://hooks.example.com/webhooks/mailchimp', secret);
    expect(url).toBe(`https://hooks.example.com/webhooks/mailchimp?secret=${secret}`);
    expect(verifyMailchimp({ query: queryOf(url) }, { secrets: [secret] })).toEqual({ ok: true });
  });

  it('should refuse a wrong, missing, empty or repeated secret', () => {
    const base = 'https://hooks.example.com/webhooks/mailchimp';
    expect(verifyMailchimp({ query: queryOf(`${base}?secret=guess`) }, { secrets: [secret] })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifyMailchimp({ query: queryOf(`${base}?secret=${secret}x`) }, { secrets: [secret] })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifyMailchimp({ query: queryOf(base) }, { secrets: [secret] })).toEqual({
      ok: false,
      reason: 'missing-signature',
    });
    expect(verifyMailchimp({ query: queryOf(`${base}?secret=`) }, { secrets: [secret] })).toEqual({
      ok: false,
      reason: 'missing-signature',
    });
    expect(
      verifyMailchimp({ query: queryOf(`${base}?secret=${secret}&secret=guess`) }, { secrets: [secret] }),
    ).toEqual({ ok: false, reason: 'missing-signature' });
  });

  it('should accept the old and the new URL secret while the webhook is re-registered', () => {
    const rotating = { secrets: [secret, 'test-mailchimp-url-secret-1'] };
    expect(
      verifyMailchimp({ query: new URLSearchParams({ secret: 'test-mailchimp-url-secret-1' }) }, rotating),
    ).toEqual({
      ok: true,
    });
    expect(verifyMailchimp({ query: new URLSearchParams({ secret }) }, rotating)).toEqual({ ok: true });
  });
});
