import { generateGatewayKeys } from '../../lib/auth/gateway-token.js';
import { UsageError } from '../usage.js';

/**
 * `keys gateway-token`: prints a new Ed25519 key pair for the caller tokens the gateway signs. The
 * private JWK goes to the gateway only; the public set to every subgraph. To rotate, give the
 * subgraphs a set with both public keys, switch the gateway, then drop the old key.
 */
export async function keysCommand(args: readonly string[]): Promise<number> {
  if (args[0] !== 'gateway-token') throw new UsageError('usage: keys gateway-token');
  const { privateJwk, publicJwks } = await generateGatewayKeys();
  process.stderr.write(
    'Gateway only (keep it secret, for example in a file named by GATEWAY_TOKEN_PRIVATE_JWK_FILE):\n',
  );
  process.stdout.write(`GATEWAY_TOKEN_PRIVATE_JWK='${JSON.stringify(privateJwk)}'\n`);
  process.stderr.write('Every subgraph (public):\n');
  process.stdout.write(`GATEWAY_TOKEN_JWKS='${JSON.stringify(publicJwks)}'\n`);
  return 0;
}
