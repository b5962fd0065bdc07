import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../lib/config/env.js';
import { CONNECTION_KINDS } from '../health.js';

/** The per-client signals the gateway counts (gateway/auth/anomaly.ts). */
export const CLIENT_SIGNALS = ['requests', 'denied_fields', 'auth_failures'] as const;

/**
 * Alert rules (ALERT_RULES_FILE, YAML): conditions over the health model, each with a severity,
 * the channels it notifies, a cooldown, and hysteresis so a figure hovering at its threshold
 * fires once and resolves once. Validated with zod: an error names the rule and the field.
 */

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90s`, `5m`, `2h`, `30d` as milliseconds. */
export const duration = z
  .string()
  .regex(DURATION, 'expected a duration such as 90s, 5m, 2h or 30d')
  .transform((text) => {
    const [, amount, unit] = DURATION.exec(text)!;
    return Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  });

const ratio = z.number().min(0).max(1);

/** One condition per rule; each is true or false for one connection at one moment. */
export const conditionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('error-rate-above'), threshold: ratio }).strict(),
  z.object({ kind: z.literal('freshness-older-than'), age: duration.optional() }).strict(),
  z.object({ kind: z.literal('sync-failed') }).strict(),
  z.object({ kind: z.literal('rows-rejected-above'), threshold: z.number().int().min(0) }).strict(),
  z.object({ kind: z.literal('deliveries-exhausted') }).strict(),
  z.object({ kind: z.literal('endpoint-disabled') }).strict(),
  z.object({ kind: z.literal('budget-below'), threshold: ratio }).strict(),
  z
    .object({ kind: z.literal('version-unsupported-within'), days: z.number().int().min(0).max(3650) })
    .strict(),
  z.object({ kind: z.literal('client-anomalies-above'), threshold: z.number().int().min(0) }).strict(),
  /**
   * A client's usage (its requests, the fields it was denied, failed authentications) in a window
   * of the gateway's anomaly detector is more than `factor` times its own usual rate and above
   * `minimum`: a leaked key, a scraper, a client probing for fields it was not granted.
   */
  z
    .object({
      kind: z.literal('client-usage-anomalous'),
      signals: z
        .array(z.enum(CLIENT_SIGNALS))
        .min(1)
        .default([...CLIENT_SIGNALS]),
      factor: z.number().min(1).max(1000).default(5),
      minimum: z.number().int().min(1).default(30),
    })
    .strict(),
  /**
   * A client was denied a field it had never been denied before (first-seen set per client, kept
   * in the health history): a new deployment asking for more than it was granted, or a key used by
   * someone else. Clears once no new denial came for `quiet` (at most 24 hours).
   */
  z
    .object({
      kind: z.literal('client-denied-first-time'),
      quiet: duration
        .refine((ms) => ms <= 86_400_000, 'at most 24h: first denials are remembered for a day')
        .default(3_600_000),
    })
    .strict(),
]);
export type Condition = z.output<typeof conditionSchema>;

const channelName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected a channel name: a-z, 0-9 and dashes');

export const ruleSchema = z
  .object({
    name: z.string().min(1).max(80),
    when: conditionSchema,
    /** Which connections the rule watches. @default all */
    connections: z
      .object({
        kinds: z.array(z.enum(CONNECTION_KINDS)).min(1).optional(),
        platforms: z.array(z.string().min(1)).min(1).optional(),
        names: z.array(z.string().min(1)).min(1).optional(),
      })
      .strict()
      .optional(),
    severity: z.enum(['critical', 'warning', 'info']),
    channels: z.array(channelName).min(1),
    /** The condition must hold this long before the alert fires. @default 0s */
    for: duration.default(0),
    /** The condition must stay clear this long before the alert resolves. @default 1m */
    clearFor: duration.default(60_000),
    /**
     * A threshold condition clears only past this share of its threshold (0.8: an error rate
     * alert at 5% resolves below 4%), so a figure hovering at the threshold does not flap.
     * @default 0.8
     */
    clearAt: z.number().min(0).max(1).default(0.8),
    /** After an alert resolves, the same rule and connection fire again no sooner. @default 15m */
    cooldown: duration.default(900_000),
  })
  .strict();
export type AlertRule = z.output<typeof ruleSchema>;

export const channelSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('slack'), webhookUrlEnv: z.string().regex(/^[A-Z][A-Z0-9_]*$/) }).strict(),
  z
    .object({
      type: z.literal('email'),
      to: z.array(z.email()).min(1),
      from: z.email(),
      /** The variable holding the SMTP URL (`smtp://user:pass@host:587`). @default ALERT_SMTP_URL */
      smtpUrlEnv: z
        .string()
        .regex(/^[A-Z][A-Z0-9_]*$/)
        .default('ALERT_SMTP_URL'),
    })
    .strict(),
  /** The log, and the demo's `/status` page: no configuration. */
  z.object({ type: z.literal('log') }).strict(),
  /**
   * The hub's own events (`ALERT_FIRED`, `ALERT_RESOLVED`): to subscribers and to every outbound
   * webhook endpoint subscribed to those types. No configuration: endpoints choose the types.
   */
  z.object({ type: z.literal('events') }).strict(),
]);
export type ChannelConfig = z.output<typeof channelSchema>;

export const alertsFileSchema = z
  .object({
    channels: z.record(channelName, channelSchema),
    rules: z.array(ruleSchema).max(500),
  })
  .strict()
  .superRefine((file, ctx) => {
    const names = new Set<string>();
    file.rules.forEach((rule, index) => {
      if (names.has(rule.name))
        ctx.addIssue({
          code: 'custom',
          path: ['rules', index, 'name'],
          message: `a second rule named "${rule.name}"`,
        });
      names.add(rule.name);
      rule.channels.forEach((channel, c) => {
        if (!(channel in file.channels))
          ctx.addIssue({
            code: 'custom',
            path: ['rules', index, 'channels', c],
            message: `no channel "${channel}" in channels`,
          });
      });
    });
  });
export type AlertsFile = z.output<typeof alertsFileSchema>;

/** Where an issue is, named as a person reads it: `rule "platform errors" > when > threshold`. */
function place(file: unknown, path: readonly PropertyKey[]): string {
  const [first, index, ...rest] = path;
  if (first === 'rules' && typeof index === 'number') {
    const name = (file as { rules?: { name?: unknown }[] }).rules?.[index]?.name;
    const rule = typeof name === 'string' ? `rule "${name}"` : `rule ${index + 1}`;
    return [rule, ...rest.map(String)].join(' > ');
  }
  return path.map(String).join(' > ') || '(file)';
}

/** Parses and checks an alerts file's text; `ConfigError` names the rule and field of each problem. */
export function parseAlertsFile(text: string, source: string): AlertsFile {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ConfigError(
      [`not valid YAML (${(error as Error).message.split('\n')[0]})`],
      `Invalid alert rules in ${source}`,
    );
  }
  const parsed = alertsFileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${place(raw, issue.path)}: ${issue.message}`);
    throw new ConfigError(problems, `Invalid alert rules in ${source}`);
  }
  return parsed.data;
}

export function loadAlertsFile(file: string): AlertsFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([
      `ALERT_RULES_FILE ${file} cannot be read (${(error as NodeJS.ErrnoException).code})`,
    ]);
  }
  return parseAlertsFile(text, file);
}
