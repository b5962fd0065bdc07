import { createServer } from 'node:net';
import { PLATFORMS } from '../../platforms/registry.js';
import { ROLE_DECLARATIONS } from '../../subgraphs/registry.js';

/** Ports that were free a moment ago, for child processes that must be told their ports. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/**
 * Free ports for every part `start` opens, as the variables it reads (the gateway's `PORT`, each
 * role subgraph's, each platform sandbox's), read from the registries so a new platform needs
 * nothing here.
 */
export async function startPorts(): Promise<{ gateway: number; env: Record<string, string> }> {
  const variables = [
    'PORT',
    ...ROLE_DECLARATIONS.map((role) => `${role.name.toUpperCase()}_PORT`),
    ...PLATFORMS.map((platform) => platform.sandbox.portVariable),
  ];
  const ports = await freePorts(variables.length);
  const env = Object.fromEntries(variables.map((name, i) => [name, String(ports[i])]));
  return { gateway: ports[0]!, env };
}
