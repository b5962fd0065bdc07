import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { messageIdFor } from '../../deliveries/ids.js';
import { newEndpointSecret, secretSealer } from '../../deliveries/secrets.js';
import { signatureHeaders } from '../../deliveries/signing.js';
import { verifyStandardWebhook } from '../../lib/webhooks/standard-webhooks.js';

describe('Standard Webhooks signing of deliveries', () => {
  const body = JSON.stringify({
    type: 'ORDER_PLACED',
    timestamp: '2026-11-28T10:00:00.000Z',
    data: { id: 'e1' },
  });

  it('should produce headers the official standardwebhooks library verifies, and the gateway verifier too', () => {
    const secret = newEndpointSecret();
    const now = Date.now();
    const headers = signatureHeaders('msg_abc', now, body, [secret]);
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(now / 1000)));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(
      verifyStandardWebhook(
        { rawBody: Buffer.from(body), headers: { ...headers } },
        { secrets: [secret], now },
      ),
    ).toEqual({
      ok: true,
    });
  });

  it('should send one v1 entry per active secret, each verifiable on its own, and fail with a stranger secret', () => {
    const [current, previous, stranger] = [newEndpointSecret(), newEndpointSecret(), newEndpointSecret()];
    const headers = signatureHeaders('msg_rot', Date.now(), body, [current, previous]);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(current).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(new Webhook(previous).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new Webhook(stranger).verify(body, { ...headers })).toThrow(/signature/i);
  });

  it('should refuse to sign without a secret', () => {
    expect(() => signatureHeaders('msg_x', Date.now(), body, [])).toThrow(/at least one active secret/);
  });

  it('should give the same message id for the same endpoint and event, and another for either changed', () => {
    const event = (id: string, processedAt = '2026-12-05T04:00:00.000Z') => ({ id, processedAt });
    const id = messageIdFor('ep_a', event('event-1'));
    expect(id).toMatch(/^msg_[a-z2-7]{26}$/);
    expect(messageIdFor('ep_a', event('event-1'))).toBe(id);
    expect(messageIdFor('ep_b', event('event-1'))).not.toBe(id);
    expect(messageIdFor('ep_a', event('event-2'))).not.toBe(id);
    // Ordered by the events' processing time, whatever the digest: later events sort after.
    const later = ['event-2', 'event-3', 'event-4'].map((n, i) =>
      messageIdFor('ep_a', event(n, `2026-12-05T04:00:0${i + 1}.000Z`)),
    );
    expect([...later, id].sort()).toEqual([id, ...later]);
  });

  it('should create secrets of 32 random bytes behind whsec_', () => {
    const secret = newEndpointSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(newEndpointSecret()).not.toBe(secret);
  });

  it('should seal secrets at rest with a key, open them again, and refuse another key', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const secret = newEndpointSecret();
    const sealed = secretSealer(key).seal(secret);
    expect(sealed).toMatch(/^sealed:v1:/);
    expect(sealed).not.toContain(secret.slice(6));
    expect(secretSealer(key).open(sealed)).toBe(secret);
    expect(() => secretSealer(Buffer.alloc(32, 8).toString('base64')).open(sealed)).toThrow(/another key/);
    expect(() => secretSealer(undefined).open(sealed)).toThrow(/no sealing key/);
    expect(secretSealer(undefined).seal(secret)).toBe(`plain:${secret}`);
  });
});
