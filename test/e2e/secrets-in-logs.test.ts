import { describe, expect, it } from 'vitest';
import { DEMO_API_KEYS } from '../../gateway/auth/demo-keys.js';
import { addDays } from '../../lib/dates.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { as } from '../helpers/clients.js';
import { CUSTOMERS, DASHBOARD, PROFILE } from '../helpers/operations.js';
import { TEST_ANCHOR_DATE } from '../helpers/sandbox.js';
import { graphql, startTestStack } from '../helpers/stack.js';

/**
 * Everything every part logs during an end-to-end run at debug level, including failing upstream
 * calls and refused credentials, must hold no configured secret: platform credentials, API keys,
 * the gateway's signing key, the caller tokens it signs.
 */
describe('secrets never reach a log line', () => {
  it('should keep every configured secret out of all log output of an e2e run', async () => {
    const lines: string[] = [];
    const stack = await startTestStack({
      logSink: { write: (line: string) => void lines.push(line) },
      responseCache: false,
    });
    const attemptedKey = 'mgk_0123456789ab_this-is-a-wrong-but-well-formed-secret-value-xx';
    try {
      const email = stack.world.customers[4]!.person.email;
      const range = { since: addDays(TEST_ANCHOR_DATE, -29), until: TEST_ANCHOR_DATE };
      await graphql(stack.gatewayUrl, PROFILE, { email }, as('personalization-service'));
      await graphql(stack.gatewayUrl, DASHBOARD, range, as('reporting-dashboard'));
      await graphql(stack.gatewayUrl, CUSTOMERS, { first: 20 }, as('admin'));
      await graphql(stack.gatewayUrl, PROFILE, { email }, { authorization: `Bearer ${attemptedKey}` });
      await graphql(stack.gatewayUrl, PROFILE, { email }, as('reporting-dashboard'));
      // Failing upstream calls: error bodies, retries, malformed payloads, a timeout.
      stack.sandboxes.hubspot.faults.set({ errorRate: 1, errorStatus: 500 });
      stack.sandboxes.mailchimp.faults.set({ malformedRate: 1 });
      stack.sandboxes.shopify.faults.set({ rateLimitRate: 1, retryAfterSeconds: 0 });
      await graphql(
        stack.gatewayUrl,
        PROFILE,
        { email: stack.world.customers[5]!.person.email },
        as('admin'),
      );
      await graphql(stack.gatewayUrl, CUSTOMERS, { first: 3 }, as('admin'));
      // Straight to a subgraph with a stolen-looking token: refused and logged.
      await fetch(`${stack.origins.crm}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_API_KEYS.admin}` },
        body: '{"query":"{ __typename }"}',
      });
    } finally {
      await stack.close();
    }
    const output = lines.join('');
    const secrets = {
      'HubSpot token': DEMO_CREDENTIALS.hubspot.accessToken,
      'Mailchimp key': DEMO_CREDENTIALS.mailchimp.apiKey,
      'Shopify token': DEMO_CREDENTIALS.shopify.accessToken,
      'Meta token': DEMO_CREDENTIALS.meta.accessToken,
      'gateway signing key': String(stack.gatewayTokenKey.d),
      'attempted API key': attemptedKey,
      ...Object.fromEntries(
        Object.entries(DEMO_API_KEYS).map(([client, key]) => [`API key of ${client}`, key]),
      ),
    };
    // The run really was logged: operations, upstream calls, failures, refusals.
    expect(lines.length).toBeGreaterThan(50);
    expect(output).toContain(`"msg":"upstream call"`);
    expect(output).toContain('"msg":"upstream call failed"');
    expect(output).toContain('"msg":"request without a valid gateway token refused"');
    const leaked = Object.entries(secrets)
      .filter(([, value]) => output.includes(value))
      .map(([name]) => name);
    expect(leaked).toEqual([]);
    // Signed caller tokens (JWTs) never appear either.
    expect(output).not.toMatch(/eyJ[\w-]{10,}\.eyJ[\w-]{10,}\./);
  });
});
