import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { coreCatalog } from '../config/catalog.js';
import { loadEnv } from '../config/env.js';
import { ErrorCode } from '../errors.js';
import { registerSecret } from '../logger.js';
import { METRICS_CONTENT_TYPE, renderPrometheus, type Gauge } from '../metrics.js';
import { sendGraphQLError } from './graphql-http.js';

/** What a process that serves `/metrics` to a scraper by token reads (a subgraph run alone). */
export const METRICS_ENV = ['METRICS_TOKEN'] as const;

/** `METRICS_TOKEN`, registered as a secret so no log line can carry it; undefined when unset. */
export function metricsTokenFromEnv(source: NodeJS.ProcessEnv = process.env): string | undefined {
  const { METRICS_TOKEN } = loadEnv(coreCatalog, METRICS_ENV, source);
  registerSecret(METRICS_TOKEN);
  return METRICS_TOKEN;
}

/** Answers with every metric of the process (and `gauges`) in the Prometheus text format. */
export async function sendMetrics(res: ServerResponse, gauges: readonly Gauge[] = []): Promise<void> {
  const body = await renderPrometheus(gauges);
  res.writeHead(200, {
    'content-type': METRICS_CONTENT_TYPE,
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
  });
  res.end(body);
}

const BEARER = /^Bearer ([\w.~+/-]+=*)$/i;
const digest = (value: string) => createHash('sha256').update(value).digest();

/** True when the request carries `Authorization: Bearer <token>` (compared in constant time). */
export function holdsToken(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return false;
  const given = BEARER.exec(req.headers.authorization ?? '')?.[1];
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

/**
 * `GET /metrics` of a process with no clients of its own (a subgraph): a scraper sends
 * `Authorization: Bearer <METRICS_TOKEN>`. The figures name platforms and endpoints and reveal
 * traffic, so without a configured token the endpoint refuses everyone (403) rather than run open.
 * Wrong or missing credentials get 401 with one sentence, whatever was wrong.
 */
export function createTokenMetricsEndpoint(
  token: string | undefined,
  /** Figures read at scrape time, besides the registry's (a worker's event log depth). @default none */
  gauges: () => Promise<readonly Gauge[]> = async () => [],
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const expected = token === undefined ? undefined : digest(token);
  return async (req, res) => {
    req.resume();
    if (!expected) {
      sendGraphQLError(
        res,
        403,
        'Metrics are off on this process: set METRICS_TOKEN and scrape with Authorization: Bearer <METRICS_TOKEN>.',
        ErrorCode.FORBIDDEN,
      );
      return;
    }
    const given = BEARER.exec(req.headers.authorization ?? '')?.[1];
    // Compared as digests: equal lengths for timingSafeEqual, and no timing hint about the token.
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      sendGraphQLError(
        res,
        401,
        'Metrics need Authorization: Bearer <METRICS_TOKEN>.',
        ErrorCode.UNAUTHENTICATED,
        { 'www-authenticate': 'Bearer' },
      );
      return;
    }
    await sendMetrics(res, await gauges());
  };
}
