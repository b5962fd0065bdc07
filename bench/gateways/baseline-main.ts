// First: the baseline makes no call home either (its telemetry would also probe cloud metadata).
import '../../lib/config/apollo-telemetry.js';
import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

/**
 * The baseline: plain @apollo/gateway behind @apollo/server's standalone server, configured as The
 * Guild's benchmark configures it (gateways/apollo-gateway/index.ts there), in one process (the
 * reference forks `availableParallelism() - 1` workers, none on the one CPU each gateway gets here).
 */
const supergraphSdl = readFileSync(process.env['SUPERGRAPH_FILE'] ?? 'supergraph.graphql', 'utf8');
const server = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl }) });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env['PORT'] ?? 4000), host: '127.0.0.1' },
});
process.stdout.write(`baseline listening at ${url}\n`);
