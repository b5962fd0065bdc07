import { deliveriesConfigSchema, type DeliveriesConfigInput } from '../deliveries/config.js';
import { ConfigError, loadEnv } from '../lib/config/env.js';
import { catalog } from '../platforms/catalog.js';

/** What webhooks out read from the environment (the rest of their settings keep their defaults). */
export const DELIVERIES_ENV = [
  'NODE_ENV',
  'WEBHOOK_SECRET_SEALING_KEY',
  'WEBHOOK_ALLOW_HOSTS',
  'WEBHOOK_ATTEMPT_TIMEOUT_MS',
  'WEBHOOK_RETRY_SCHEDULE',
  'WEBHOOK_CLAIM_LEASE_MS',
] as const;

/** Where the demo's and a developer's local receivers listen: reachable outside production only. */
export const LOOPBACK_ALLOW_LIST: readonly string[] = ['127.0.0.0/8', '::1/128', 'localhost'];

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `0,5s,5m,30m,2h` → milliseconds; undefined with the reason when an entry does not read. */
export function parseRetrySchedule(text: string): { ok: true; ms: number[] } | { ok: false; reason: string } {
  const ms: number[] = [];
  for (const entry of text.split(',').map((part) => part.trim())) {
    const match = /^(\d+)(ms|s|m|h|d)?$/.exec(entry);
    if (!match) return { ok: false, reason: `"${entry}" is not a delay such as 0, 500ms, 5s, 5m, 2h or 1d` };
    const unit = (match[2] ?? 'ms') as keyof typeof UNIT_MS;
    ms.push(Number(match[1]) * UNIT_MS[unit]);
  }
  return { ok: true, ms };
}

/**
 * Webhooks out, from the environment: development mode takes `http://` endpoints and reaches
 * loopback (the demo's receivers); production needs WEBHOOK_SECRET_SEALING_KEY, because an
 * unsealed secret in the data file lets anyone who reads it sign as the gateway. Every problem is
 * a ConfigError naming its variable, never showing a secret.
 */
export function deliveriesConfigFromEnv(source: NodeJS.ProcessEnv = process.env): DeliveriesConfigInput {
  const env = loadEnv(catalog, DELIVERIES_ENV, source);
  const production = env.NODE_ENV === 'production';
  const problems: string[] = [];
  if (production && !env.WEBHOOK_SECRET_SEALING_KEY)
    problems.push(
      'WEBHOOK_SECRET_SEALING_KEY: required with NODE_ENV=production (webhook endpoint secrets are sealed with it at rest); create one with `openssl rand -base64 32`',
    );
  const config: DeliveriesConfigInput = {
    allowHttp: !production,
    attemptTimeoutMs: env.WEBHOOK_ATTEMPT_TIMEOUT_MS,
    claimLeaseMs: env.WEBHOOK_CLAIM_LEASE_MS,
    allow: env.WEBHOOK_ALLOW_HOSTS
      ? env.WEBHOOK_ALLOW_HOSTS.split(',')
          .map((entry) => entry.trim())
          .filter((entry) => entry.length > 0)
      : production
        ? []
        : [...LOOPBACK_ALLOW_LIST],
    ...(env.WEBHOOK_SECRET_SEALING_KEY ? { secretSealingKey: env.WEBHOOK_SECRET_SEALING_KEY } : {}),
  };
  if (env.WEBHOOK_RETRY_SCHEDULE) {
    const schedule = parseRetrySchedule(env.WEBHOOK_RETRY_SCHEDULE);
    if (schedule.ok) config.retryScheduleMs = schedule.ms;
    else problems.push(`WEBHOOK_RETRY_SCHEDULE: ${schedule.reason}`);
  }
  if (problems.length === 0) {
    const checked = deliveriesConfigSchema.safeParse(config);
    if (!checked.success)
      for (const issue of checked.error.issues) {
        const variable =
          issue.path[0] === 'allow'
            ? 'WEBHOOK_ALLOW_HOSTS'
            : issue.path[0] === 'retryScheduleMs'
              ? 'WEBHOOK_RETRY_SCHEDULE'
              : issue.path[0] === 'secretSealingKey'
                ? 'WEBHOOK_SECRET_SEALING_KEY'
                : issue.path[0] === 'claimLeaseMs'
                  ? 'WEBHOOK_CLAIM_LEASE_MS'
                  : 'WEBHOOK_ATTEMPT_TIMEOUT_MS';
        problems.push(`${variable}: ${issue.message}`);
      }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
