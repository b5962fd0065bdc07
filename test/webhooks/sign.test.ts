import { describe, expect, it } from 'vitest';
import { signStandardWebhook } from '../../lib/webhooks/sign.js';
import { signHubSpotV1, signHubSpotV3 } from '../../platforms/hubspot/sandbox/sign.js';
import { signShopify } from '../../platforms/shopify/sandbox/sign.js';

/** The signers against the platforms' own published vectors, so tests that use them test something. */
describe('webhook signers', () => {
  const hubspotSecret = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';

  it("should compute HubSpot's v3 SDK vector", () => {
    expect(
      signHubSpotV3({
        secret: hubspotSecret,
        method: 'POST',
        uri: 'https://www.example.com/webhook_uri',
        body: "{'example_field':'example_value'}",
        timestamp: 15_000_000,
      }),
    ).toBe('HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=');
  });

  it("should compute HubSpot's v1 documentation vector", () => {
    const body =
      '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]';
    expect(signHubSpotV1(hubspotSecret, body)).toBe(
      '232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de',
    );
  });

  it("should compute the Standard Webhooks library's vector", () => {
    expect(
      signStandardWebhook({
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
        timestamp: 1_614_265_330,
        body: '{"test": 2432232314}',
      }),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('should sign Shopify bodies as bytes: the same text gives the same HMAC as a string or a buffer', () => {
    const text = '{"id":1,"email":"zoë@example.com"}';
    const signature = signShopify('secret', text);
    expect(signShopify('secret', Buffer.from(text, 'utf8'))).toBe(signature);
    expect(Buffer.from(signature, 'base64')).toHaveLength(32);
    expect(signShopify('secret', `${text} `)).not.toBe(signature);
  });
});
