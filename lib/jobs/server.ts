import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Gauge } from '../metrics.js';
import { sendGraphQLError } from '../server/graphql-http.js';
import { createTokenMetricsEndpoint, holdsToken } from '../server/metrics-endpoint.js';
import type { RunningJobs } from './runner.js';

/**
 * Builds (does not start) the HTTP server of a process that runs jobs and serves no clients (a
 * `worker`): `/health` is 200 while every job is `ok` and 503 otherwise, with each job's status;
 * the details (backlogs, failure sentences) only for a caller holding METRICS_TOKEN. `/metrics` is
 * the process's prom-client registry for a scraper holding that token, as a subgraph run alone.
 */
export function buildJobServer(options: {
  jobs: RunningJobs;
  /** METRICS_TOKEN; unset, `/metrics` refuses everyone and `/health` shows no details. */
  metricsToken: string | undefined;
  /** Figures read at scrape time besides the registry's (the event log's depth). @default none */
  gauges?: () => Promise<readonly Gauge[]>;
  logger: Logger;
}): Server {
  const metrics = createTokenMetricsEndpoint(options.metricsToken, options.gauges);

  async function health(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    const report = await options.jobs.health();
    const detailed = holdsToken(req, options.metricsToken);
    const body = detailed
      ? report
      : {
          status: report.status,
          jobs: Object.fromEntries(
            Object.entries(report.jobs).map(([name, h]) => [name, { status: h.status }]),
          ),
        };
    const text = JSON.stringify(body);
    res.writeHead(report.status === 'ok' ? 200 : 503, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : text);
  }

  return createServer({ keepAlive: true }, (req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://worker');
    const fail = (error: unknown) => {
      options.logger.error({ err: error }, 'request failed');
      if (!res.headersSent)
        sendGraphQLError(res, 500, 'Internal server error', ErrorCode.INTERNAL_SERVER_ERROR);
      else res.destroy();
    };
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (pathname === '/health' && read) {
      health(req, res).catch(fail);
      return;
    }
    if (pathname === '/metrics' && read) {
      metrics(req, res).catch(fail);
      return;
    }
    req.resume();
    sendGraphQLError(
      res,
      404,
      `Nothing at ${pathname}. A worker serves only /health and /metrics; GraphQL is the gateway's.`,
      ErrorCode.BAD_REQUEST,
    );
  });
}
