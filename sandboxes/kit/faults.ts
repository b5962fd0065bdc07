import { z } from 'zod';

/**
 * Faults a test or benchmark can inject into a running sandbox, through config at start or
 * `PUT /__sandbox/faults` at any time. Each applies to every endpoint unless `endpoints` narrows it,
 * and to every request unless `remaining` caps how many.
 */
export const faultSchema = z
  .object({
    /** Added to every matching response. */
    latencyMs: z.number().int().min(0).max(120_000).default(0),
    /** Share of matching requests answered with `errorStatus` and the platform's error body. */
    errorRate: z.number().min(0).max(1).default(0),
    errorStatus: z.number().int().min(400).max(599).default(500),
    /** Share of matching requests answered with the platform's own 429. */
    rateLimitRate: z.number().min(0).max(1).default(0),
    retryAfterSeconds: z.number().min(0).max(3600).default(1),
    /**
     * Which of the platform's limits the injected 429 names: its short window, or its daily limit
     * (HubSpot's `policyName: DAILY`); platforms with one limit answer the same either way.
     */
    rateLimitPolicy: z.enum(['window', 'daily']).default('window'),
    /** Share of matching requests answered 200 with a body that breaks the platform's contract. */
    malformedRate: z.number().min(0).max(1).default(0),
    /** Endpoint patterns (`GET /orders.json`) the faults apply to; all when absent. */
    endpoints: z.array(z.string()).optional(),
    /** Apply to this many matching requests, then stop; unlimited when absent. */
    remaining: z.number().int().min(1).optional(),
  })
  .strict();

export type FaultConfig = z.output<typeof faultSchema>;
export type RateLimitPolicy = FaultConfig['rateLimitPolicy'];
export type FaultInput = z.input<typeof faultSchema>;

export type FaultDecision =
  { kind: 'none'; latencyMs: number } | { kind: 'error' | 'rateLimit' | 'malformed'; latencyMs: number };

export class Faults {
  private config: FaultConfig = faultSchema.parse({});

  set(input: FaultInput): FaultConfig {
    this.config = faultSchema.parse(input);
    return this.config;
  }

  get current(): FaultConfig {
    return this.config;
  }

  /** Decides what happens to one request; `random` is injectable so tests can be exact. */
  decide(
    endpoint: string,
    random: () => number = Math.random,
  ): FaultDecision & { status: number; retryAfterSeconds: number; rateLimitPolicy: RateLimitPolicy } {
    const c = this.config;
    const extra = {
      status: c.errorStatus,
      retryAfterSeconds: c.retryAfterSeconds,
      rateLimitPolicy: c.rateLimitPolicy,
    };
    const applies =
      (!c.endpoints || c.endpoints.includes(endpoint)) && (c.remaining === undefined || c.remaining > 0);
    if (!applies) return { kind: 'none', latencyMs: 0, ...extra };
    if (c.remaining !== undefined) c.remaining -= 1;
    const roll = random();
    let kind: FaultDecision['kind'] = 'none';
    if (roll < c.errorRate) kind = 'error';
    else if (roll < c.errorRate + c.rateLimitRate) kind = 'rateLimit';
    else if (roll < c.errorRate + c.rateLimitRate + c.malformedRate) kind = 'malformed';
    return { kind, latencyMs: c.latencyMs, ...extra };
  }
}
