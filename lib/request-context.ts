import { randomUUID } from 'node:crypto';
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

export function createRequestContext(logger: Logger, requestId: string, budgetMs: number): RequestContext {
  return { requestId, logger: logger.child({ requestId }), deadline: Date.now() + budgetMs };
}
