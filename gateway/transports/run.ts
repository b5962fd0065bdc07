import type { FormattedExecutionResult, GraphQLFormattedError } from 'graphql';
import { subscriptionMetrics, type SubscriptionService } from '../subscriptions/service.js';
import type { OperationPipeline } from '../pipeline/pipeline.js';
import type { AdmittedOperation } from '../pipeline/types.js';

/**
 * Runs an operation the pipeline admitted, for the streaming transports: a query or mutation
 * through the pipeline's executor, a subscription as its event stream. Either way the operation
 * is logged once and its subscription slot given back when it ends.
 */
export async function runAdmitted(
  operation: AdmittedOperation,
  pipeline: OperationPipeline,
  subscriptions: SubscriptionService,
  signal: AbortSignal,
): Promise<AsyncGenerator<FormattedExecutionResult> | FormattedExecutionResult> {
  if (operation.kind !== 'subscription') return pipeline.execute(operation);
  const opened = subscriptions.open(operation, signal);
  if (!(Symbol.asyncIterator in opened)) {
    operation.release();
    pipeline.finish(operation, { status: 400, errors: opened.errors });
    return opened;
  }
  subscriptionMetrics.started.inc({ transport: operation.transport });
  // Also on abort: a stream closed before its first pull never reaches `counted`'s finally.
  signal.addEventListener('abort', () => operation.release(), { once: true });
  return counted(operation, opened, pipeline);
}

/** The stream with its end accounted for however it ends: slot released, one log line. */
async function* counted(
  operation: AdmittedOperation,
  stream: AsyncGenerator<FormattedExecutionResult>,
  pipeline: OperationPipeline,
): AsyncGenerator<FormattedExecutionResult> {
  let events = 0;
  const errors: GraphQLFormattedError[] = [];
  try {
    for await (const result of stream) {
      events += 1;
      if (result.errors && !result.data) errors.push(...result.errors);
      yield result;
    }
  } finally {
    operation.release();
    pipeline.finish(operation, { status: 200, errors, events });
  }
}
