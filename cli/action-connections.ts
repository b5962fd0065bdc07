import { ConfigError } from '../lib/config/env.js';
import { platformNamed, type PlatformName } from '../platforms/registry.js';
import { ROLE_DECLARATIONS } from '../subgraphs/registry.js';

/**
 * The platforms a `worker` runs the routing rules' actions on: each whose credential variable is
 * set (`MAILCHIMP_API_KEY`, ...), with its connection read as its role subgraph reads it (base URL,
 * credentials, limits). A platform left unset has no executor: the runner logs once that rules name
 * it (`ACTION_PLATFORM_NOT_CONNECTED`) and accepts none of its actions. `extra` fills variables the
 * role's reader requires but the worker has no use for (the public key set it derives itself).
 */
export async function actionConnectionsFromEnv(
  source: NodeJS.ProcessEnv,
  extra: NodeJS.ProcessEnv = {},
): Promise<Partial<Record<PlatformName, unknown>>> {
  const out: Partial<Record<PlatformName, unknown>> = {};
  const problems: string[] = [];
  for (const declaration of ROLE_DECLARATIONS) {
    const platform = platformNamed(declaration.platform);
    if (source[platform.credential.variable] === undefined) continue;
    // Only the roles of configured platforms are loaded.
    const role = await declaration.load();
    if (!role.actionConnectionFromEnv) continue;
    try {
      out[role.platform] = role.actionConnectionFromEnv({ ...extra, ...source });
    } catch (error) {
      if (error instanceof ConfigError) problems.push(...error.problems);
      else throw error;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}
