import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { ErrorCode } from '../errors.js';
import { isCalendarDate } from '../dates.js';
import { isDecimal } from '../money.js';

/**
 * The graph's custom scalars, shared by every subgraph so a `Date` means the same thing everywhere.
 * Input is checked strictly (a client sending `2026-02-30` gets BAD_USER_INPUT, not an empty result).
 */

function invalid(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT } });
}

function stringLiteral(ast: ValueNode, scalar: string): string {
  if (ast.kind !== Kind.STRING) throw invalid(`${scalar} must be given as a string`);
  return ast.value;
}

function parseDate(value: unknown): string {
  if (typeof value !== 'string' || !isCalendarDate(value)) {
    throw invalid(`Date must be a calendar day written as YYYY-MM-DD, got ${JSON.stringify(value)}`);
  }
  return value;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
function parseDateTime(value: unknown): string {
  if (typeof value !== 'string' || !ISO_UTC.test(value) || Number.isNaN(Date.parse(value))) {
    throw invalid(
      `DateTime must be ISO-8601 in UTC such as 2026-03-01T14:30:00.000Z, got ${JSON.stringify(value)}`,
    );
  }
  return new Date(value).toISOString();
}

function parseDecimalInput(value: unknown): string {
  if (typeof value !== 'string' || !isDecimal(value)) {
    throw invalid(
      `Decimal must be a decimal number written as a string such as "199.00", got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export const DateScalar = new GraphQLScalarType<string, string>({
  name: 'Date',
  description: 'A calendar day, `YYYY-MM-DD`, in UTC.',
  serialize: (value) => parseDate(value),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(stringLiteral(ast, 'Date')),
});

export const DateTimeScalar = new GraphQLScalarType<string, string>({
  name: 'DateTime',
  description: 'An instant, ISO-8601 in UTC with milliseconds: `2026-03-01T14:30:00.000Z`.',
  serialize: (value) => parseDateTime(value),
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(stringLiteral(ast, 'DateTime')),
});

export const DecimalScalar = new GraphQLScalarType<string, string>({
  name: 'Decimal',
  description: 'An exact decimal number as a string (`"199.00"`), never a float.',
  serialize: (value) => parseDecimalInput(value),
  parseValue: parseDecimalInput,
  parseLiteral: (ast) => parseDecimalInput(stringLiteral(ast, 'Decimal')),
});

/** Any JSON value, passed through as is (event details). Input is refused: nothing takes JSON. */
export const JsonScalar = new GraphQLScalarType<unknown, unknown>({
  name: 'JSON',
  description: 'Any JSON value: an object of event details.',
  serialize: (value) => value,
  parseValue: () => {
    throw invalid('JSON is an output type only');
  },
  parseLiteral: () => {
    throw invalid('JSON is an output type only');
  },
});
