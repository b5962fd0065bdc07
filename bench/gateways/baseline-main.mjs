// The baseline: plain @apollo/gateway behind @apollo/server's standalone server, configured as The
// Guild's benchmark configures it (gateways/apollo-gateway/index.ts there), in one process (the
// reference forks `availableParallelism() - 1` workers, none on the one CPU each gateway gets here).
//
// Plain JavaScript on purpose: it runs on Node alone, as our gateway does (its prebuilt CLI,
// scripts/run-built.mjs) and as Hive Gateway does, so no contender's memory or CPU includes a
// TypeScript loader's (tsx's hooks thread held ~20-40 MB more at the peak).
import { readFileSync } from 'node:fs';
import process from 'node:process';

// Before @apollo/gateway loads: the baseline makes no call home either (its telemetry would also
// probe cloud metadata), as lib/config/apollo-telemetry.ts does for our gateway.
process.env['APOLLO_TELEMETRY_DISABLED'] = 'true';
const { ApolloGateway } = await import('@apollo/gateway');
const { ApolloServer } = await import('@apollo/server');
const { startStandaloneServer } = await import('@apollo/server/standalone');

const supergraphSdl = readFileSync(process.env['SUPERGRAPH_FILE'] ?? 'supergraph.graphql', 'utf8');
const server = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl }) });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env['PORT'] ?? 4000), host: '127.0.0.1' },
});
process.stdout.write(`baseline listening at ${url}\n`);
