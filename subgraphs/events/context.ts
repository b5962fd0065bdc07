import type { EventLog } from '../../lib/events/log/types.js';
import type { SyncService } from '../../syncs/service.js';
import type { SubgraphContext } from '../kit/context.js';

export interface EventsContext extends SubgraphContext {
  log: EventLog;
  /** The batch syncs this process runs; absent where none run (a gateway without SYNCS). */
  syncs?: SyncService;
}
