import { describe, expect, it } from 'vitest';
import { deliveriesConfigFromEnv } from '../../events/deliveries-config.js';
import { ConfigError } from '../../lib/config/env.js';

const KEY = Buffer.alloc(32, 7).toString('base64');

/** The problems a ConfigError lists, or [] when the environment is accepted. */
function problems(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    deliveriesConfigFromEnv(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('webhooks out from the environment', () => {
  it('should take http:// and loopback endpoints outside production, with the documented defaults', () => {
    expect(deliveriesConfigFromEnv({ NODE_ENV: 'development' })).toEqual({
      allowHttp: true,
      attemptTimeoutMs: 15_000,
      claimLeaseMs: 120_000,
      allow: ['127.0.0.0/8', '::1/128', 'localhost'],
    });
  });

  it('should refuse to start in production without a sealing key, saying how to make one', () => {
    expect(problems({ NODE_ENV: 'production' })).toEqual([
      expect.stringMatching(
        /^WEBHOOK_SECRET_SEALING_KEY: required with NODE_ENV=production.*openssl rand -base64 32/,
      ),
    ]);
    expect(deliveriesConfigFromEnv({ NODE_ENV: 'production', WEBHOOK_SECRET_SEALING_KEY: KEY })).toEqual({
      allowHttp: false,
      attemptTimeoutMs: 15_000,
      claimLeaseMs: 120_000,
      allow: [],
      secretSealingKey: KEY,
    });
  });

  it('should read the allow-list, the timeout and the retry schedule, naming the variable at fault', () => {
    const config = deliveriesConfigFromEnv({
      WEBHOOK_ALLOW_HOSTS: 'hooks.internal, 10.0.0.0/8',
      WEBHOOK_ATTEMPT_TIMEOUT_MS: '2000',
      WEBHOOK_RETRY_SCHEDULE: '0,500ms,5s,5m,2h,1d',
      WEBHOOK_CLAIM_LEASE_MS: '5000',
    });
    expect(config).toMatchObject({
      allow: ['hooks.internal', '10.0.0.0/8'],
      attemptTimeoutMs: 2000,
      claimLeaseMs: 5000,
      retryScheduleMs: [0, 500, 5_000, 300_000, 7_200_000, 86_400_000],
    });
    expect(problems({ WEBHOOK_RETRY_SCHEDULE: '0,5 minutes' })).toEqual([
      'WEBHOOK_RETRY_SCHEDULE: "5 minutes" is not a delay such as 0, 500ms, 5s, 5m, 2h or 1d',
    ]);
    expect(problems({ WEBHOOK_ALLOW_HOSTS: 'bad host!' })).toEqual([
      expect.stringMatching(/^WEBHOOK_ALLOW_HOSTS: /),
    ]);
    expect(problems({ WEBHOOK_SECRET_SEALING_KEY: 'short-key-here' })).toEqual([
      'WEBHOOK_SECRET_SEALING_KEY: expected the base64 of 32 random bytes (`openssl rand -base64 32`), (value not shown)',
    ]);
    expect(problems({ WEBHOOK_ATTEMPT_TIMEOUT_MS: '10' })).toEqual([
      expect.stringMatching(/^WEBHOOK_ATTEMPT_TIMEOUT_MS: /),
    ]);
  });
});
