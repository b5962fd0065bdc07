import { listen } from '../../lib/server/listen.js';
import { buildBenchSubgraphs } from './subgraphs.js';

/**
 * The benchmark subgraphs as their own process (pinned apart from the gateway under test). Prints
 * one JSON line with its origin once listening; stops on SIGTERM or SIGINT.
 */
const listening = await listen(
  buildBenchSubgraphs({ memo: process.env['BENCH_SUBGRAPH_MEMO'] !== '0' }),
  Number(process.env['PORT'] ?? 0),
  '127.0.0.1',
);
process.stdout.write(`${JSON.stringify({ origin: listening.origin })}\n`);
const stop = () => {
  listening.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
