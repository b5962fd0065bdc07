import type {
  FieldNode,
  FormattedExecutionResult,
  GraphQLFormattedError,
  OperationDefinitionNode,
} from 'graphql';
import type { StatusChange, StatusWatch } from '../../monitoring/status-watch.js';
import { insertNulls } from '../auth/authorize.js';
import { forbiddenError, type GateOutcome } from '../auth/operation-gate.js';
import type { ClientIdentity } from '../identity.js';
import { childQuery, flatten, type CustomerResult } from './payload.js';

/** The variable the integration read takes, a name the subscriber's own variables will not use. */
const NAME_VARIABLE = '__integrationName';

export interface StatusPayloadPlan {
  rootKey: string;
  fields: readonly FieldNode[];
  /** One query answering every `integration` selection for a connection's name, or none. */
  integrationQuery: { text: string; variables: Record<string, unknown> } | undefined;
}

/**
 * How to build each change's payload for one `integrationStatusChanged` operation (authorized,
 * fragments inlined): the change's own fields from the watch, the `integration` selections by one
 * query per change run as the subscriber (the same resolvers and permissions as `integration(name:)`).
 */
export function planStatusPayload(
  operation: OperationDefinitionNode,
  root: FieldNode,
  variables: Record<string, unknown>,
): StatusPayloadPlan {
  const fields = root.selectionSet ? flatten(root.selectionSet, variables) : [];
  const selections = fields
    .filter((f) => f.name.value === 'integration' && f.selectionSet)
    .map((field) => ({ key: field.alias?.value ?? field.name.value, field }));
  return {
    rootKey: root.alias?.value ?? root.name.value,
    fields,
    integrationQuery:
      selections.length > 0
        ? childQuery({
            name: 'IntegrationStatusChanged',
            field: 'integration',
            selections,
            arguments: [{ name: 'name', variable: NAME_VARIABLE, type: 'String!' }],
            operation,
            variables,
          })
        : undefined,
  };
}

function valueOf(change: StatusChange, name: string): unknown {
  switch (name) {
    case '__typename':
      return 'IntegrationStatusChange';
    case 'name':
    case 'previous':
    case 'status':
      return change[name];
    case 'at':
      return new Date(change.at).toISOString();
    default:
      return null;
  }
}

/** The stream of one admitted `integrationStatusChanged` subscription. */
export async function* statusChanges(options: {
  watch: StatusWatch;
  plan: StatusPayloadPlan;
  names: readonly string[] | undefined;
  identity: ClientIdentity;
  outcome: GateOutcome;
  run(identity: ClientIdentity, query: string, variables: Record<string, unknown>): Promise<CustomerResult>;
  signal: AbortSignal;
}): AsyncGenerator<FormattedExecutionResult> {
  const { plan } = options;
  const removals = options.outcome?.removals.map(forbiddenError) ?? [];
  for await (const change of options.watch.changes(options.names, options.signal)) {
    const read = plan.integrationQuery
      ? await options.run(options.identity, plan.integrationQuery.text, {
          ...plan.integrationQuery.variables,
          [NAME_VARIABLE]: change.name,
        })
      : undefined;
    const node: Record<string, unknown> = {};
    for (const field of plan.fields) {
      const key = field.alias?.value ?? field.name.value;
      node[key] =
        field.name.value === 'integration' ? (read?.data?.[key] ?? null) : valueOf(change, field.name.value);
    }
    const errors: GraphQLFormattedError[] = (read?.errors ?? []).map((error) => ({
      ...error,
      ...(error.path ? { path: [plan.rootKey, ...error.path] } : {}),
    }));
    const data = { [plan.rootKey]: node };
    if (options.outcome) insertNulls(data, options.outcome.nullPaths);
    const all = [...errors, ...removals];
    yield all.length > 0 ? { data, errors: all } : { data };
  }
}
