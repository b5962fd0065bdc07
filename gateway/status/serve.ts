import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONTENT_SECURITY_POLICY } from '../explorer/page.js';

/**
 * `/status`: the integration health dashboard. A static page and its own script and stylesheet
 * (self-hosted, CSP `'self'` as the explorer's); everything it shows it reads from `/graphql`
 * (`integrations`) with the key the person pastes into it, so it passes the same gate as any
 * client: a key without `monitoring:read` sees a refusal, not data. The page itself holds nothing.
 */
export const STATUS_PATH = '/status';

const ASSETS = {
  '/status': { file: 'status.html', type: 'text/html; charset=utf-8' },
  '/status/status.js': { file: 'status.js', type: 'text/javascript; charset=utf-8' },
  '/status/status.css': { file: 'status.css', type: 'text/css; charset=utf-8' },
} as const;

type AssetPath = keyof typeof ASSETS;

interface Loaded {
  body: Buffer;
  type: string;
  etag: string;
}

const HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-cache',
};

export function createStatusPage(): {
  handles(pathname: string): boolean;
  serve(req: IncomingMessage, res: ServerResponse, pathname: string): void;
} {
  const loaded = new Map<string, Loaded>(
    (Object.entries(ASSETS) as [AssetPath, (typeof ASSETS)[AssetPath]][]).map(([path, asset]) => {
      const body = readFileSync(new URL(`./assets/${asset.file}`, import.meta.url));
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
      return [path, { body, type: asset.type, etag }];
    }),
  );
  return {
    handles: (pathname) => loaded.has(pathname),
    serve(req, res, pathname) {
      const asset = loaded.get(pathname)!;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', ...HEADERS });
        res.end();
        return;
      }
      if (req.headers['if-none-match'] === asset.etag) {
        res.writeHead(304, { etag: asset.etag, ...HEADERS });
        res.end();
        return;
      }
      res.writeHead(200, {
        'content-type': asset.type,
        'content-length': String(asset.body.length),
        etag: asset.etag,
        ...HEADERS,
      });
      res.end(req.method === 'HEAD' ? undefined : asset.body);
    },
  };
}
