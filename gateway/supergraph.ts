import { Kind, parse, print, visit, type DirectiveNode } from 'graphql';

/** Specs whose enforcement is ours: the gateway's authorizer reads them, @apollo/gateway cannot. */
const ENFORCED_BY_US = [
  'https://specs.apollo.dev/requiresScopes/',
  'https://specs.apollo.dev/authenticated/',
];

function isEnforcedByUs(directive: DirectiveNode): boolean {
  if (directive.name.value !== 'link') return false;
  const url = directive.arguments?.find((a) => a.name.value === 'url')?.value;
  return url?.kind === Kind.STRING && ENFORCED_BY_US.some((prefix) => url.value.startsWith(prefix));
}

/**
 * @apollo/gateway 2.14 refuses a supergraph whose `@link` for requiresScopes/authenticated says
 * `for: SECURITY` ("is for: SECURITY but is unsupported"): only Apollo's commercial Router enforces
 * them. This gateway enforces them itself, before planning, so it hands ApolloGateway a copy with
 * that purpose removed. The committed supergraph stays standard; the directives remain in the copy.
 */
export function gatewayLoadableSupergraph(supergraphSdl: string): string {
  const document = parse(supergraphSdl);
  const edited = visit(document, {
    Directive(node) {
      if (!isEnforcedByUs(node)) return undefined;
      return { ...node, arguments: node.arguments?.filter((a) => a.name.value !== 'for') ?? [] };
    },
  });
  return print(edited);
}
