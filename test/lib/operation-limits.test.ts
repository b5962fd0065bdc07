import { buildSchema, parse, specifiedRules, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { isLimitError, OPERATION_LIMITS, operationLimitRules } from '../../gateway/pipeline/limits.js';

/**
 * The marketing graph has no recursive type, so no valid operation on it can be deeper than six;
 * the depth limit is checked here on a schema that has one.
 */
describe('operation limits', () => {
  const schema = buildSchema('type Query { node: Node } type Node { child: Node name: String }');
  const validationRules = operationLimitRules();
  const nested = (depth: number) =>
    `{ ${'node { '.repeat(1)}${'child { '.repeat(depth - 2)}name${' }'.repeat(depth - 1)} }`;

  it(`should accept an operation ${OPERATION_LIMITS.maxDepth} levels deep and refuse one level more as a limit error`, () => {
    expect(
      validate(schema, parse(nested(OPERATION_LIMITS.maxDepth)), [...specifiedRules, ...validationRules]),
    ).toEqual([]);
    const errors = validate(schema, parse(nested(OPERATION_LIMITS.maxDepth + 1)), [
      ...specifiedRules,
      ...validationRules,
    ]);
    expect(errors.map((e) => e.message)).toEqual([
      `Syntax Error: Query depth limit of ${OPERATION_LIMITS.maxDepth} exceeded, found ${OPERATION_LIMITS.maxDepth + 1}.`,
    ]);
    expect(isLimitError(errors[0]!.message)).toBe(true);
  });

  it('should count the depth of fields as the response nests them, not fragment spreads', () => {
    // Two spreads on the way down: the fields are still exactly maxDepth deep.
    const spread = `
      query { node { ...A } }
      fragment A on Node { child { ...B } }
      fragment B on Node { ${'child { '.repeat(OPERATION_LIMITS.maxDepth - 3)}name${' }'.repeat(OPERATION_LIMITS.maxDepth - 3)} }
    `;
    expect(validate(schema, parse(spread), [...specifiedRules, ...validationRules])).toEqual([]);
    const deeper = spread.replace('name', 'child { name }');
    expect(
      validate(schema, parse(deeper), [...specifiedRules, ...validationRules]).map((e) => e.message),
    ).toEqual([
      `Syntax Error: Query depth limit of ${OPERATION_LIMITS.maxDepth} exceeded, found ${OPERATION_LIMITS.maxDepth + 1}.`,
    ]);
  });

  it('should not mistake an ordinary syntax error for a limit', () => {
    expect(isLimitError('Syntax Error: Expected Name, found "}".')).toBe(false);
  });
});
