import type { MailchimpConnector } from '../../platforms/mailchimp/client/connector.js';
import type { SubgraphContext } from '../kit/context.js';
import type { EmailLoaders } from './loaders.js';

export interface EmailContext extends SubgraphContext {
  mailchimp: MailchimpConnector;
  loaders: EmailLoaders;
}
