import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ErrorCode, publicErrorCodes } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { isLimitError, limitMessage, withoutSuggestions } from './pipeline/limits.js';

/**
 * The gateway's last word on every error: a public code always, the subgraph's name when one is
 * involved, nothing internal (URLs, response bodies, stacks). Unknown errors are logged and masked.
 */
export function formatGatewayError(logger: Logger, development: boolean) {
  return (raw: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    // Variable coercion ("Did you mean the enum value...") happens after the pipeline's validation.
    const formatted = development ? raw : { ...raw, message: withoutSuggestions(raw.message) };
    const extensions = { ...formatted.extensions };
    const subgraph = (extensions['subgraph'] ?? extensions['serviceName']) as string | undefined;
    delete extensions['serviceName'];
    delete extensions['response'];
    delete extensions['stacktrace'];
    delete extensions['exception'];
    if (isLimitError(formatted.message)) {
      return {
        ...formatted,
        message: limitMessage(formatted.message),
        extensions: { code: ErrorCode.OPERATION_LIMIT_EXCEEDED },
      };
    }
    const code = extensions['code'];
    const base = {
      ...(formatted.path ? { path: formatted.path } : {}),
      ...(formatted.locations ? { locations: formatted.locations } : {}),
    };
    if (typeof code === 'string' && publicErrorCodes.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      const message =
        code === ErrorCode.DOWNSTREAM_SERVICE_ERROR && subgraph
          ? `The ${subgraph} subgraph could not answer this part of the request.`
          : formatted.message;
      return {
        ...formatted,
        ...base,
        message,
        extensions: { ...extensions, ...(subgraph ? { subgraph } : {}) },
      };
    }
    const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    if (subgraph) {
      logger.warn({ err: original, subgraph, path: formatted.path }, 'subgraph call failed');
      return {
        ...base,
        message: `The ${subgraph} subgraph could not answer this part of the request.`,
        extensions: { code: ErrorCode.DOWNSTREAM_SERVICE_ERROR, subgraph },
      };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected gateway error');
    return {
      ...base,
      message: 'Internal server error',
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
