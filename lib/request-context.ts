import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from './logger.js';

/** Header that carries one request id from the client, through the gateway, to every upstream log line. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** What every layer below a resolver needs to know about the request it is serving. */
export interface RequestContext {
  readonly requestId: string;
  /** A child logger bound to the request id. */
  readonly logger: Logger;
  /** Epoch ms after which no upstream call may start and no retry may wait. */
  readonly deadline: number;
}

const SAFE_ID = /^[\w.:-]{1,128}$/;

/** Keeps a caller's request id when it is a sane token, so ids cannot inject log lines. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && SAFE_ID.test(value) ? value : randomUUID();
}

/** `budgetMs` counts from `startedAt` (the request's arrival), now unless given. */
export function createRequestContext(
  logger: Logger,
  requestId: string,
  budgetMs: number,
  startedAt: number = Date.now(),
): RequestContext {
  return new LazyLoggerContext(logger, requestId, startedAt + budgetMs);
}

/**
 * The child logger is made when something first logs through it: the gateway makes a context for
 * every operation and its own line per operation does not use it, so at thousands of operations a
 * second a child (bindings serialised through the redaction) for each was garbage that lived as
 * long as the operation (issue 17, target 2). A class, so the getter is on the prototype: an object
 * literal with a getter made a new getter function, and its scope, for every request.
 */
class LazyLoggerContext implements RequestContext {
  #parent: Logger;
  #child: Logger | undefined;
  constructor(
    parent: Logger,
    readonly requestId: string,
    readonly deadline: number,
  ) {
    this.#parent = parent;
  }

  get logger(): Logger {
    return (this.#child ??= this.#parent.child({ requestId: this.requestId }));
  }
}

/**
 * How long the caller will wait for an answer, in milliseconds from when the request arrives. A
 * client may send it to the gateway; the gateway sends each subgraph what is left of it, and the
 * subgraph's platform calls time out by then, so a hanging platform costs the caller no more than
 * the time it chose to give.
 */
export const DEADLINE_HEADER = 'x-request-deadline-ms';

const deadlineHeader = z
  .string()
  .regex(/^\d{1,9}$/)
  .transform(Number)
  .pipe(z.number().int().min(1));

/**
 * The time budget a request's deadline header gives, at most `maxMs`; `fallbackMs` without one. A
 * value that is not a whole number of milliseconds of at least 1 is refused with a sentence.
 */
export function budgetFromDeadlineHeader(
  header: string | string[] | undefined,
  fallbackMs: number,
  maxMs: number,
): { ok: true; budgetMs: number } | { ok: false; message: string } {
  if (header === undefined) return { ok: true, budgetMs: Math.min(fallbackMs, maxMs) };
  const value = Array.isArray(header) ? header.join(',') : header;
  const parsed = deadlineHeader.safeParse(value.trim());
  if (!parsed.success) {
    return {
      ok: false,
      message: `\`${DEADLINE_HEADER}\` must be a whole number of milliseconds of at least 1 (more than ${maxMs} counts as ${maxMs}), got ${JSON.stringify(value.slice(0, 40))}.`,
    };
  }
  return { ok: true, budgetMs: Math.min(parsed.data, maxMs) };
}
