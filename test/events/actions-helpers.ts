import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteActionOutbox } from '../../events/actions/outbox-sqlite.js';
import type { ActionOutbox, ActionRecord } from '../../events/actions/outbox.js';
import { ActionRunner, type ActionRunnerOptions } from '../../events/actions/runner.js';
import { loadRoutingRules, type RoutingRule } from '../../events/routing.js';
import type { StoredEvent } from '../../lib/events/event.js';
import type { ActionExecutor } from '../../platforms/kit/actions.js';
import { connectActionExecutors, sandboxConnections, type PlatformName } from '../../platforms/registry.js';
import { silentLogger } from '../helpers/context.js';
import { eventually } from '../helpers/gateway-process.js';

/** A scratch directory for rule files and outbox databases, removed by `cleanup`. */
export function scratch() {
  const dir = mkdtempSync(join(tmpdir(), 'mg-actions-'));
  let n = 0;
  return {
    dir,
    /** Routing rules from YAML text, through the same loader as ROUTING_RULES_FILE. */
    rules(text: string): RoutingRule[] {
      const path = join(dir, `rules-${n++}.yaml`);
      writeFileSync(path, text);
      return loadRoutingRules(path);
    },
    file: (name: string) => join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** An event as the processor hands it to the runner. */
export function storedEvent(overrides: Partial<StoredEvent> & Pick<StoredEvent, 'id' | 'type'>): StoredEvent {
  return {
    dedupeKey: `dedupe-${overrides.id}`,
    source: 'shopify',
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    receivedAt: new Date().toISOString(),
    customer: null,
    properties: {},
    personal: null,
    ...overrides,
  };
}

export interface RunningActions {
  outbox: ActionOutbox;
  runner: ActionRunner;
  executors: Partial<Record<PlatformName, ActionExecutor>>;
  /** Waits until no action is pending or under way; answers every action. */
  settled(): Promise<ActionRecord[]>;
  stop(): Promise<void>;
}

/**
 * A runner over an outbox file, with executors built from each platform's descriptor against the
 * sandboxes at `origins` (the demo credentials), started.
 */
export async function startActions(options: {
  file: string;
  rules: readonly RoutingRule[];
  origins: Partial<Record<PlatformName, string>>;
  /** Retries inside each client. @default 0: the outbox's own retries are what is tested */
  clientRetries?: number;
  runner?: Partial<ActionRunnerOptions>;
}): Promise<RunningActions> {
  const outbox = openSqliteActionOutbox({ file: options.file, synchronous: 'normal' });
  const executors = connectActionExecutors(sandboxConnections(options.origins), {
    timeoutMs: 5_000,
    maxRetries: options.clientRetries ?? 0,
    logger: silentLogger,
  });
  const runner = new ActionRunner({
    outbox,
    executors,
    rules: options.rules,
    logger: silentLogger,
    lingerMs: 50,
    retryBaseMs: 50,
    ...options.runner,
  });
  await runner.start();
  return {
    outbox,
    runner,
    executors,
    settled: async () => {
      const open = (all: ActionRecord[]) => all.some((a) => a.status === 'pending' || a.status === 'sending');
      const all = await eventually(
        () => outbox.list({ limit: 100_000 }),
        (all) => !open(all),
      );
      if (open(all)) throw new Error('actions still pending after the wait');
      return all;
    },
    stop: async () => {
      await runner.stop();
      for (const executor of Object.values(executors)) await executor.close();
      await outbox.close();
    },
  };
}
