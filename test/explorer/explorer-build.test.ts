import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createExplorer, type ExplorerOptions } from '../../gateway/explorer/serve.js';
import { explorerSourceHash } from '../../gateway/explorer/manifest.js';
import { createLogger } from '../../lib/logger.js';
import { listen, type Listening } from '../../lib/server/listen.js';

/**
 * The explorer is built by the first request that needs it, not before the gateway listens (`npm
 * start` has no build step): from an empty output folder, the first GET /explorer builds the bundle
 * and serves the page; requests that arrive meanwhile share that one build; a failed build is a
 * 503 page that says so, and the gateway keeps answering.
 */

const servers: Listening[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function serveExplorer(options: Partial<ExplorerOptions>) {
  const lines: string[] = [];
  const logger = createLogger({
    name: 'explorer',
    level: 'info',
    destination: { write: (l) => lines.push(l) },
  });
  const explorer = createExplorer({ introspectionForAll: true, logger, ...options });
  const server: Server = createServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://gateway');
    if (explorer.handles(req, pathname)) {
      void explorer.serve(req, res, pathname);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('still here');
  });
  const listening = await listen(server, 0, '127.0.0.1');
  servers.push(listening);
  const messages = () => lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
  return { origin: listening.origin, messages };
}

describe('the explorer bundle, built on first request', () => {
  it('should build into an empty folder on the first GET /explorer, once for concurrent requests, and serve it', async () => {
    const distDir = join(mkdtempSync(join(tmpdir(), 'explorer-dist-')), 'dist');
    const { origin, messages } = await serveExplorer({ distDir });
    expect(existsSync(distDir)).toBe(false);

    const [first, second, asBrowser] = await Promise.all([
      fetch(`${origin}/explorer`),
      fetch(`${origin}/explorer/`),
      fetch(`${origin}/graphql`, { headers: { accept: 'text/html' } }),
    ]);
    expect([first.status, second.status, asBrowser.status]).toEqual([200, 200, 200]);
    const html = await first.text();
    expect(html).toContain('<div id="explorer">');
    expect(messages().filter((m) => m.startsWith('building the explorer bundle'))).toHaveLength(1);

    const manifest = JSON.parse(
      readFileSync(join(distDir, explorerSourceHash(), 'manifest.json'), 'utf8'),
    ) as { script: string };
    expect(html).toContain(`/explorer/assets/${manifest.script}`);
    const script = await fetch(`${origin}/explorer/assets/${manifest.script}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');

    // Built once: a later request is served from it without building again.
    expect((await fetch(`${origin}/explorer`)).status).toBe(200);
    expect(messages().filter((m) => m.startsWith('building the explorer bundle'))).toHaveLength(1);
  }, 180_000);

  it('should answer a failed build with a 503 page that says so, keep serving everything else, and try again later', async () => {
    // A folder that cannot be created: its parent is a file.
    const parent = join(mkdtempSync(join(tmpdir(), 'explorer-dist-')), 'a-file');
    writeFileSync(parent, 'not a folder');
    const { origin, messages } = await serveExplorer({ distDir: join(parent, 'dist') });

    const page = await fetch(`${origin}/explorer`);
    expect(page.status).toBe(503);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('retry-after')).toBe('60');
    const text = await page.text();
    expect(text).toContain('The explorer is not available right now (503)');
    expect(text).toContain('The explorer could not be built; the gateway log says why.');
    expect(text).toContain('<code>/graphql</code> answers as usual');

    const asset = await fetch(`${origin}/explorer/assets/explorer-X.js`);
    expect(asset.status).toBe(503);
    expect(
      ((await asset.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code,
    ).toBe('INTERNAL_SERVER_ERROR');
    expect(await (await fetch(`${origin}/health`)).text()).toBe('still here');
    // Each request tried again: a failure is not remembered.
    expect(messages().filter((m) => m === 'explorer build failed')).toHaveLength(2);
  });

  it("should serve each day's page with that day's example dates", async () => {
    let day = '2026-11-28';
    const { origin } = await serveExplorer({ today: () => day });
    const config = async () => {
      const html = await (await fetch(`${origin}/explorer`)).text();
      const block = /<script type="application\/json" id="explorer-config">(.*?)<\/script>/.exec(html)![1]!;
      const page = JSON.parse(block) as { examples: { operations: { name: string; variables: string }[] }[] };
      const dashboard = page.examples.flatMap((f) => f.operations).find((o) => o.name === 'Dashboard')!;
      return JSON.parse(dashboard.variables) as unknown;
    };
    expect(await config()).toEqual({ since: '2026-10-30', until: '2026-11-28' });
    day = '2026-11-29';
    expect(await config()).toEqual({ since: '2026-10-31', until: '2026-11-29' });
  }, 180_000);

  it('should not build before the gateway starts: npm start runs no build step', () => {
    const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(scripts['prestart']).toBeUndefined();
    // The launcher prebuilds the server's own code (scripts/run-built.mjs), never the explorer.
    expect(scripts['start']).toBe(
      'node --max-semi-space-size=8 --heap-growing-percent=200 scripts/run-built.mjs start',
    );
    expect(readFileSync('scripts/run-built.mjs', 'utf8')).not.toMatch(/build:explorer|explorer\/build/);
  });
});
