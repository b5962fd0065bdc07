import { startCliProcess, type CliProcess } from './cli-process.js';

export type SubgraphProcess = CliProcess;

/**
 * `cli/main.ts subgraph <name>` as its own OS process on a free port (`<NAME>_PORT`), with only
 * `env` besides PATH, resolved once its `/health` answers 200.
 */
export function startSubgraphProcess(name: string, env: Record<string, string>): Promise<SubgraphProcess> {
  return startCliProcess(['subgraph', name], `${name.toUpperCase()}_PORT`, '/health', env);
}
