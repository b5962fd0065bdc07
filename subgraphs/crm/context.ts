import type { HubSpotConnector } from '../../platforms/hubspot/client/connector.js';
import type { SubgraphContext } from '../kit/context.js';
import type { CrmLoaders } from './loaders.js';

export interface CrmContext extends SubgraphContext {
  hubspot: HubSpotConnector;
  loaders: CrmLoaders;
}
