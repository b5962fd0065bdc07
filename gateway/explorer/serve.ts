import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { todayUtc } from '../../lib/dates.js';
import { ErrorCode } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { sendGraphQLError } from '../../lib/server/graphql-http.js';
import { prefersHtml } from './accept.js';
import { examplesOn, loadExamples, OPERATIONS_DIR } from './examples.js';
import { buildDir, DIST_DIR, explorerSourceHash, readManifest, type ExplorerManifest } from './manifest.js';
import { ASSETS_PATH, CONTENT_SECURITY_POLICY, renderPage, renderUnavailablePage } from './page.js';
import { DEFAULT_HEADERS, type PageConfig } from './page-config.js';

export const EXPLORER_PATH = '/explorer';

export interface ExplorerOptions {
  /** Path of the GraphQL endpoint the page talks to. @default '/graphql' */
  endpoint?: string;
  /** Development mode: every caller may introspect; the page says so. */
  introspectionForAll: boolean;
  /** Example operations for the Examples pane. @default 'docs/operations' */
  operationsDir?: string;
  /** Where bundles are built and read. @default gateway/explorer/dist */
  distDir?: string;
  /** Today as YYYY-MM-DD, the day the examples' relative dates count from. @default today, UTC */
  today?: () => string;
  logger: Logger;
}

export interface Explorer {
  /** Whether the request is the explorer's: `/explorer`, its assets, or a browser opening the endpoint. */
  handles(req: IncomingMessage, pathname: string): boolean;
  serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void>;
}

interface Asset {
  body: Buffer;
  gzipped: Buffer;
  contentType: string;
}

interface Loaded {
  manifest: ExplorerManifest;
  assets: Map<string, Asset>;
}

/** The page as rendered for one day: the examples' dates change at midnight UTC. */
interface RenderedPage {
  day: string;
  body: Buffer;
  etag: string;
}

class ExplorerUnavailable extends Error {}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

/** The built bundle for the current sources, building it first when missing. */
async function bundle(logger: Logger, distDir: string): Promise<ExplorerManifest> {
  const existing = readManifest(explorerSourceHash(), distDir);
  if (existing) return existing;
  let buildExplorer: (distDir: string) => Promise<ExplorerManifest>;
  try {
    ({ buildExplorer } = await import('./build.js'));
  } catch {
    // esbuild and GraphiQL are development dependencies; a deployment builds with them first.
    throw new ExplorerUnavailable(
      'The explorer is not built on this deployment: run `npm run build:explorer` where development dependencies are installed.',
    );
  }
  const started = Date.now();
  logger.info('building the explorer bundle (first request since its sources changed)');
  const manifest = await buildExplorer(distDir);
  logger.info({ ms: Date.now() - started }, 'explorer bundle built');
  return manifest;
}

function asset(dir: string, name: string, contentType: string): [string, Asset] {
  const body = readFileSync(join(dir, name));
  return [name, { body, gzipped: gzipSync(body), contentType }];
}

/**
 * The self-hosted GraphiQL explorer: the page at `/explorer` (and at the GraphQL endpoint for
 * requests that prefer HTML), the bundle's two files at `/explorer/assets/`, served from memory
 * with a strict Content-Security-Policy. The bundle is built by the first request that needs it
 * when it is missing or stale (never before the gateway listens): requests that arrive meanwhile
 * wait for the same build, and a failed build answers 503 and is tried again by a later request.
 * The example operations are read once, when the gateway starts.
 */
export function createExplorer(options: ExplorerOptions): Explorer {
  const endpoint = options.endpoint ?? '/graphql';
  const operationsDir = options.operationsDir ?? OPERATIONS_DIR;
  const distDir = options.distDir ?? DIST_DIR;
  const today = options.today ?? (() => todayUtc());
  const { examples, problems } = loadExamples(operationsDir);
  for (const problem of problems) options.logger.warn({ problem }, 'explorer example left out');

  let loading: Promise<Loaded> | undefined;
  const load = (): Promise<Loaded> => {
    loading ??= bundle(options.logger, distDir).then(
      (manifest) => {
        const dir = buildDir(manifest.sourceHash, distDir);
        return {
          manifest,
          assets: new Map([
            asset(dir, manifest.script, 'text/javascript; charset=utf-8'),
            asset(dir, manifest.stylesheet, 'text/css; charset=utf-8'),
          ]),
        };
      },
      (error: unknown) => {
        // Not remembered: the next request tries again (a missing folder or a full disk heals).
        loading = undefined;
        throw error;
      },
    );
    return loading;
  };

  let rendered: RenderedPage | undefined;
  const pageFor = (manifest: ExplorerManifest): RenderedPage => {
    const day = today();
    if (rendered?.day === day) return rendered;
    const config: PageConfig = {
      endpoint,
      introspectionForAll: options.introspectionForAll,
      defaultHeaders: DEFAULT_HEADERS,
      examples: examplesOn(examples, day),
    };
    const body = Buffer.from(renderPage(manifest, config));
    rendered = { day, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
    return rendered;
  };

  const isPage = (pathname: string) => pathname === EXPLORER_PATH || pathname === `${EXPLORER_PATH}/`;

  return {
    handles(req, pathname) {
      if (pathname === endpoint) return req.method === 'GET' && prefersHtml(req.headers.accept);
      return isPage(pathname) || pathname.startsWith(`${EXPLORER_PATH}/`);
    },

    async serve(req, res, pathname) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendGraphQLError(res, 405, `${pathname} answers GET only.`, ErrorCode.BAD_REQUEST, {
          allow: 'GET, HEAD',
        });
        return;
      }
      const isAsset = pathname.startsWith(ASSETS_PATH);
      if (!isAsset && !isPage(pathname) && pathname !== endpoint) {
        sendGraphQLError(
          res,
          404,
          `Nothing at ${pathname}. The explorer is at ${EXPLORER_PATH}.`,
          ErrorCode.BAD_REQUEST,
        );
        return;
      }
      let loaded: Loaded;
      try {
        loaded = await load();
      } catch (error) {
        const message =
          error instanceof ExplorerUnavailable
            ? error.message
            : 'The explorer could not be built; the gateway log says why.';
        if (!(error instanceof ExplorerUnavailable))
          options.logger.error({ err: error }, 'explorer build failed');
        if (isAsset) {
          sendGraphQLError(res, 503, message, ErrorCode.INTERNAL_SERVER_ERROR, { 'retry-after': '60' });
          return;
        }
        // A person opened the page: say it in a page, with where GraphQL still answers.
        const body = Buffer.from(renderUnavailablePage(message, endpoint));
        res.writeHead(503, {
          ...SECURITY_HEADERS,
          'content-security-policy': CONTENT_SECURITY_POLICY,
          'x-frame-options': 'DENY',
          'cache-control': 'no-store',
          'retry-after': '60',
          'content-type': 'text/html; charset=utf-8',
          'content-length': String(body.length),
        });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      if (isAsset) {
        const found = loaded.assets.get(pathname.slice(ASSETS_PATH.length));
        if (!found) {
          sendGraphQLError(res, 404, `No explorer asset at ${pathname}.`, ErrorCode.BAD_REQUEST);
          return;
        }
        const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
        const body = gzip ? found.gzipped : found.body;
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'content-type': found.contentType,
          'content-length': String(body.length),
          // The name changes with the content, so a browser never needs to ask again.
          'cache-control': 'public, max-age=31536000, immutable',
          vary: 'accept-encoding',
          ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      const page = pageFor(loaded.manifest);
      const headers = {
        ...SECURITY_HEADERS,
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'x-frame-options': 'DENY',
        // Revalidated on every load, so a rebuilt bundle (or a new day's examples) is picked up at once.
        'cache-control': 'no-cache',
        etag: page.etag,
        // The endpoint answers HTML or GraphQL by Accept; caches must keep them apart.
        ...(pathname === endpoint ? { vary: 'accept' } : {}),
      };
      if (req.headers['if-none-match'] === page.etag) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      res.writeHead(200, {
        ...headers,
        'content-type': 'text/html; charset=utf-8',
        'content-length': String(page.body.length),
      });
      res.end(req.method === 'HEAD' ? undefined : page.body);
    },
  };
}
