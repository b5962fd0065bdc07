import { createLogger, type Logger } from '../../lib/logger.js';
import { createRequestContext, type RequestContext } from '../../lib/request-context.js';

export const silentLogger: Logger = createLogger({ name: 'test', level: 'silent' });

/** A request context for calling a connector directly, with a generous deadline. */
export function testRequest(budgetMs = 20_000): RequestContext {
  return createRequestContext(silentLogger, `test-${Math.random().toString(36).slice(2, 10)}`, budgetMs);
}
