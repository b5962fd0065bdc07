import type { MailchimpConnector } from '../../connectors/mailchimp/connector.js';
import type { SubgraphContext } from '../kit/context.js';
import type { EmailLoaders } from './loaders.js';

export interface EmailContext extends SubgraphContext {
  mailchimp: MailchimpConnector;
  loaders: EmailLoaders;
}
