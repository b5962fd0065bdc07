import { spawn } from 'node:child_process';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseApiKey } from '../../gateway/auth/api-keys.js';
import { DEMO_API_KEYS } from '../../gateway/auth/demo-keys.js';
import { authConfigFromEnv } from '../../gateway/auth/config.js';
import { assertNoDemoKeys } from '../../gateway/auth/production-guard.js';
import { loadClientRegistry, parseClientRegistry } from '../../gateway/auth/registry.js';
import { setUpAuthentication } from '../../gateway/auth/setup.js';
import { ALL_SCOPES } from '../../lib/auth/scopes.js';
import { catalog } from '../../platforms/catalog.js';
import { ConfigError } from '../../lib/config/env.js';
import { createLogger } from '../../lib/logger.js';
import { DEMO_WEBHOOK_VERIFICATION } from '../../cli/stack.js';
import { eventsSettingsFromEnv } from '../../events/config.js';
import { DEMO_WEBHOOK_SECRETS } from '../../sandboxes/webhooks/index.js';
import { writeTestRegistry } from '../helpers/registry.js';
import { startTestStack } from '../helpers/stack.js';
import { clientRecord, keyRecord } from './fixtures.js';

const DEMO_FILE = catalog.CLIENTS_FILE.default ?? '';

describe('the demo client registry', () => {
  const registry = loadClientRegistry(DEMO_FILE);

  it('should accept each published demo key as its client, with exactly its scopes', () => {
    const scopesOf = (key: string) => {
      const verified = registry.verifyApiKey(key);
      if (!verified.ok) throw new Error(`demo key refused: ${verified.reason}`);
      return verified.identity;
    };
    expect(scopesOf(DEMO_API_KEYS['reporting-dashboard'])).toEqual({
      id: 'reporting-dashboard',
      scopes: ['ads:read', 'campaigns:read'],
      via: 'api-key',
    });
    expect(scopesOf(DEMO_API_KEYS['personalization-service'])).toEqual({
      id: 'personalization-service',
      scopes: ['commerce:read', 'crm:read', 'email:read', 'events:read', 'pii:read'],
      via: 'api-key',
    });
    expect(scopesOf(DEMO_API_KEYS['marketing-automation'])).toEqual({
      id: 'marketing-automation',
      scopes: ['commerce:read', 'crm:read', 'email:read', 'events:read'],
      via: 'api-key',
    });
    expect(scopesOf(DEMO_API_KEYS.admin)).toEqual({
      id: 'admin',
      scopes: [...ALL_SCOPES].sort(),
      via: 'api-key',
    });
  });

  it('should mark every key in it as a demo key with a DEMO label', () => {
    expect(registry.clients.map((c) => c.id)).toEqual(Object.keys(DEMO_API_KEYS));
    for (const client of registry.clients)
      for (const key of client.keys) {
        expect(key.demo).toBe(true);
        expect(key.label).toMatch(/^DEMO key: public/);
      }
  });
});

describe('the production guard', () => {
  const problemOf = (fn: () => void): string => {
    try {
      fn();
    } catch (error) {
      if (error instanceof ConfigError) return error.problems.join('\n');
      throw error;
    }
    throw new Error('expected a ConfigError');
  };

  it('should refuse the demo registry in production, naming CLIENTS_FILE and the demo keys', () => {
    const registry = loadClientRegistry(DEMO_FILE);
    const keyIds = Object.values(DEMO_API_KEYS).map((key) => parseApiKey(key)?.keyId);
    const problem = problemOf(() => assertNoDemoKeys(registry, 'production'));
    expect(problem).toMatch(/^CLIENTS_FILE \(gateway\/auth\/demo-clients\.json\): holds public demo keys \(/);
    expect(problem).toContain('which NODE_ENV=production refuses');
    for (const keyId of keyIds) expect(problem).toContain(keyId);
  });

  it('should accept the demo registry outside production', () => {
    const registry = loadClientRegistry(DEMO_FILE);
    expect(() => assertNoDemoKeys(registry, 'development')).not.toThrow();
    expect(() => assertNoDemoKeys(registry, 'test')).not.toThrow();
  });

  it('should accept a production registry without demo keys', () => {
    const registry = parseClientRegistry({ clients: [clientRecord('dashboard', [keyRecord().record])] });
    expect(() => assertNoDemoKeys(registry, 'production')).not.toThrow();
  });

  it('should refuse a published demo key even when its demo mark was removed', () => {
    const demo = loadClientRegistry(DEMO_FILE).file.clients.find((c) => c.id === 'admin');
    const unmarked = demo!.keys.map(({ demo: _demo, label: _label, ...key }) => key);
    const registry = parseClientRegistry({ clients: [{ ...demo!, keys: unmarked }] });
    expect(registry.demoKeysPresent()).toBe(false);
    expect(problemOf(() => assertNoDemoKeys(registry, 'production'))).toContain(
      `admin/${parseApiKey(DEMO_API_KEYS.admin)?.keyId ?? ''}`,
    );
  });
});

describe('authentication set-up', () => {
  const logger = createLogger({ name: 'test', level: 'silent' });

  it('should stop a production start on the default (demo) registry with a ConfigError', () => {
    expect(() => setUpAuthentication(authConfigFromEnv({ NODE_ENV: 'production' }), logger)).toThrow(
      /CLIENTS_FILE \(gateway\/auth\/demo-clients\.json\): holds public demo keys/,
    );
  });

  it('should accept the demo keys in development', async () => {
    const { authenticate } = setUpAuthentication(authConfigFromEnv({}), logger);
    const req = Object.assign(new IncomingMessage(new Socket()), {
      headers: { 'x-api-key': DEMO_API_KEYS['reporting-dashboard'] },
    });
    expect(await authenticate(req)).toMatchObject({
      ok: true,
      identity: { id: 'reporting-dashboard', via: 'api-key' },
    });
  });
});

describe('the production guard for webhook secrets', () => {
  const problemsOf = (fn: () => unknown): string[] => {
    try {
      fn();
    } catch (error) {
      if (error instanceof ConfigError) return [...error.problems];
      throw error;
    }
    throw new Error('expected a ConfigError');
  };
  const OWN = 'a-real-shopify-client-secret-0002';

  it('should refuse a demo webhook secret in production, naming its variable, even next to a real one', () => {
    const problems = problemsOf(() =>
      eventsSettingsFromEnv({
        NODE_ENV: 'production',
        SHOPIFY_WEBHOOK_SECRETS: `${OWN},${DEMO_WEBHOOK_SECRETS.shopify}`,
        SITE_WEBHOOK_SECRETS: DEMO_WEBHOOK_SECRETS.site,
      }),
    );
    expect(problems.map((p) => p.split(':')[0])).toEqual(['SHOPIFY_WEBHOOK_SECRETS', 'SITE_WEBHOOK_SECRETS']);
    for (const problem of problems) {
      expect(problem).toContain('holds the public demo webhook secret');
      expect(problem).toContain('which NODE_ENV=production refuses');
    }
    // Secrets are never echoed, demo or not.
    expect(problems.join('\n')).not.toContain(OWN);
  });

  it("should refuse `npm start`'s demo defaults in production, naming every webhook variable", () => {
    const problems = problemsOf(() =>
      eventsSettingsFromEnv({ NODE_ENV: 'production' }, DEMO_WEBHOOK_VERIFICATION),
    );
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      // In the registry's order (platforms/registry.ts), the site's last.
      'HUBSPOT_WEBHOOK_SECRETS',
      'MAILCHIMP_WEBHOOK_SECRETS',
      'SHOPIFY_WEBHOOK_SECRETS',
      'TWILIO_WEBHOOK_SECRETS',
      'SITE_WEBHOOK_SECRETS',
    ]);
  });

  it('should accept the demo secrets outside production, and real secrets in production', () => {
    expect(
      eventsSettingsFromEnv({ NODE_ENV: 'development' }, DEMO_WEBHOOK_VERIFICATION).webhooks.shopify,
    ).toEqual([DEMO_WEBHOOK_SECRETS.shopify]);
    expect(eventsSettingsFromEnv({}, DEMO_WEBHOOK_VERIFICATION).webhooks.site).toEqual([
      DEMO_WEBHOOK_SECRETS.site,
    ]);
    expect(
      eventsSettingsFromEnv({
        NODE_ENV: 'production',
        SHOPIFY_WEBHOOK_SECRETS: OWN,
        WEBHOOK_SECRET_SEALING_KEY: Buffer.alloc(32, 3).toString('base64'),
      }).webhooks,
    ).toEqual({
      shopify: [OWN],
    });
  });

  it('should stop `marketing-graph start` in production with exit code 2, naming each webhook variable', async () => {
    const { clientsFile } = writeTestRegistry([{ id: 'ops', scopes: ['metrics:read'] }]);
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'start'], {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        CLIENTS_FILE: clientsFile,
        LOG_LEVEL: 'warn',
        PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    for (const variable of [
      'HUBSPOT_WEBHOOK_SECRETS',
      'SHOPIFY_WEBHOOK_SECRETS',
      'MAILCHIMP_WEBHOOK_SECRETS',
      'TWILIO_WEBHOOK_SECRETS',
      'SITE_WEBHOOK_SECRETS',
    ])
      expect(stderr).toContain(`${variable}: holds the public demo webhook secret`);
  });

  it('should send no demo webhooks from a production stack with its own secrets', async () => {
    const { clientsFile } = writeTestRegistry([{ id: 'ops', scopes: ['metrics:read'] }]);
    const stack = await startTestStack({
      mode: 'production',
      clientsFile,
      customers: 50,
      events: { webhooks: { shopify: [OWN] }, webhooksPerMinute: 600 },
    });
    try {
      expect(stack.webhooks.stats().running).toBe(false);
    } finally {
      await stack.close();
    }
  });

  it('should refuse to build a production gateway whose webhooks default to the demo secrets', async () => {
    const { clientsFile } = writeTestRegistry([{ id: 'ops', scopes: ['metrics:read'] }]);
    // The test stack gives production fresh secrets unless told otherwise: here, the demo's.
    const events = { webhooks: DEMO_WEBHOOK_VERIFICATION };
    await expect(startTestStack({ mode: 'production', clientsFile, customers: 50, events })).rejects.toThrow(
      /SHOPIFY_WEBHOOK_SECRETS: holds the public demo webhook secret/,
    );
  });
});
