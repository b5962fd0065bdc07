import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHandler } from 'graphql-sse/lib/use/http';
import type { Logger } from '../../lib/logger.js';
import { DEADLINE_HEADER, REQUEST_ID_HEADER, requestIdFrom } from '../../lib/request-context.js';
import type { SubscriptionService } from '../subscriptions/service.js';
import type { OperationPipeline } from '../pipeline/pipeline.js';
import type { Refusal } from '../pipeline/types.js';
import { runAdmitted } from './run.js';
import { SseBackpressure } from './sse-backpressure.js';
import { DEFAULT_STALL_MS } from './stall-watch.js';

/** A refusal as graphql-sse's response tuple: the same status and body as over HTTP. */
function asResponse(
  refusal: Refusal,
  requestId: string,
): [string, ResponseInit & { headers: Record<string, string> }] {
  const body =
    refusal.data !== undefined ? { data: refusal.data, errors: refusal.errors } : { errors: refusal.errors };
  return [
    JSON.stringify(body),
    {
      status: refusal.status,
      statusText:
        refusal.status === 401 ? 'Unauthorized' : refusal.status === 429 ? 'Too Many Requests' : 'Refused',
      headers: {
        ...refusal.headers,
        [REQUEST_ID_HEADER]: requestId,
        'content-type': 'application/json; charset=utf-8',
      },
    },
  ];
}

/**
 * GraphQL over Server-Sent Events (graphql-sse, distinct connections mode) at `/graphql/stream`,
 * for clients that cannot open a WebSocket. Credentials from the headers; every operation through
 * the pipeline, refused with the same status and errors as over HTTP. A stream whose client stops
 * reading is ended once a write has waited `stallMs`, so it resumes with `after` (see
 * SseBackpressure).
 */
export function createSseHandler(options: {
  pipeline: OperationPipeline;
  subscriptions: SubscriptionService;
  /** How long a write may wait for a client that stopped reading before its stream ends. @default 10000 */
  stallMs?: number;
  logger: Logger;
}): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { pipeline } = options;
  const stallMs = options.stallMs ?? DEFAULT_STALL_MS;
  const handler = createHandler({
    // graphql-sse types results as ExecutionResult (GraphQLError instances) and refusals as its own
    // tuple; the pipeline hands back formatted results (plain coded errors), the same on the wire,
    // hence the `as never` casts below.
    onSubscribe: async (req, params) => {
      const requestId = requestIdFrom(req.raw.headers[REQUEST_ID_HEADER]);
      const admission = await pipeline.admit({
        transport: 'sse',
        method: req.method === 'GET' ? 'GET' : 'POST',
        credentials: req.raw,
        query: params.query,
        variables: params.variables,
        operationName: params.operationName,
        requestId,
        deadlineHeader: req.raw.headers[DEADLINE_HEADER],
      });
      if (!admission.ok) return asResponse(admission.refusal, requestId) as never;
      const controller = new AbortController();
      // The response closes when the client goes away (the request's own 'close' only means its body was read).
      req.context.res.once('close', () => controller.abort());
      const result = await runAdmitted(
        admission.operation,
        pipeline,
        options.subscriptions,
        controller.signal,
      );
      if (!(Symbol.asyncIterator in result)) {
        // graphql-sse sends an execution result as one event; it needs `data` to recognise one.
        return { data: result.data ?? null, ...(result.errors ? { errors: result.errors } : {}) } as never;
      }
      const pressure = pressures.get(req.context.res);
      return (pressure ? pressure.follow(result, () => controller.abort()) : result) as never;
    },
  });
  const pressures = new WeakMap<ServerResponse, SseBackpressure>();
  return (req, res) => {
    pressures.set(res, new SseBackpressure(res, { stallMs, logger: options.logger }));
    return handler(req, res);
  };
}
