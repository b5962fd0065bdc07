import { loadEnv } from '../../lib/config/env.js';
import { createLogger, type Logger } from '../../lib/logger.js';
import { catalog } from '../../platforms/catalog.js';
import { formatList, formatProgress, formatSummary } from '../../syncs/report.js';
import { SyncService, syncsStateFile } from '../../syncs/service.js';
import { SYNC_ENV, SYNC_USAGE } from '../command-env.js';
import { syncConnections } from '../sync-connections.js';
import { syncsFileOrConfigError } from '../gateway-syncs.js';
import { generateGatewayKeys } from '../../lib/auth/gateway-token.js';
import { UsageError } from '../usage.js';

/**
 * `sync list` and `sync run`: the syncs of SYNCS_FILE, their state in DATA_DIR/syncs.db. The
 * sources are read through the gateway at SYNC_GATEWAY_URL with SYNC_API_KEY; each destination is
 * its platform's own connection when its variables are set, else (outside production) the
 * embedded demo's sandbox (cli/sync-connections.ts).
 */
export async function syncCommand(args: readonly string[], logLevel: string): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'list' && sub !== 'run') throw new UsageError(SYNC_USAGE);
  const env = loadEnv(catalog, SYNC_ENV, process.env);
  const definitions = syncsFileOrConfigError(env.SYNCS_FILE, env.SYNC_MIN_INTERVAL_MS);
  // The role readers want the subgraphs' public keys, which a sync never checks: a throwaway set.
  const { publicJwks } = await generateGatewayKeys();
  const { apiKey, connect } = await syncConnections({
    source: process.env,
    production: env.NODE_ENV === 'production',
    apiKey: env.SYNC_API_KEY,
    requiredWith: 'NODE_ENV=production',
    extra: { GATEWAY_TOKEN_JWKS: JSON.stringify(publicJwks) },
  });
  const logger: Logger = createLogger({ name: 'sync', level: logLevel as 'info' });
  const service = new SyncService({
    definitions,
    stateFile: syncsStateFile(env.DATA_DIR),
    gatewayUrl: env.SYNC_GATEWAY_URL,
    apiKey,
    connect,
    logger,
  });
  try {
    if (sub === 'list') {
      process.stdout.write(formatList(service.list()));
      return 0;
    }
    const name = rest.find((arg) => !arg.startsWith('--'));
    const unknown = rest.filter((arg) => arg.startsWith('--') && arg !== '--dry-run' && arg !== '--full');
    if (!name || unknown.length > 0)
      throw new UsageError(
        unknown.length > 0 ? `unknown option ${unknown.join(', ')}\n${SYNC_USAGE}` : SYNC_USAGE,
      );
    if (!service.definitions.some((d) => d.name === name))
      throw new UsageError(
        `no sync is named "${name}"; the syncs are ${service.definitions.map((d) => d.name).join(', ')}`,
      );
    const tty = process.stderr.isTTY;
    const summary = await service.run(name, {
      trigger: 'cli',
      dryRun: rest.includes('--dry-run'),
      full: rest.includes('--full'),
      onProgress: (progress) =>
        process.stderr.write(`${tty ? '\r\x1b[2K' : ''}${formatProgress(progress)}${tty ? '' : '\n'}`),
    });
    if (tty) process.stderr.write('\n');
    process.stdout.write(formatSummary(summary));
    return summary.status === 'FAILED' || summary.status === 'CANCELLED' ? 1 : 0;
  } finally {
    service.close();
  }
}
