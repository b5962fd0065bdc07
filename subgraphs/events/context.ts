import type { EventLog } from '../../lib/events/log/types.js';
import type { SubgraphContext } from '../kit/context.js';

export interface EventsContext extends SubgraphContext {
  log: EventLog;
}
