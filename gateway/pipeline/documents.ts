import {
  GraphQLError,
  Kind,
  parse,
  specifiedRules,
  TypeInfo,
  validate,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationRule,
  type ValueNode,
} from 'graphql';
import { BoundedMap } from '../../lib/cache/bounded-map.js';
import { ErrorCode } from '../../lib/errors.js';
import { PAGE_SIZES, pageSizeMessage } from '../../lib/graphql/page-sizes.js';
import { isLimitError, limitMessage, OPERATION_LIMITS, withoutSuggestions } from './limits.js';

/** A page-size argument in a document, as written: a literal or a variable. */
interface PageArgument {
  operation: OperationDefinitionNode;
  argument: string;
  max: number;
  value: ValueNode;
}

/** A document that parsed and validated, with what every request using it needs, computed once. */
export interface CheckedDocument {
  ok: true;
  document: DocumentNode;
  operations: readonly OperationDefinitionNode[];
  pageArguments: readonly PageArgument[];
}

export type DocumentCheck = CheckedDocument | { ok: false; status: number; errors: GraphQLFormattedError[] };

const error = (message: string, code: string): GraphQLFormattedError => ({ message, extensions: { code } });

/** graphql-js words it "more that N tokens" (sic); match either spelling. */
const TOO_MANY_TOKENS = /more th[ae][nt] \d+ tokens/;

/**
 * Parses and validates operation documents against the served schema, once per distinct text: the
 * standard rules, then the operation limits. The result (the document, or the errors a client gets
 * for it) is kept per text, so a client repeating an operation pays a map look-up. Cleared when the
 * schema changes.
 */
export class DocumentChecker {
  private readonly checked = new BoundedMap<string, DocumentCheck>(2_000);
  private schema: GraphQLSchema | undefined;
  private readonly limitRules: readonly ValidationRule[];

  constructor(
    limitRules: readonly ValidationRule[],
    /** Suggestions ("did you mean") stay in messages only in development. */
    private readonly development: boolean,
  ) {
    this.limitRules = limitRules;
  }

  useSchema(schema: GraphQLSchema): void {
    this.schema = schema;
    this.checked.clear();
  }

  get loaded(): GraphQLSchema | undefined {
    return this.schema;
  }

  check(query: string): DocumentCheck {
    let result = this.checked.get(query);
    if (!result) {
      result = this.checkUncached(query);
      this.checked.set(query, result);
    }
    return result;
  }

  private message(text: string): string {
    return this.development ? text : withoutSuggestions(text);
  }

  private checkUncached(query: string): DocumentCheck {
    const schema = this.schema;
    if (!schema)
      return {
        ok: false,
        status: 503,
        errors: [
          error('The gateway has not loaded its schema yet; retry shortly.', ErrorCode.INTERNAL_SERVER_ERROR),
        ],
      };
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: OPERATION_LIMITS.maxTokens });
    } catch (caught) {
      const message = (caught as Error).message;
      return TOO_MANY_TOKENS.test(message)
        ? {
            ok: false,
            status: 400,
            errors: [
              error(
                `Token limit of ${OPERATION_LIMITS.maxTokens} exceeded.`,
                ErrorCode.OPERATION_LIMIT_EXCEEDED,
              ),
            ],
          }
        : { ok: false, status: 400, errors: [error(message, ErrorCode.GRAPHQL_PARSE_FAILED)] };
    }
    const invalid = validate(schema, document, specifiedRules);
    if (invalid.length > 0)
      return {
        ok: false,
        status: 400,
        errors: invalid.map((e) => ({
          ...error(this.message(e.message), ErrorCode.GRAPHQL_VALIDATION_FAILED),
          ...(e.locations ? { locations: e.locations } : {}),
        })),
      };
    const pageArguments = pageArgumentsOf(schema, document);
    // A page size out of range is reported as such (the next step, cost, would see 501 and say
    // "cost"), with the sentence the subgraph gives for the same value sent as a variable.
    const literalProblems = pageArguments.flatMap((p) =>
      p.value.kind === Kind.VARIABLE ? [] : pageSizeProblem(p, literalInt(p.value)),
    );
    if (literalProblems.length > 0) return { ok: false, status: 400, errors: literalProblems };
    let limited: readonly GraphQLError[];
    try {
      limited = validate(schema, document, this.limitRules);
    } catch (caught) {
      // Armor's rules throw their first violation instead of reporting it.
      if (!(caught instanceof GraphQLError)) throw caught;
      limited = [caught];
    }
    if (limited.length > 0)
      return {
        ok: false,
        status: 400,
        errors: limited.map((e) =>
          isLimitError(e.message)
            ? error(limitMessage(e.message), ErrorCode.OPERATION_LIMIT_EXCEEDED)
            : error(this.message(e.message), ErrorCode.GRAPHQL_VALIDATION_FAILED),
        ),
      };
    const operations = document.definitions.filter(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    return { ok: true, document, operations, pageArguments };
  }
}

function literalInt(value: ValueNode): unknown {
  return value.kind === Kind.INT ? Number(value.value) : undefined;
}

function pageSizeProblem(argument: PageArgument, value: unknown): GraphQLFormattedError[] {
  // Null or absent (a default applies) is the schema's business, not a range.
  if (value === undefined || value === null) return [];
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= argument.max) return [];
  return [
    {
      message: pageSizeMessage(argument.argument, argument.max, value),
      extensions: { code: ErrorCode.BAD_USER_INPUT, argumentName: argument.argument },
    },
  ];
}

/** Page sizes given as variables, checked against the table once the variables are known. */
export function pageSizeProblems(
  checked: CheckedDocument,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): GraphQLFormattedError[] {
  return checked.pageArguments.flatMap((p) =>
    p.operation === operation && p.value.kind === Kind.VARIABLE
      ? pageSizeProblem(p, variables[p.value.name.value])
      : [],
  );
}

/** Every argument of the page-size table in a document, with the operation it belongs to. */
function pageArgumentsOf(schema: GraphQLSchema, document: DocumentNode): PageArgument[] {
  const found: PageArgument[] = [];
  const typeInfo = new TypeInfo(schema);
  // Fragments are visited where defined; attribute their arguments to every operation.
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  let current: OperationDefinitionNode[] = operations;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      OperationDefinition(node) {
        current = [node];
      },
      FragmentDefinition() {
        current = operations;
      },
      Argument(node) {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        if (!parent || !field) return;
        const max = PAGE_SIZES[`${parent.name}.${field.name}(${node.name.value}:)`];
        if (max === undefined) return;
        for (const operation of current)
          found.push({ operation, argument: node.name.value, max, value: node.value });
      },
    }),
  );
  return found;
}
