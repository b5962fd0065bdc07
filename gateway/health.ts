import { request, type Agent } from 'undici';
import type { SubgraphName } from '../lib/graphql/subgraph-names.js';

export interface HealthReport {
  status: 'ok' | 'unavailable';
  supergraphLoaded: boolean;
  subgraphs: Record<string, { ok: boolean; reason?: string }>;
}

/** What anyone may read: the status alone, no subgraph names or failure causes. */
export function publicHealth(report: HealthReport): Pick<HealthReport, 'status'> {
  return { status: report.status };
}

/**
 * `/health` is 200 only when the supergraph is loaded and every subgraph answers a trivial query.
 * Results are reused for `cacheMs` so a load balancer polling hard does not multiply subgraph calls.
 */
export function createHealthCheck(options: {
  /** A function for a URL known only once the gateway listens. */
  subgraphUrls: Record<SubgraphName, string | (() => string)>;
  agent: Agent;
  isLoaded: () => boolean;
  /** Headers a subgraph needs to accept the probe: a gateway token bound to the probe's body. */
  probeHeaders?: (subgraph: SubgraphName, body: string) => Promise<Record<string, string>>;
  cacheMs?: number;
}): () => Promise<HealthReport> {
  let last: { at: number; report: HealthReport } | undefined;
  let inFlight: Promise<HealthReport> | undefined;

  async function probe(name: SubgraphName, url: string): Promise<{ ok: boolean; reason?: string }> {
    try {
      const body = JSON.stringify({ query: 'query __GatewayHealthCheck__ { __typename }' });
      const response = await request(url, {
        method: 'POST',
        dispatcher: options.agent,
        headers: { 'content-type': 'application/json', ...(await options.probeHeaders?.(name, body)) },
        body,
        headersTimeout: 2_000,
        bodyTimeout: 2_000,
      });
      const answer = await response.body.text();
      if (response.statusCode !== 200) return { ok: false, reason: `answered HTTP ${response.statusCode}` };
      return answer.includes('"__typename"') ? { ok: true } : { ok: false, reason: 'answered without data' };
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? String(error.code) : 'unreachable';
      return { ok: false, reason: `unreachable (${code})` };
    }
  }

  async function run(): Promise<HealthReport> {
    const entries = await Promise.all(
      (Object.entries(options.subgraphUrls) as [SubgraphName, string | (() => string)][]).map(
        async ([name, url]) => [name, await probe(name, typeof url === 'string' ? url : url())] as const,
      ),
    );
    const subgraphs = Object.fromEntries(entries);
    const supergraphLoaded = options.isLoaded();
    const ok = supergraphLoaded && entries.every(([, r]) => r.ok);
    return { status: ok ? 'ok' : 'unavailable', supergraphLoaded, subgraphs };
  }

  return async () => {
    const now = Date.now();
    if (last && now - last.at < (options.cacheMs ?? 1_000)) return last.report;
    inFlight ??= run().finally(() => {
      inFlight = undefined;
    });
    const report = await inFlight;
    last = { at: Date.now(), report };
    return report;
  };
}
