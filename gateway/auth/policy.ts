import { Kind, parse, type ConstDirectiveNode, type DocumentNode } from 'graphql';

/**
 * Who may read what, as declared in the subgraph SDLs with `@requiresScopes` and `@authenticated`
 * and carried into the composed supergraph. A requirement is a list of alternatives, each a set of
 * scopes that must all be held: `[["crm:read", "pii:read"], ["admin"]]`. `@authenticated` is the
 * alternative with no scope (any identified caller). No requirement at all is `undefined`.
 */
export type Requirement = readonly (readonly string[])[];

export const AUTHENTICATED: Requirement = [[]];

/** Both requirements at once: every pairing of their alternatives. */
export function both(a: Requirement | undefined, b: Requirement | undefined): Requirement | undefined {
  if (!a) return b;
  if (!b) return a;
  const out: string[][] = [];
  const seen = new Set<string>();
  for (const x of a) {
    for (const y of b) {
      const merged = [...new Set([...x, ...y])].sort();
      const key = merged.join(' ');
      if (!seen.has(key)) {
        seen.add(key);
        out.push(merged);
      }
    }
  }
  return out;
}

export function satisfies(scopes: ReadonlySet<string>, requirement: Requirement | undefined): boolean {
  return !requirement || requirement.some((alternative) => alternative.every((scope) => scopes.has(scope)));
}

/** "crm:read and pii:read, or admin": for error messages. */
export function describe(requirement: Requirement): string {
  return requirement
    .map((alternative) => (alternative.length === 0 ? 'an identified caller' : alternative.join(' and ')))
    .join(', or ');
}

function fromDirectives(directives: readonly ConstDirectiveNode[] | undefined): Requirement | undefined {
  let requirement: Requirement | undefined;
  for (const directive of directives ?? []) {
    if (directive.name.value === 'authenticated') requirement = both(requirement, AUTHENTICATED);
    if (directive.name.value === 'requiresScopes') {
      const arg = directive.arguments?.find((a) => a.name.value === 'scopes')?.value;
      if (arg?.kind !== Kind.LIST) continue;
      const alternatives = arg.values.map((inner) =>
        inner.kind === Kind.LIST
          ? inner.values.flatMap((v) => (v.kind === Kind.STRING ? [v.value] : []))
          : [],
      );
      requirement = both(requirement, alternatives);
    }
  }
  return requirement;
}

export interface AccessPolicy {
  /** Requirement declared on a type (applies to its fields and to every field returning it). */
  type(name: string): Requirement | undefined;
  /** Requirement declared on one field, `Type.field`. */
  field(coordinate: string): Requirement | undefined;
  /** Every coordinate with a declaration of its own, for documentation and tests. */
  readonly declared: ReadonlyMap<string, Requirement>;
}

/** Reads the requirements from the composed supergraph SDL. */
export function accessPolicyFrom(supergraph: string | DocumentNode): AccessPolicy {
  const document = typeof supergraph === 'string' ? parse(supergraph) : supergraph;
  const types = new Map<string, Requirement>();
  const fields = new Map<string, Requirement>();
  for (const definition of document.definitions) {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.OBJECT_TYPE_EXTENSION &&
      definition.kind !== Kind.INTERFACE_TYPE_DEFINITION &&
      definition.kind !== Kind.SCALAR_TYPE_DEFINITION &&
      definition.kind !== Kind.ENUM_TYPE_DEFINITION
    ) {
      continue;
    }
    const typeRequirement = fromDirectives(definition.directives);
    if (typeRequirement)
      types.set(
        definition.name.value,
        both(types.get(definition.name.value), typeRequirement) ?? typeRequirement,
      );
    if (
      definition.kind === Kind.OBJECT_TYPE_DEFINITION ||
      definition.kind === Kind.OBJECT_TYPE_EXTENSION ||
      definition.kind === Kind.INTERFACE_TYPE_DEFINITION
    ) {
      for (const field of definition.fields ?? []) {
        const requirement = fromDirectives(field.directives);
        if (requirement) fields.set(`${definition.name.value}.${field.name.value}`, requirement);
      }
    }
  }
  const declared = new Map<string, Requirement>([...types, ...fields]);
  return {
    type: (name) => types.get(name),
    field: (coordinate) => fields.get(coordinate),
    declared,
  };
}
