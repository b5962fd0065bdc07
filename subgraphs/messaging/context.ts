import type { TwilioConnector } from '../../platforms/twilio/client/connector.js';
import type { SubgraphContext } from '../kit/context.js';
import type { MessagingLoaders } from './loaders.js';

export interface MessagingContext extends SubgraphContext {
  twilio: TwilioConnector;
  loaders: MessagingLoaders;
}
