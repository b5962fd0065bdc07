import type { MetaConnector } from '../../platforms/meta/client/connector.js';
import type { SubgraphContext } from '../kit/context.js';
import type { AdsLoaders } from './loaders.js';

export interface AdsContext extends SubgraphContext {
  meta: MetaConnector;
  loaders: AdsLoaders;
}
