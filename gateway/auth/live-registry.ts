import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../../lib/config/env.js';
import type { Logger } from '../../lib/logger.js';
import { assertNoDemoKeys } from './production-guard.js';
import { parseRegistryText, registryFormat } from './registry-file.js';
import { parseClientRegistry, type ClientRegistry } from './registry.js';

/** What made the gateway read the registry again. */
export type ReloadTrigger = 'file-change' | 'SIGHUP';

export interface LiveClientRegistryOptions {
  /** The registry read at start-up (a bad file stops the start; a bad edit later does not). */
  initial: ClientRegistry;
  path: string;
  /** `production` refuses a reloaded registry holding demo keys, as at start-up. */
  mode: string;
  logger: Logger;
  /** Quiet time after the last change event before reading: editors write a file in several steps. @default 200 */
  debounceMs?: number;
}

/**
 * The client registry as the file says now. `clients revoke-key` and `clients add-key` rewrite the
 * file (atomically, by rename); a running gateway reads it again when it changes, or on SIGHUP, so
 * a revoked key stops working within about `debounceMs` and a new key works as soon. A file that
 * does not parse or check (zod) is logged once, naming every problem, and the registry in use
 * stays: a typo in the file never locks every client out.
 */
export class LiveClientRegistry {
  private registry: ClientRegistry;
  /** The text last read, valid or not, so repeated change events for one edit do one reload. */
  private lastText: string | undefined;
  private readonly debounceMs: number;

  constructor(private readonly options: LiveClientRegistryOptions) {
    this.registry = options.initial;
    this.debounceMs = options.debounceMs ?? 200;
    try {
      this.lastText = readFileSync(options.path, 'utf8');
    } catch {
      // Read moments ago by the caller; the first change event reads it again.
    }
  }

  get current(): ClientRegistry {
    return this.registry;
  }

  /**
   * Reads the file and, if it is valid, uses it from the next request on. A change event whose
   * text is the one last read does nothing; SIGHUP always reads and logs.
   * @returns whether the registry in use was replaced
   */
  reload(trigger: ReloadTrigger): boolean {
    const { path, logger } = this.options;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
      // Between an editor's delete and its write the file is briefly gone: wait for the next event.
      if (trigger === 'file-change' && code === 'ENOENT') return false;
      this.refuse(trigger, [`CLIENTS_FILE (${path}): cannot read the file (${code})`]);
      return false;
    }
    if (trigger === 'file-change' && text === this.lastText) return false;
    this.lastText = text;
    const format = registryFormat(path);
    const parsed = format ? parseRegistryText(text, format) : undefined;
    if (!parsed?.ok) {
      this.refuse(trigger, [`CLIENTS_FILE (${path}): ${parsed?.problem ?? 'unknown format'}`]);
      return false;
    }
    let next: ClientRegistry;
    try {
      next = parseClientRegistry(parsed.data, path);
      assertNoDemoKeys(next, this.options.mode);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.refuse(trigger, error.problems);
      return false;
    }
    this.registry = next;
    logger.info(
      { clientsFile: path, clients: next.clients.length, trigger },
      'client registry reloaded; keys added, expired or revoked in the file apply from now on',
    );
    return true;
  }

  /**
   * Watches the file's directory (the CLI replaces the file by rename, which a watch on the file
   * itself would lose) and listens for SIGHUP, for file systems whose changes raise no events.
   * @returns stops both; the gateway's `stop` calls it so nothing keeps the process alive
   */
  watch(): () => void {
    let timer: NodeJS.Timeout | undefined;
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.reload('file-change'), this.debounceMs);
    };
    let watcher: FSWatcher | undefined;
    try {
      // Any change in the directory, not only to the file's name: a Kubernetes ConfigMap is updated
      // by swapping a `..data` symlink the file points through, and some platforms name no file.
      // Reading a small file again is cheap, and unchanged text does nothing.
      watcher = watch(dirname(this.options.path), { persistent: false }, schedule);
      watcher.on('error', (error) =>
        this.options.logger.warn(
          { err: error, clientsFile: this.options.path },
          'stopped watching the client registry; send SIGHUP to reload it',
        ),
      );
    } catch (error) {
      this.options.logger.warn(
        { err: error, clientsFile: this.options.path },
        'cannot watch the client registry; send SIGHUP to reload it after each change',
      );
    }
    const onSignal = () => this.reload('SIGHUP');
    process.on('SIGHUP', onSignal);
    return () => {
      clearTimeout(timer);
      watcher?.close();
      process.off('SIGHUP', onSignal);
    };
  }

  private refuse(trigger: ReloadTrigger, problems: readonly string[]): void {
    this.options.logger.error(
      { clientsFile: this.options.path, trigger, problems },
      `client registry not reloaded, the previous one stays in use: ${problems.join('; ')}`,
    );
  }
}
