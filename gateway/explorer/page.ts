import { PAGE_CONFIG_ELEMENT_ID, type PageConfig } from './page-config.js';

/** Where the bundle's files are served; the names are content-hashed, so they are cached for good. */
export const ASSETS_PATH = '/explorer/assets/';

/**
 * Only this origin: scripts and styles from our own files, fetches and the graphql-ws socket to
 * this host (CSP 3 lets `'self'` cover ws: on the same host and port), fonts and icons from the
 * data: URLs GraphiQL's stylesheet inlines, and no framing, plugins, forms or base changes.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** JSON that is safe inside a <script> element: nothing in it can close the element. */
function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** The explorer's HTML: the bundle, and the page configuration as an inert JSON block. */
export function renderPage(assets: { script: string; stylesheet: string }, config: PageConfig): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>marketing-graph explorer</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${ASSETS_PATH}${assets.stylesheet}" />
    <script type="application/json" id="${PAGE_CONFIG_ELEMENT_ID}">${scriptSafeJson(config)}</script>
    <script type="module" src="${ASSETS_PATH}${assets.script}"></script>
  </head>
  <body>
    <div id="explorer"><noscript>The explorer needs JavaScript.</noscript></div>
  </body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * What a person opening the explorer sees when its bundle cannot be built (a 503): why, that the
 * GraphQL endpoint answers meanwhile, and when to try again. Plain HTML, nothing to load.
 */
export function renderUnavailablePage(reason: string, endpoint: string): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>marketing-graph explorer unavailable</title>
    <link rel="icon" href="data:," />
  </head>
  <body>
    <h1>The explorer is not available right now (503)</h1>
    <p>${escapeHtml(reason)}</p>
    <p>The GraphQL API at <code>${escapeHtml(endpoint)}</code> answers as usual. Reload this page in a minute to try the build again.</p>
  </body>
</html>
`;
}
