import { eraseSyncDestination } from '../kit/sync.js';
import { metaSync } from './sync.js';
import { metaActions } from './actions.js';
import { definePlatform } from '../kit/descriptor.js';
import { defaultOf } from '../kit/docs.js';
import { META_DEFAULT_LIMITS } from './client/limits.js';
import { META_OAUTH_SCOPES } from './client/protocol.js';
import { metaConfig } from './config.js';
import { META_DEMO } from './demo.js';
import { META_API_VERSIONS } from './versions.js';

/** The ad account's access tier sets its insights budget; the sandbox models the default. */
export type MetaPlan = Record<string, never>;

/** What the `ads` subgraph's client needs to reach Meta (or its sandbox). */
export interface MetaConnection {
  baseUrl: string;
  accessToken: string;
  adAccountId: string;
}

/** The Graph API version the sandbox serves, in the real base URL's shape. */
const sandboxBaseUrl = (origin: string) => `${origin}/v25.0`;

/** Meta: ads, the system of record for what campaigns spent and earned. It sends no webhooks here. */
export const meta = definePlatform({
  name: 'meta',
  title: 'Meta',
  config: metaConfig,
  credential: {
    variable: 'META_ACCESS_TOKEN',
    header: 'authorization',
    scopes: META_OAUTH_SCOPES,
    leastPrivilege:
      'A system-user token with `ads_read` on the one ad account (`META_AD_ACCOUNT_ID`), never `ads_management`: the connector only reads insights.',
  },
  sync: eraseSyncDestination(metaSync),
  sandbox: {
    portVariable: 'META_SANDBOX_PORT',
    demoCredentials: META_DEMO.credentials,
    // Loaded on first use: a gateway or subgraph never builds a sandbox (issue 17, target 2).
    create: async (world, _plan?: MetaPlan) =>
      (await import('./sandbox/index.js')).createMetaSandbox({
        world,
        accessToken: META_DEMO.credentials.accessToken,
        adAccountId: META_DEMO.credentials.adAccountId,
      }),
    baseUrl: sandboxBaseUrl,
    connection: (origin, _plan?: MetaPlan): MetaConnection => ({
      baseUrl: sandboxBaseUrl(origin),
      accessToken: META_DEMO.credentials.accessToken,
      adAccountId: META_DEMO.credentials.adAccountId,
    }),
  },
  actions: metaActions,
  apiVersions: META_API_VERSIONS,
  contract: async () => (await import('./contract.js')).metaContract,
  docs: {
    role: 'ads',
    subgraph: 'ads',
    api: 'Meta Marketing API, Ads Insights (campaign level)',
    limits: [
      {
        published: metaConfig.META_INSIGHTS_CALLS_PER_HOUR.description,
        throttle: `Insights calls queue behind a rolling hour of \`META_INSIGHTS_CALLS_PER_HOUR\` (${defaultOf(metaConfig.META_INSIGHTS_CALLS_PER_HOUR)}; connector default ${META_DEFAULT_LIMITS.insightsPerHour}), corrected by the usage percentage in \`X-Business-Use-Case-Usage\`; \`estimated_time_to_regain_access\` holds every insights call until then; a throttling error without usage headers marks the hour spent.`,
        variables: ['META_INSIGHTS_CALLS_PER_HOUR'],
      },
    ],
  },
});
