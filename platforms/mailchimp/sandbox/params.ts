import type { FieldProblem } from './problems.js';

/** Mailchimp's paging: `count` defaults to 10 and may be at most 1000; `offset` defaults to 0. */
export const DEFAULT_COUNT = 10;
export const MAX_COUNT = 1000;

/** Query parameters read and checked together, so one 400 lists every problem. */
export class QueryReader {
  readonly problems: FieldProblem[] = [];
  constructor(private readonly query: URLSearchParams) {}

  page(): { count: number; offset: number } {
    return {
      count: this.integer('count', DEFAULT_COUNT, 1, MAX_COUNT),
      offset: this.integer('offset', 0, 0, Number.MAX_SAFE_INTEGER),
    };
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.query.get(name);
    if (raw === null || raw === '') return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      this.problems.push({
        field: name,
        message:
          max === Number.MAX_SAFE_INTEGER
            ? `Must be an integer of at least ${min}.`
            : `Must be an integer from ${min} to ${max}.`,
      });
      return fallback;
    }
    return value;
  }

  /** An ISO-8601 instant (`2026-03-01T14:30:00+00:00`) as epoch ms; undefined when absent. */
  time(name: string): number | undefined {
    const raw = this.query.get(name);
    if (raw === null || raw === '') return undefined;
    const ms = Date.parse(raw);
    if (!Number.isFinite(ms)) {
      this.problems.push({
        field: name,
        message: 'Must be an ISO 8601 date-time, e.g. 2026-03-01T14:30:00+00:00.',
      });
      return undefined;
    }
    return ms;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const raw = this.query.get(name);
    if (raw === null || raw === '') return undefined;
    const isAllowed = (value: string): value is T => (allowed as readonly string[]).includes(value);
    if (isAllowed(raw)) return raw;
    this.problems.push({ field: name, message: `Must be one of: ${allowed.join(', ')}.` });
    return undefined;
  }
}
