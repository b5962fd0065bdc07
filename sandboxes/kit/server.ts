import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../../lib/logger.js';
import { createTokenMetricsEndpoint } from '../../lib/server/metrics-endpoint.js';
import { Faults, faultSchema, type FaultInput } from './faults.js';
import { sandboxMetrics } from './metrics.js';
import { RequestRecorder } from './recorder.js';
import { SandboxStats } from './stats.js';
import type { PlatformSandbox, Route, SandboxRequest, SandboxResponse } from './types.js';

export interface SandboxServerOptions {
  /** Enforce the platform's documented limits. @default true */
  rateLimits?: boolean;
  /** Added to every platform response (not to `/__sandbox` admin calls). @default 0 */
  latencyMs?: number;
  /** Faults active from the start; change them later with `PUT /__sandbox/faults`. */
  faults?: FaultInput;
  logger: Logger;
  /** Extra admin routes under `/__sandbox/` (the webhook emitter adds its own). */
  adminRoutes?: readonly Route[];
  /**
   * Bearer token for `GET /metrics` (METRICS_TOKEN), as on a subgraph: the figures reveal traffic.
   * @default none: `/metrics` answers 403 to everyone
   */
  metricsToken?: string;
}

export interface SandboxServer {
  server: Server;
  stats: SandboxStats;
  faults: Faults;
  /** The write requests received (routes marked `write`). */
  requests: RequestRecorder;
}

interface CompiledRoute {
  route: Route;
  endpoint: string;
  pattern: RegExp;
  names: string[];
}

const MAX_BODY_BYTES = 1_048_576;

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split(/(\{\w+\})/)
    .map((part) => {
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      if (name) {
        names.push(name);
        return '([^/]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return { route, endpoint: `${route.method} ${route.path}`, pattern: new RegExp(`^${source}$`), names };
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        resolve(undefined);
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(
  res: ServerResponse,
  response: SandboxResponse,
  extraHeaders: Record<string, string> = {},
): void {
  const headers: Record<string, string> = { ...extraHeaders, ...response.headers };
  let body = '';
  if (response.json !== undefined) {
    body = JSON.stringify(response.json);
    headers['content-type'] = response.contentType ?? 'application/json; charset=utf-8';
  } else if (response.text !== undefined) {
    body = response.text;
    headers['content-type'] = response.contentType ?? 'text/plain; charset=utf-8';
  }
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(response.status, headers);
  res.end(body);
}

/**
 * Waits `ms`, or less if the caller hangs up first: a hanging platform (a long injected latency)
 * holds nothing once its client has given up on it.
 */
const sleepUnlessGone = (ms: number, res: ServerResponse) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.once('close', done);
  });

/**
 * Builds (does not start) an HTTP server that speaks one platform's API: its routes, auth check,
 * rate limits and error bodies, plus `/__sandbox/*` admin endpoints for request counts and faults.
 */
export function createSandboxServer(sandbox: PlatformSandbox, options: SandboxServerOptions): SandboxServer {
  const routes = sandbox.routes
    .map(compile)
    // Literal paths win over patterns with parameters (`/contacts/search` before `/contacts/{id}`).
    .sort((a, b) => a.names.length - b.names.length);
  const admin = (options.adminRoutes ?? []).map(compile);
  const stats = new SandboxStats();
  const faults = new Faults();
  if (options.faults) faults.set(options.faults);
  const requests = new RequestRecorder();
  const rateLimits = options.rateLimits ?? true;
  const log = options.logger;
  const serveMetrics = createTokenMetricsEndpoint(options.metricsToken);
  const platform = sandbox.platform;

  const adminRoutes: Route[] = [
    {
      method: 'GET',
      path: '/__sandbox/health',
      handle: () => ({ status: 200, json: { ok: true, platform: sandbox.platform } }),
    },
    {
      method: 'GET',
      path: '/__sandbox/stats',
      handle: (request) => {
        const windowMs = Number(request.query.get('windowMs') ?? 0);
        const peak =
          windowMs > 0 ? { peakInWindow: { windowMs, requests: stats.peakInWindow(windowMs) } } : {};
        return { status: 200, json: { ...stats.snapshot(), ...peak } };
      },
    },
    {
      method: 'POST',
      path: '/__sandbox/reset-stats',
      handle: () => {
        stats.reset();
        return { status: 200, json: stats.snapshot() };
      },
    },
    { method: 'GET', path: '/__sandbox/faults', handle: () => ({ status: 200, json: faults.current }) },
    {
      method: 'PUT',
      path: '/__sandbox/faults',
      handle: (request) => {
        const parsed = faultSchema.safeParse(request.json ?? {});
        if (!parsed.success) {
          return {
            status: 400,
            json: {
              error: 'invalid fault configuration',
              issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
            },
          };
        }
        return { status: 200, json: faults.set(parsed.data) };
      },
    },
    { method: 'DELETE', path: '/__sandbox/faults', handle: () => ({ status: 200, json: faults.set({}) }) },
    ...requests.adminRoutes(),
  ];
  const adminCompiled = [...adminRoutes.map(compile), ...(sandbox.adminRoutes ?? []).map(compile), ...admin];

  function match(list: readonly CompiledRoute[], method: string, path: string) {
    for (const compiled of list) {
      if (compiled.route.method !== method) continue;
      const m = compiled.pattern.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      compiled.names.forEach((name, i) => {
        params[name] = decodeURIComponent(m[i + 1] ?? '');
      });
      return { compiled, params };
    }
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = req.method ?? 'GET';
    const rawBody = await readBody(req, sandbox.maxBodyBytes ?? MAX_BODY_BYTES);
    const base = {
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      rawBody: rawBody ?? Buffer.alloc(0),
    };

    // No platform serves `/metrics` at its root, so it cannot shadow a platform route.
    if (url.pathname === '/metrics' && method === 'GET') return serveMetrics(req, res);

    if (url.pathname.startsWith('/__sandbox/')) {
      const found = match(adminCompiled, method, url.pathname);
      if (!found)
        return send(res, {
          status: 404,
          json: { code: 'NOT_FOUND', error: `No sandbox admin endpoint ${method} ${url.pathname}.` },
        });
      let json: unknown;
      try {
        json = rawBody && rawBody.length > 0 ? JSON.parse(rawBody.toString('utf8')) : undefined;
      } catch {
        return send(res, {
          status: 400,
          json: { code: 'INVALID_JSON', error: 'The body is not valid JSON.' },
        });
      }
      return send(
        res,
        await found.compiled.route.handle({
          ...base,
          params: found.params,
          json,
          endpoint: found.compiled.endpoint,
        }),
      );
    }

    const found = match(routes, method, url.pathname);
    const endpoint = found?.compiled.endpoint ?? `${method} (unknown route)`;
    const startedAt = stats.started();
    let status = 500;
    /** Why a 429 was sent, when one was. */
    let limitedBy: 'limit' | 'fault' | 'route' = 'route';
    let release: (() => void) | undefined;
    let received: unknown;
    try {
      if (!rawBody) {
        status = 413;
        return send(res, sandbox.errorResponse(413, 'Request body too large'));
      }
      let json: unknown;
      const contentType = req.headers['content-type'] ?? '';
      if (rawBody.length > 0 && contentType.includes('json')) {
        try {
          json = JSON.parse(rawBody.toString('utf8'));
        } catch {
          status = 400;
          return send(res, sandbox.errorResponse(400, 'Invalid JSON input'));
        }
      }
      received = json;
      const request: SandboxRequest = { ...base, params: found?.params ?? {}, json, endpoint };
      const denied = sandbox.authenticate(request);
      if (denied) {
        status = denied.status;
        return send(res, denied);
      }
      let limitHeaders: Record<string, string> = {};
      if (rateLimits) {
        const admission = sandbox.admit(request);
        release = admission.release;
        if (admission.reject) {
          status = admission.reject.status;
          limitedBy = 'limit';
          return send(res, admission.reject, admission.headers);
        }
        limitHeaders = admission.headers ?? {};
      }
      const fault = faults.decide(endpoint);
      if (fault.kind !== 'none') sandboxMetrics.faults.inc({ platform, endpoint, kind: fault.kind });
      if (fault.latencyMs > 0) sandboxMetrics.faults.inc({ platform, endpoint, kind: 'latency' });
      if (fault.kind === 'rateLimit') limitedBy = 'fault';
      const delay = (options.latencyMs ?? 0) + fault.latencyMs;
      if (delay > 0) await sleepUnlessGone(delay, res);
      let response: SandboxResponse;
      if (fault.kind === 'error') response = sandbox.errorResponse(fault.status, 'Injected failure');
      else if (fault.kind === 'rateLimit')
        response = sandbox.rateLimitedResponse(fault.retryAfterSeconds, fault.rateLimitPolicy);
      else if (fault.kind === 'malformed')
        response = { status: 200, json: { unexpected: 'payload', injected: true } };
      else if (!found) response = sandbox.errorResponse(404, `No route for ${method} ${url.pathname}`);
      else response = await found.compiled.route.handle(request);
      status = response.status;
      send(res, response, limitHeaders);
    } finally {
      release?.();
      if (found?.compiled.route.write) requests.record({ ...base, endpoint }, received, status);
      stats.finished(endpoint, status, startedAt);
      sandboxMetrics.requests.inc({ platform, endpoint, status });
      if (status === 429) sandboxMetrics.rateLimited.inc({ platform, endpoint, cause: limitedBy });
      log.debug({ endpoint, status }, 'sandbox request');
    }
  }

  const server = createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error({ err: error }, 'sandbox handler failed');
      if (!res.headersSent) send(res, sandbox.errorResponse(500, 'Internal sandbox error'));
      else res.destroy();
    });
  });
  return { server, stats, faults, requests };
}
