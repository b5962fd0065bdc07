import { cacheSettingsFromEnv, openCacheStore } from '../../lib/cache/config.js';
import type { Logger } from '../../lib/logger.js';
import { listen } from '../../lib/server/listen.js';
import { gatewayConfigFromEnv } from '../../gateway/config.js';
import { buildGateway } from '../../gateway/server.js';
import { onShutdown } from '../shutdown.js';

/** `gateway`: the gateway alone, in front of subgraphs running elsewhere. */
export async function gatewayCommand(logger: Logger): Promise<undefined> {
  const config = gatewayConfigFromEnv();
  const cacheStore = openCacheStore(cacheSettingsFromEnv(), logger);
  const gateway = await buildGateway({ ...config, cacheStore }, logger);
  const listening = await listen(gateway.server, config.port, config.host);
  logger.info({ url: `${listening.origin}/graphql`, subgraphs: config.subgraphUrls }, 'gateway listening');
  onShutdown(logger, async () => {
    await listening.close();
    await gateway.stop();
    await cacheStore.close();
  });
  return undefined;
}
