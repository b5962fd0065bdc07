import { createClient } from '@keyv/redis';

/**
 * Deletes every key of a prefix (`{<prefix>}:*`, the hash-tagged form the event log and the
 * delivery store write), in batches. For tests and benchmarks that ran on a prefix of their own:
 * a bench:webhooks run left about 85,000 keys (the count its drop printed), the dedupe keys among
 * them for a week (their TTL), and 836,000 of them once made every keyspace SCAN on that Redis slow.
 */
export async function dropPrefix(url: string, prefix: string): Promise<number> {
  const client = createClient({ url });
  await client.connect();
  try {
    let dropped = 0;
    for await (const keys of client.scanIterator({ MATCH: `{${prefix}}:*`, COUNT: 1_000 })) {
      if (keys.length === 0) continue;
      dropped += await client.unlink(keys);
    }
    return dropped;
  } finally {
    await client.close();
  }
}
