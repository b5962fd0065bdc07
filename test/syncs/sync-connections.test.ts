import { describe, expect, it } from 'vitest';
import { syncConnections, syncConnector } from '../../cli/sync-connections.js';
import { DEMO_API_KEYS } from '../../gateway/auth/demo-keys.js';
import { generateGatewayKeys } from '../../lib/auth/gateway-token.js';
import { ConfigError } from '../../lib/config/env.js';
import { SYNC_TARGETS } from '../../platforms/registry.js';

/**
 * Where a sync writes: the platform named by its variables (production and development alike),
 * the demo sandbox only outside production, and in production never a sandbox.
 */
describe('a sync destination connection', () => {
  const audience = SYNC_TARGETS.get('mailchimp-audience')!;
  const extra = async () => ({
    GATEWAY_TOKEN_JWKS: JSON.stringify((await generateGatewayKeys()).publicJwks),
  });
  const mailchimp = {
    MAILCHIMP_API_KEY: 'an-operator-key-0123456789-us21',
    MAILCHIMP_LIST_ID: 'list-of-the-operator',
    MAILCHIMP_BASE_URL: 'https://mailchimp.example.com/3.0',
  };

  it('should use the platform variables when they are set, in production too', async () => {
    const connect = await syncConnector(mailchimp, true, await extra());
    expect(connect(audience)).toMatchObject({
      baseUrl: 'https://mailchimp.example.com/3.0',
      apiKey: mailchimp.MAILCHIMP_API_KEY,
      listId: 'list-of-the-operator',
    });
  });

  it('should fail a production sync to a platform without variables, naming the one to set', async () => {
    const connect = await syncConnector({}, true, await extra());
    expect(() => connect(audience)).toThrow(ConfigError);
    expect(() => connect(audience)).toThrow(
      /MAILCHIMP_API_KEY: required in production to sync to mailchimp-audience/,
    );
  });

  it("should reach the demo's sandbox at its port outside production", async () => {
    const connect = await syncConnector({ MAILCHIMP_SANDBOX_PORT: '45123' }, false, await extra());
    expect(connect(audience)).toMatchObject({ baseUrl: 'http://127.0.0.1:45123/3.0' });
  });

  it('should refuse bad platform variables before any run, naming them', async () => {
    await expect(syncConnector({ MAILCHIMP_API_KEY: 'k' }, true, {})).rejects.toThrow(ConfigError);
  });
});

/** The key `sync run` and a worker's syncs read their source with, decided in one place. */
describe("a sync's source key", () => {
  const options = { source: {}, requiredWith: 'WORKER_SYNCS=on', extra: {} };

  it('should use SYNC_API_KEY when it is set, in production too', async () => {
    const { apiKey } = await syncConnections({
      ...options,
      production: true,
      apiKey: 'the-sync-clients-key',
    });
    expect(apiKey).toBe('the-sync-clients-key');
  });

  it("should fall back to the demo's key outside production only, naming the setting in production", async () => {
    expect((await syncConnections({ ...options, production: false, apiKey: undefined })).apiKey).toBe(
      DEMO_API_KEYS['personalization-service'],
    );
    await expect(syncConnections({ ...options, production: true, apiKey: undefined })).rejects.toThrow(
      /SYNC_API_KEY: required with WORKER_SYNCS=on in production/,
    );
  });
});
