import { BENCH_ANCHOR_DATE, bench, benchStack } from './harness.js';

/**
 * The stack `npm run bench:sync` syncs against, in a process of its own: the sandboxes (their
 * generated worlds of SANDBOX_CUSTOMERS customers, the Mailchimp audience the sync fills), the
 * subgraphs and the gateway. Kept apart so the benchmark measures the memory of the process that
 * runs the sync, as users run it (the CLI), not the platforms it talks to. Driven over IPC:
 * `change` edits 1% of the customers (answering their emails), `memory` answers this process's
 * memory, `close` stops the stack and exits.
 */

type Command = { id: number; type: 'change' | 'memory' | 'close' };

const customers = Number(process.env['SANDBOX_CUSTOMERS'] ?? 20_000);
const stack = await benchStack({
  world: { seed: 42, customers, anchorDate: BENCH_ANCHOR_DATE },
  responseCache: false,
});
const send = (message: unknown) => process.send?.(message);

process.on('message', (message: Command) => {
  void (async () => {
    if (message.type === 'change') {
      const changed = stack.world.customers.filter((_, i) => i % 100 === 0);
      for (const customer of changed) customer.person.firstName = `${customer.person.firstName}x`;
      send({ id: message.id, emails: changed.map((c) => c.person.email.toLowerCase()) });
    } else if (message.type === 'memory') {
      send({ id: message.id, memory: process.memoryUsage() });
    } else {
      await stack.close();
      send({ id: message.id });
      process.exit(0);
    }
  })();
});
// The parent died: nothing else will stop this stack.
process.on('disconnect', () => void stack.close().finally(() => process.exit(0)));

send({
  ready: {
    gatewayUrl: stack.gatewayUrl,
    origins: stack.origins,
    apiKey: (bench.headers['authorization'] ?? '').replace(/^Bearer /, ''),
  },
});
