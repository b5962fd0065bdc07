import type { DeliveryService } from '../../deliveries/service.js';
import type { EventLog } from '../../lib/events/log/types.js';
import type { SyncDirectory } from '../../syncs/directory.js';
import type { SubgraphContext } from '../kit/context.js';
import type { SelectionCheck } from './webhook-selection.js';

export interface EventsContext extends SubgraphContext {
  log: EventLog;
  /** Webhook endpoints' management; undefined where webhooks out are off. */
  deliveries: DeliveryService | undefined;
  /** Checks an endpoint's selection against the graph and the caller's scopes before it is saved. */
  checkSelection: SelectionCheck | undefined;
  /** The batch syncs this process runs; absent where none run (a gateway without SYNCS). */
  syncs?: SyncDirectory;
}
