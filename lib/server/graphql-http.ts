import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { ErrorCode } from '../errors.js';

/** An HTTP GraphQL request after the body is read, before Apollo sees it. */
export interface GraphQLHttpInput {
  method: string;
  headers: HeaderMap;
  search: string;
  body: unknown;
  /** The body's bytes as received (POST only): what a signature over the request covers. */
  raw?: Buffer;
}

/** What a `prepare` step can answer instead of letting the request through. */
export interface EarlyResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface GraphQLHandlerOptions<C extends BaseContext> {
  /** Builds the per-request context (request id, identity, loaders). */
  context(req: IncomingMessage): Promise<C>;
  /** Bodies larger than this are refused with 413 before they are parsed. */
  maxBodyBytes: number;
  /**
   * Runs before Apollo: authentication, rate limits, operation authorization. It may rewrite the
   * input (the operation to run) or answer the request itself.
   */
  prepare?(req: IncomingMessage, input: GraphQLHttpInput): Promise<GraphQLHttpInput | EarlyResponse>;
}

function isEarly(value: GraphQLHttpInput | EarlyResponse): value is EarlyResponse {
  return 'status' in value;
}

/** Writes a GraphQL-shaped error for failures that happen before GraphQL runs. */
export function sendGraphQLError(
  res: ServerResponse,
  status: number,
  message: string,
  code: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/graphql-response+json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

export class BodyTooLargeError extends Error {}

/** Response bodies longer than this (characters) are encoded once and the bytes kept for a repeat. */
const LARGE_BODY = 16_384;

/** Reads a request body, refusing (and draining) anything over `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      reject(new BodyTooLargeError());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!tooLarge) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

/**
 * Serves an ApolloServer on Node's own http server, without a framework: body limits, JSON parsing
 * with a coded error, and Apollo's HTTP semantics (GET queries, CSRF prevention, status codes).
 */
export function createGraphQLHandler<C extends BaseContext>(
  server: ApolloServer<C>,
  options: GraphQLHandlerOptions<C>,
): (req: IncomingMessage, res: ServerResponse, search: string) => Promise<void> {
  // The last large body sent, encoded: requests answered with the same text (coalesced queries
  // share one serialisation) reuse the bytes instead of encoding and measuring them again.
  let lastBody: { text: string; bytes: Buffer } | undefined;
  const encoded = (text: string): Buffer => {
    if (lastBody?.text !== text) lastBody = { text, bytes: Buffer.from(text, 'utf8') };
    return lastBody.bytes;
  };
  return async (req, res, search) => {
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    let body: unknown;
    let raw: Buffer | undefined;
    if (req.method === 'POST') {
      try {
        raw = await readBody(req, options.maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          sendGraphQLError(
            res,
            413,
            `The request body is larger than ${options.maxBodyBytes} bytes.`,
            ErrorCode.BAD_REQUEST,
            { connection: 'close' },
          );
          return;
        }
        throw error;
      }
      const contentType = headers.get('content-type') ?? '';
      if (raw.length > 0 && contentType.includes('json')) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          sendGraphQLError(res, 400, 'The request body is not valid JSON.', ErrorCode.BAD_REQUEST);
          return;
        }
      } else {
        body = raw.toString('utf8');
      }
    }
    let input: GraphQLHttpInput = {
      method: req.method ?? 'GET',
      headers,
      search,
      body,
      ...(raw ? { raw } : {}),
    };
    if (options.prepare) {
      const prepared = await options.prepare(req, input);
      if (isEarly(prepared)) {
        const text = JSON.stringify(prepared.body);
        res.writeHead(prepared.status, {
          ...prepared.headers,
          'content-type': 'application/graphql-response+json; charset=utf-8',
          'content-length': String(Buffer.byteLength(text)),
        });
        res.end(text);
        return;
      }
      input = prepared;
    }
    const response = await server.executeHTTPGraphQLRequest({
      httpGraphQLRequest: input,
      context: () => options.context(req),
    });
    const outHeaders: Record<string, string> = {};
    for (const [name, value] of response.headers) outHeaders[name] = value;
    if (response.body.kind === 'complete') {
      const text = response.body.string;
      const body = text.length > LARGE_BODY ? encoded(text) : text;
      outHeaders['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.length);
      res.writeHead(response.status ?? 200, outHeaders);
      res.end(body);
      return;
    }
    res.writeHead(response.status ?? 200, outHeaders);
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
}
