import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { ErrorCode } from '../../lib/errors.js';
import { DEADLINE_HEADER, REQUEST_ID_HEADER, requestIdFrom } from '../../lib/request-context.js';
import { BodyTooLargeError, readBody } from '../../lib/server/graphql-http.js';
import type { GatewayContext } from '../context.js';
import type { OperationPipeline } from '../pipeline/pipeline.js';
import type { Refusal } from '../pipeline/types.js';

/** Response bodies longer than this (characters) are encoded once and the bytes kept for a repeat. */
const LARGE_BODY = 16_384;

const NEWLINE = 0x0a;

/** Request bodies up to this many bytes may be remembered for a repeat (createHttpTransport). */
const REPEATABLE_BODY = 16_384;

/** A JSON object whose every field is a string, number, boolean or null (nothing a request could change). */
function isFlatObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  for (const key in value) {
    const field = (value as Record<string, unknown>)[key];
    if (field !== null && typeof field === 'object') return false;
  }
  return true;
}

const RESPONSE_TYPE = 'application/graphql-response+json; charset=utf-8';

/** Writes a refusal (or a complete answer of nulls) as the GraphQL-over-HTTP response it is. */
export function sendRefusal(res: ServerResponse, answer: Refusal, requestId: string): void {
  const body = JSON.stringify(
    answer.data !== undefined ? { data: answer.data, errors: answer.errors } : { errors: answer.errors },
  );
  res.writeHead(answer.status, {
    ...answer.headers,
    [REQUEST_ID_HEADER]: requestId,
    'content-type': RESPONSE_TYPE,
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

interface HttpParams {
  query: unknown;
  variables: unknown;
  operationName: unknown;
}

/** GET parameters, with `variables` given as JSON text. */
function paramsFromSearch(search: string): HttpParams | Refusal {
  const params = new URLSearchParams(search);
  const rawVariables = params.get('variables');
  let variables: unknown;
  if (rawVariables !== null && rawVariables !== '') {
    try {
      variables = JSON.parse(rawVariables);
    } catch {
      return {
        status: 400,
        errors: [{ message: '`variables` is not valid JSON.', extensions: { code: ErrorCode.BAD_REQUEST } }],
      };
    }
  }
  return {
    query: params.get('query') ?? undefined,
    variables,
    operationName: params.get('operationName') ?? undefined,
  };
}

/**
 * GraphQL over HTTP (POST with JSON, or GET) at `/graphql`: reads and bounds the body, hands the
 * operation to the pipeline, and runs what it admits through Apollo's HTTP handling (CSRF
 * prevention, cache headers, status codes). Nothing here decides who may run what.
 */
export function createHttpTransport(options: {
  pipeline: OperationPipeline;
  apollo: ApolloServer<GatewayContext>;
  /** Bodies larger than this are refused with 413 before they are parsed. */
  maxBodyBytes: number;
}): (req: IncomingMessage, res: ServerResponse, search: string) => Promise<void> {
  const { pipeline, apollo } = options;
  // The last large body sent, encoded with its final newline: requests answered with the same
  // text (coalesced queries share one serialisation) reuse the bytes instead of encoding and
  // measuring them again. The newline is written here, not appended to the text
  // (serialiseSharedResults): the text stays one flat string, never copied into another.
  let lastBody: { text: string; bytes: Buffer } | undefined;
  const encoded = (text: string): Buffer => {
    if (lastBody?.text !== text) {
      const length = Buffer.byteLength(text, 'utf8');
      const bytes = Buffer.allocUnsafe(length + 1);
      bytes.write(text, 0, length, 'utf8');
      bytes[length] = NEWLINE;
      lastBody = { text, bytes };
    }
    return lastBody.bytes;
  };
  // The last small body whose fields are all strings, numbers, booleans or null, with its parse:
  // a client repeating a request (polling, or the gateway benchmark's identical queries) sends the
  // same bytes, which are compared instead of decoded and parsed into a new copy of the query's
  // text each time (issue 17, target 2). Each request gets its own object; its fields are immutable.
  let lastJson: { raw: Buffer; fields: Record<string, unknown> } | undefined;
  const parseJson = (raw: Buffer): unknown => {
    if (lastJson?.raw.equals(raw)) return { ...lastJson.fields };
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    if (raw.length <= REPEATABLE_BODY && isFlatObject(parsed))
      // A copy of the bytes: the request's own may be a view of a larger read buffer.
      lastJson = { raw: Buffer.from(raw), fields: { ...parsed } };
    return parsed;
  };
  const fail = (
    res: ServerResponse,
    requestId: string,
    status: number,
    message: string,
    headers?: Record<string, string>,
  ) =>
    sendRefusal(
      res,
      {
        status,
        errors: [{ message, extensions: { code: ErrorCode.BAD_REQUEST } }],
        ...(headers ? { headers } : {}),
      },
      requestId,
    );

  return async (req, res, search) => {
    const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (method !== 'GET' && method !== 'POST') {
      fail(res, requestId, 405, 'GraphQL is served with GET and POST only.', { allow: 'GET, POST' });
      return;
    }
    let params: HttpParams;
    let body: unknown;
    if (method === 'POST') {
      const contentType = req.headers['content-type'] ?? '';
      if (!/^application\/(graphql-response\+)?json\b/i.test(contentType)) {
        req.resume();
        fail(res, requestId, 415, 'Send the operation as JSON, with `content-type: application/json`.');
        return;
      }
      let raw: Buffer;
      try {
        raw = await readBody(req, options.maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          fail(res, requestId, 413, `The request body is larger than ${options.maxBodyBytes} bytes.`, {
            connection: 'close',
          });
          return;
        }
        throw error;
      }
      try {
        body = parseJson(raw);
      } catch {
        fail(res, requestId, 400, 'The request body is not valid JSON.');
        return;
      }
      if (Array.isArray(body)) {
        fail(
          res,
          requestId,
          400,
          'Batched requests (a JSON array) are not accepted: send one operation per request.',
        );
        return;
      }
      if (body === null || typeof body !== 'object') {
        fail(res, requestId, 400, 'The request body must be a JSON object with `query`.');
        return;
      }
      const fields = body as Record<string, unknown>;
      params = {
        query: fields['query'],
        variables: fields['variables'],
        operationName: fields['operationName'],
      };
    } else {
      const parsed = paramsFromSearch(search);
      if ('status' in parsed) {
        sendRefusal(res, parsed, requestId);
        return;
      }
      params = parsed;
    }

    const admission = await pipeline.admit({
      transport: 'http',
      method,
      credentials: req,
      ...params,
      requestId,
      deadlineHeader: req.headers[DEADLINE_HEADER],
    });
    if (!admission.ok) {
      sendRefusal(res, admission.refusal, requestId);
      return;
    }
    const operation = admission.operation;
    const headers = new HeaderMap();
    // for…in rather than Object.entries: no array per header for every request (issue 17, target 2).
    const incoming = req.headers;
    for (const name in incoming) {
      const value = incoming[name];
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    let runSearch = search;
    if (method === 'GET') {
      const query = new URLSearchParams(search);
      query.set('query', operation.query);
      runSearch = `?${query.toString()}`;
    } else if (operation.query !== params.query) {
      // The gate rewrote the operation; otherwise the body already holds the text to run.
      body = { ...(body as object), query: operation.query };
    }
    const contextValue = pipeline.contextOf(operation);
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method, headers, search: runSearch, body },
      context: async () => contextValue,
    });
    const outHeaders: Record<string, string> = { [REQUEST_ID_HEADER]: requestId };
    for (const [name, value] of response.headers) outHeaders[name] = value;
    const status = response.status ?? 200;
    if (response.body.kind === 'complete') {
      const text = response.body.string;
      // Apollo's text has no final newline (serialiseSharedResults); the body ends with one.
      const bytes = text.length > LARGE_BODY ? encoded(text) : `${text}\n`;
      outHeaders['content-length'] = String(
        typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length,
      );
      res.writeHead(status, outHeaders);
      res.end(req.method === 'HEAD' ? undefined : bytes);
      pipeline.finish(operation, { status, errors: contextValue.errors });
      return;
    }
    res.writeHead(status, outHeaders);
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
    pipeline.finish(operation, { status, errors: contextValue.errors });
  };
}
