import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FormattedExecutionResult } from 'graphql';
import { createHandler } from 'graphql-sse/lib/use/http';
import { DEADLINE_HEADER, REQUEST_ID_HEADER, requestIdFrom } from '../../lib/request-context.js';
import type { SubscriptionService } from '../events/subscriptions.js';
import type { OperationPipeline } from '../pipeline/pipeline.js';
import type { Refusal } from '../pipeline/types.js';
import { runAdmitted } from './run.js';

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
 * reading is ended once `maxBufferedBytes` wait unsent, so it resumes with `after`.
 */
export function createSseHandler(options: {
  pipeline: OperationPipeline;
  subscriptions: SubscriptionService;
  /** @default 1048576 */
  maxBufferedBytes?: number;
}): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { pipeline } = options;
  const maxBuffered = options.maxBufferedBytes ?? 1_048_576;
  const handler = createHandler({
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
      return bounded(result, req.context.res, maxBuffered, () => controller.abort()) as never;
    },
  });
  return (req, res) => handler(req, res);
}

/** Ends the stream when the client has stopped reading and unsent bytes pile up. */
async function* bounded(
  stream: AsyncGenerator<FormattedExecutionResult>,
  res: ServerResponse,
  maxBuffered: number,
  stop: () => void,
): AsyncGenerator<FormattedExecutionResult> {
  for await (const result of stream) {
    if (res.writableLength > maxBuffered) {
      stop();
      res.destroy();
      return;
    }
    yield result;
  }
}
