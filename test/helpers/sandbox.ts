import { platformNamed, type PlatformName as Platform } from '../../platforms/registry.js';
import { listen } from '../../lib/server/listen.js';
import type { FaultInput } from '../../sandboxes/kit/faults.js';
import type { RecordedRequest } from '../../sandboxes/kit/recorder.js';
import type { EndpointStats } from '../../sandboxes/kit/stats.js';
import { buildSandbox, sandboxBaseUrl } from '../../sandboxes/registry.js';
import { generateWorld, type World } from '../../sandboxes/world/world.js';
import { startCliProcess, type CliProcess } from './cli-process.js';
import { silentLogger } from './context.js';

/** A fixed anchor so tests see the same 90 days whatever day they run. */
export const TEST_ANCHOR_DATE = '2026-11-28';

export interface RunningSandbox {
  world: World;
  origin: string;
  /** What the platform's connector takes as its base URL. */
  baseUrl: string;
  stats(): Promise<{ total: number; maxConcurrent: number; endpoints: Record<string, EndpointStats> }>;
  resetStats(): Promise<void>;
  setFaults(faults: FaultInput): Promise<void>;
  /** The write requests the sandbox received (`GET /__sandbox/requests`), oldest first. */
  requests(endpoint?: string): Promise<RecordedRequest[]>;
  clearRequests(): Promise<void>;
  close(): Promise<void>;
}

/** Starts one platform's sandbox on a free port, with its admin endpoints wrapped for tests. */
export async function startSandbox(
  platform: Platform,
  options: { customers?: number; rateLimits?: boolean; world?: World; latencyMs?: number } = {},
): Promise<RunningSandbox> {
  const world =
    options.world ??
    generateWorld({ seed: 7, customers: options.customers ?? 300, anchorDate: TEST_ANCHOR_DATE });
  const sandbox = await buildSandbox(platform, {
    world,
    logger: silentLogger,
    rateLimits: options.rateLimits ?? true,
    ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
  });
  const listening = await listen(sandbox.server, 0, '127.0.0.1');
  const admin = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${listening.origin}/__sandbox/${path}`, {
      method,
      ...(body !== undefined
        ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
        : {}),
    });
    if (!response.ok)
      throw new Error(
        `sandbox admin ${method} ${path} answered ${response.status}: ${await response.text()}`,
      );
    return response.json();
  };
  return {
    world,
    origin: listening.origin,
    baseUrl: sandboxBaseUrl(platform, listening.origin),
    // The sandbox's own admin answer, written by sandboxes/kit/server.ts: trusted, not parsed.
    stats: async () => (await admin('GET', 'stats')) as Awaited<ReturnType<RunningSandbox['stats']>>,
    resetStats: async () => {
      await admin('POST', 'reset-stats');
    },
    setFaults: async (faults) => {
      await admin('PUT', 'faults', faults);
    },
    requests: async (endpoint) => {
      const query = endpoint ? `?endpoint=${encodeURIComponent(endpoint)}` : '';
      const body = (await admin('GET', `requests${query}`)) as { requests: RecordedRequest[] };
      return body.requests;
    },
    clearRequests: async () => {
      await admin('DELETE', 'requests');
    },
    close: listening.close,
  };
}

/**
 * `cli/main.ts sandbox <platform>` as its own OS process on a free port (its port variable), with
 * only `env` besides PATH, resolved once `/__sandbox/health` answers 200.
 */
export function startSandboxProcess(platform: Platform, env: Record<string, string>): Promise<CliProcess> {
  return startCliProcess(
    ['sandbox', platform],
    platformNamed(platform).sandbox.portVariable,
    '/__sandbox/health',
    env,
  );
}
