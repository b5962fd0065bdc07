import type { MetaConnector } from '../../connectors/meta/connector.js';
import type { SubgraphContext } from '../kit/context.js';
import type { AdsLoaders } from './loaders.js';

export interface AdsContext extends SubgraphContext {
  meta: MetaConnector;
  loaders: AdsLoaders;
}
