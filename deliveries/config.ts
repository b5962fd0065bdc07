import { z } from 'zod';
import { addressOrRangeSchema } from '../lib/server/trusted-proxies.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Svix's schedule: the first attempt at once, then retries after 5 s, 5 min, 30 min, 2 h, 5 h,
 * 10 h and 10 h (eight attempts over about 27.6 hours).
 */
export const SVIX_RETRY_SCHEDULE_MS: readonly number[] = [
  0,
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
];

/** A host name as written in a URL (lower case, no port), or an IP address or CIDR range. */
const allowEntrySchema = z.union([
  addressOrRangeSchema,
  z
    .string()
    .regex(
      /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i,
      {
        message: 'expected a host name, an IP address or a CIDR range',
      },
    )
    .transform((host) => host.toLowerCase()),
]);

/** 32 random bytes, base64: the key that seals endpoint secrets at rest (AES-256-GCM). */
const sealingKeySchema = z
  .string()
  .refine((value) => Buffer.from(value, 'base64').length === 32 && /^[A-Za-z0-9+/]{43}=$/.test(value), {
    message: 'expected the base64 of exactly 32 random bytes (`openssl rand -base64 32`)',
  });

/**
 * How webhooks to subscribers' endpoints are delivered. Every field has a default; `parse({})`
 * gives the documented behaviour (Svix's schedule, 15 s timeout, 5 days before disabling).
 */
export const deliveriesConfigSchema = z
  .object({
    /**
     * Delay before each attempt: the first entry before the first attempt (0: at once), the next
     * after the first failure, and so on; the message is exhausted after the last.
     */
    retryScheduleMs: z
      .array(
        z
          .number()
          .int()
          .min(0)
          .max(7 * DAY),
      )
      .min(1)
      .max(50)
      .default([...SVIX_RETRY_SCHEDULE_MS]),
    /** One attempt's whole time: connecting, sending, the response's headers and its first 1 KB. */
    attemptTimeoutMs: z
      .number()
      .int()
      .min(50)
      .max(5 * MINUTE)
      .default(15 * SECOND),
    /** A `Retry-After` longer than this is shortened to it, so an endpoint cannot park a message for a year. */
    retryAfterMaxMs: z.number().int().min(0).max(DAY).default(HOUR),
    /** An endpoint whose every attempt has failed for this long is disabled (Svix: 5 days). */
    disableAfterFailingMs: z
      .number()
      .int()
      .min(MINUTE)
      .max(90 * DAY)
      .default(5 * DAY),
    /** How long a rotated-out secret keeps signing next to the new one, unless the rotation says otherwise. */
    secretOverlapMs: z
      .number()
      .int()
      .min(0)
      .max(30 * DAY)
      .default(DAY),
    /** Attempts in flight to one endpoint at once; a slow endpoint holds only its own. */
    perEndpointConcurrency: z.number().int().min(1).max(256).default(16),
    /**
     * How long a claimed message stays with the dispatcher that claimed it before another may try
     * it (the distributed store's crash recovery; the embedded one releases claims at start-up).
     */
    claimLeaseMs: z
      .number()
      .int()
      .min(SECOND)
      .max(HOUR)
      .default(2 * MINUTE),
    /**
     * How often the store's change version is read, so endpoint changes, rotations, replays and
     * recoveries made by another process (the management API) reach this dispatcher.
     */
    changePollMs: z.number().int().min(50).max(MINUTE).default(SECOND),
    /** Settled messages and their attempts are kept this long, then pruned. */
    retentionMs: z
      .number()
      .int()
      .min(HOUR)
      .max(365 * DAY)
      .default(30 * DAY),
    /** Development mode: endpoint URLs may be `http://` as well as `https://`. */
    allowHttp: z.boolean().default(false),
    /**
     * Hosts, addresses or CIDR ranges endpoints may reach although the SSRF guard refuses them
     * otherwise (loopback, private ranges): for tests and the demo's local receiver.
     */
    allow: z.array(allowEntrySchema).max(100).default([]),
    /**
     * Seals endpoint secrets at rest (AES-256-GCM). Without it they are stored as they are, and
     * anyone who can read the data file can sign as the gateway.
     */
    secretSealingKey: sealingKeySchema.optional(),
  })
  .strict();

export type DeliveriesConfig = z.output<typeof deliveriesConfigSchema>;
export type DeliveriesConfigInput = z.input<typeof deliveriesConfigSchema>;
