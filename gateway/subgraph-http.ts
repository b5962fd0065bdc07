import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * One POST to a subgraph on Node's own HTTP client, the answer read in full.
 *
 * Not undici, on purpose: undici parses HTTP with llhttp compiled to WebAssembly, and under a
 * gateway's load V8 soon recompiles that parser's one very large function with its optimising
 * compiler, on a background thread whose ~20-30 MB of compiler memory stays in that thread's malloc
 * arena for the life of the process (issue 17: most of the gap between the gateway's peak RSS and
 * Apollo Gateway's, whose client is Node's too). Node's client parses with the same llhttp compiled
 * into Node itself: no compilation at run time. It costs 10-25 µs more CPU per fetch than undici's
 * `request` (bench/README.md, "Memory").
 */

/** Keep-alive pools for the subgraphs, one per scheme. */
export interface SubgraphAgents {
  http: HttpAgent;
  https: HttpsAgent;
}

/** Sockets kept per subgraph origin, and how long an idle one is kept. */
export function createSubgraphAgents(options: { maxSockets: number; idleMs: number }): SubgraphAgents {
  const settings = { keepAlive: true, maxSockets: options.maxSockets, timeout: options.idleMs };
  return { http: new HttpAgent(settings), https: new HttpsAgent(settings) };
}

export function closeSubgraphAgents(agents: SubgraphAgents): void {
  agents.http.destroy();
  agents.https.destroy();
}

/** Where a subgraph is, parsed once per URL. */
export interface SubgraphTarget {
  url: string;
  secure: boolean;
  hostname: string;
  port: number;
  path: string;
}

export function subgraphTarget(url: string): SubgraphTarget {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'https:';
  return {
    url,
    secure,
    // `[::1]` is a URL's spelling; the socket wants the address.
    hostname: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : secure ? 443 : 80,
    path: `${parsed.pathname}${parsed.search}`,
  };
}

export interface SubgraphAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The fetch took longer than it was given; named as a timeout so the caller says "did not answer in time". */
export class SubgraphTimeout extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * POSTs `body` and reads the whole answer. Fails with a SubgraphTimeout when the answer is not in
 * within `timeoutMs` (one timer for the whole exchange), or with the socket's error.
 */
export function postToSubgraph(
  agents: SubgraphAgents,
  target: SubgraphTarget,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<SubgraphAnswer> {
  return new Promise((resolve, reject) => {
    const send = target.secure ? httpsRequest : httpRequest;
    const request = send(
      {
        agent: target.secure ? agents.https : agents.http,
        hostname: target.hostname,
        port: target.port,
        path: target.path,
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (response) => {
        response.setEncoding('utf8');
        let text = '';
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text });
        });
        response.on('error', fail);
      },
    );
    function fail(error: Error) {
      clearTimeout(timer);
      reject(error);
    }
    const timer = setTimeout(() => {
      request.destroy(new SubgraphTimeout(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    request.on('error', fail);
    request.end(body);
  });
}
