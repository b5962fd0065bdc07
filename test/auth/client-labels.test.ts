import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_OIDC_CLIENT_LABELS, OTHER_OIDC_CLIENT_LABEL } from '../../gateway/identity.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { startTestIssuer, type TestIssuer } from '../helpers/oidc.js';
import { writeTestRegistry } from '../helpers/registry.js';

/**
 * Metric labels that name clients stay a bounded set: an access token's `client_id` is whatever its
 * issuer (or anyone it issued to) put there, and every label value is a series kept for the life of
 * the process. 500 distinct clients, against a real gateway process and its /metrics.
 */

const CLIENTS = 500;
let issuer: TestIssuer;
let gateway: GatewayProcess;
let monitorKey: string;

beforeAll(async () => {
  issuer = await startTestIssuer();
  const registry = writeTestRegistry([{ id: 'monitor', scopes: ['metrics:read'] }]);
  monitorKey = registry.keys['monitor']?.[0] ?? '';
  gateway = await startGatewayProcess({
    clientsFile: registry.clientsFile,
    readyKey: monitorKey,
    env: {
      OIDC_ISSUER: issuer.config.issuer,
      OIDC_AUDIENCE: issuer.config.audience,
      OIDC_JWKS_URL: issuer.config.jwksUrl,
      OIDC_ALGORITHMS: 'RS256',
    },
  });
});

afterAll(async () => {
  await gateway?.stop();
  await issuer?.close();
});

/** Every value of the `client` label in the scrape, with the metric lines carrying it. */
function clientLabels(scrape: string): Map<string, string[]> {
  const labels = new Map<string, string[]>();
  for (const line of scrape.split('\n')) {
    const client = /[{,]client="((?:[^"\\]|\\.)*)"/.exec(line)?.[1];
    if (client === undefined) continue;
    labels.set(client, [...(labels.get(client) ?? []), line]);
  }
  return labels;
}

const valueOf = (lines: readonly string[], metric: string): number =>
  lines
    .filter((line) => line.startsWith(`${metric}{`))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);

describe('client labels in /metrics', () => {
  it(`should name at most ${MAX_OIDC_CLIENT_LABELS} OIDC clients and count the rest as ${OTHER_OIDC_CLIENT_LABEL}`, async () => {
    // Each client asks for a field its token has no scope for: the denied field is counted per
    // client, and the operation (its __typename) too.
    const ids = Array.from(
      { length: CLIENTS },
      (_, i) => `app-${i}-${Math.random().toString(36).slice(2, 8)}`,
    );
    for (let start = 0; start < ids.length; start += 25) {
      const statuses = await Promise.all(
        ids.slice(start, start + 25).map(async (id) => {
          const token = await issuer.token({ client_id: id, scope: 'ads:read' });
          const response = await fetch(`${gateway.origin}/graphql`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ query: '{ __typename customer(email: "someone@example.com") { id } }' }),
          });
          await response.arrayBuffer();
          return response.status;
        }),
      );
      expect(statuses.every((s) => s === 200)).toBe(true);
    }

    const scrape = await fetch(`${gateway.origin}/metrics`, {
      headers: { authorization: `Bearer ${monitorKey}` },
    }).then((r) => r.text());
    const labels = clientLabels(scrape);
    const tokenClients = [...labels.keys()].filter((label) => label !== 'monitor');
    expect(tokenClients.length).toBeLessThanOrEqual(MAX_OIDC_CLIENT_LABELS + 1);
    expect(tokenClients.every((label) => label.startsWith('oidc:'))).toBe(true);
    const other = labels.get(OTHER_OIDC_CLIENT_LABEL) ?? [];
    expect(valueOf(other, 'graphql_operations_total')).toBe(CLIENTS - MAX_OIDC_CLIENT_LABELS);
    expect(valueOf(other, 'authorization_denied_fields_total')).toBe(CLIENTS - MAX_OIDC_CLIENT_LABELS);
  });
});
