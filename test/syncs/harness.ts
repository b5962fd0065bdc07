import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Stack } from '../../cli/stack.js';
import { DEMO_API_KEYS } from '../../gateway/auth/demo-keys.js';
import type { RecordedRequest } from '../../sandboxes/kit/recorder.js';
import type { SyncDefinition } from '../../syncs/definition.js';
import { SyncService } from '../../syncs/service.js';
import { silentLogger } from '../helpers/context.js';

/** A sync service over a running test stack: its gateway as the source, its sandboxes as destinations. */
export function syncServiceFor(
  stack: Stack,
  definitions: readonly SyncDefinition[],
  stateFile: string,
): SyncService {
  return new SyncService({
    definitions,
    stateFile,
    gatewayUrl: stack.gatewayUrl,
    apiKey: DEMO_API_KEYS['personalization-service'],
    connect: (target) => target.platform.sandbox.connection(stack.origins[target.platform.name]),
    logger: silentLogger,
    timeoutMs: 10_000,
    maxRetries: 2,
  });
}

/** A fresh directory for state files; `remove` deletes it. */
export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The write requests a sandbox recorded (`GET /__sandbox/requests`), oldest first. */
export async function recorded(origin: string, endpoint?: string): Promise<RecordedRequest[]> {
  const query = endpoint ? `?endpoint=${encodeURIComponent(endpoint)}` : '';
  const response = await fetch(`${origin}/__sandbox/requests${query}`);
  if (!response.ok) throw new Error(`sandbox answered ${response.status}`);
  return ((await response.json()) as { requests: RecordedRequest[] }).requests;
}

export async function clearRecorded(origin: string): Promise<void> {
  const response = await fetch(`${origin}/__sandbox/requests`, { method: 'DELETE' });
  if (!response.ok) throw new Error(`sandbox answered ${response.status}`);
}
