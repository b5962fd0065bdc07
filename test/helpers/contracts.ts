import type { AnyPlatformContract } from '../../platforms/kit/contract.js';
import { testRequest } from './context.js';

export interface ContractResult {
  call: string;
  /** What was wrong: the error's code and message, or the paths that did not match the shape. */
  problems: string[];
  /** How many items a list answer had (for the report), or null. */
  items: number | null;
}

/** Runs every call of a contract over one connection and checks each answer against its shape. */
export async function runContract(
  contract: AnyPlatformContract,
  connection: unknown,
): Promise<ContractResult[]> {
  const client = contract.client(connection);
  const results: ContractResult[] = [];
  try {
    for (const call of contract.calls) {
      try {
        const answer = await call.run(client, testRequest());
        const parsed = call.shape.safeParse(answer);
        const items = Array.isArray(answer)
          ? answer.length
          : answer && typeof answer === 'object'
            ? (Object.values(answer).find(Array.isArray)?.length ?? null)
            : null;
        results.push({
          call: call.name,
          items,
          problems: parsed.success
            ? []
            : parsed.error.issues.map((issue) => `${issue.path.join('.') || '(answer)'}: ${issue.message}`),
        });
      } catch (error) {
        const code = (error as { code?: string }).code ?? (error as Error).name;
        results.push({ call: call.name, items: null, problems: [`${code}: ${(error as Error).message}`] });
      }
    }
  } finally {
    await client.close();
  }
  return results;
}
