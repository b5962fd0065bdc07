import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalog } from '../../platforms/catalog.js';
import { ConfigError, loadEnv } from '../../lib/config/env.js';

const problemsOf = (fn: () => unknown): readonly string[] => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('loadEnv', () => {
  it('should apply defaults and coerce types', () => {
    const env = loadEnv(catalog, ['PORT', 'SANDBOX_RATE_LIMITS', 'CRM_SUBGRAPH_URL'], {});
    expect(env).toEqual({
      PORT: 4000,
      SANDBOX_RATE_LIMITS: true,
      CRM_SUBGRAPH_URL: 'http://127.0.0.1:4001/graphql',
    });
  });

  it('should name the variable, what it expects and what it got', () => {
    expect(problemsOf(() => loadEnv(catalog, ['PORT'], { PORT: 'abc' }))).toEqual([
      'PORT: expected an integer port from 0 to 65535 (0 picks a free port), got "abc"',
    ]);
  });

  it('should report every bad variable at once', () => {
    const problems = problemsOf(() =>
      loadEnv(catalog, ['PORT', 'LOG_LEVEL', 'SANDBOX_CUSTOMERS'], {
        PORT: '70000',
        LOG_LEVEL: 'loud',
        SANDBOX_CUSTOMERS: '0',
      }),
    );
    expect(problems.map((p) => p.split(':')[0])).toEqual(['PORT', 'LOG_LEVEL', 'SANDBOX_CUSTOMERS']);
  });

  it('should never echo a secret value', () => {
    const problems = problemsOf(() =>
      loadEnv(catalog, ['HUBSPOT_ACCESS_TOKEN'], { HUBSPOT_ACCESS_TOKEN: 'short' }),
    );
    expect(problems).toEqual([
      'HUBSPOT_ACCESS_TOKEN: expected a secret of at least 8 characters, (value not shown)',
    ]);
  });

  it('should require required variables', () => {
    expect(problemsOf(() => loadEnv(catalog, ['MAILCHIMP_LIST_ID'], {}))).toEqual([
      'MAILCHIMP_LIST_ID: required, expected a non-empty string',
    ]);
  });

  it('should read a secret from NAME_FILE and refuse both forms at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'env-'));
    const file = join(dir, 'token');
    writeFileSync(file, 'file-held-token-value\n');
    expect(loadEnv(catalog, ['HUBSPOT_ACCESS_TOKEN'], { HUBSPOT_ACCESS_TOKEN_FILE: file })).toEqual({
      HUBSPOT_ACCESS_TOKEN: 'file-held-token-value',
    });
    expect(
      problemsOf(() =>
        loadEnv(catalog, ['HUBSPOT_ACCESS_TOKEN'], {
          HUBSPOT_ACCESS_TOKEN_FILE: file,
          HUBSPOT_ACCESS_TOKEN: 'another-token-value',
        }),
      ),
    ).toEqual(['HUBSPOT_ACCESS_TOKEN: set HUBSPOT_ACCESS_TOKEN or HUBSPOT_ACCESS_TOKEN_FILE, not both']);
    expect(
      problemsOf(() =>
        loadEnv(catalog, ['HUBSPOT_ACCESS_TOKEN'], { HUBSPOT_ACCESS_TOKEN_FILE: join(dir, 'missing') }),
      )[0],
    ).toMatch(/^HUBSPOT_ACCESS_TOKEN_FILE: cannot read the file at ".*missing" \(ENOENT\)$/);
  });

  it('should read TRUSTED_PROXIES as IP addresses and CIDR ranges, and name a bad entry', () => {
    expect(
      loadEnv(catalog, ['TRUSTED_PROXIES'], { TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.7,fd00::/8' }),
    ).toEqual({ TRUSTED_PROXIES: ['10.0.0.0/8', '192.0.2.7', 'fd00::/8'] });
    expect(
      problemsOf(() => loadEnv(catalog, ['TRUSTED_PROXIES'], { TRUSTED_PROXIES: '10.0.0.0/33' })),
    ).toEqual([
      'TRUSTED_PROXIES: expected comma-separated IP addresses or CIDR ranges (`10.0.0.0/8`, `fd00::/8`, `192.0.2.7`), got "10.0.0.0/33"',
    ]);
    expect(
      problemsOf(() => loadEnv(catalog, ['TRUSTED_PROXIES'], { TRUSTED_PROXIES: 'proxy.internal' })),
    ).toHaveLength(1);
  });

  it('should reject a date that is not on the calendar', () => {
    expect(
      problemsOf(() => loadEnv(catalog, ['SANDBOX_ANCHOR_DATE'], { SANDBOX_ANCHOR_DATE: '2026-02-30' })),
    ).toEqual(['SANDBOX_ANCHOR_DATE: expected a date as YYYY-MM-DD, got "2026-02-30"']);
  });
});
