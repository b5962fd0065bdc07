import { resolve } from 'node:path';

/**
 * The embedded delivery store's claims, held in memory rather than written to the file.
 *
 * Why: the embedded store belongs to one process, and a claim only has to outlive that process's
 * attempt. Written claims bought nothing (the store released every one found at open, so after a
 * crash what was in flight is due again either way) and cost a write transaction per claiming
 * pass plus an UPDATE per message, whose index changes the WAL carried and the checkpoints copied:
 * in `bench:deliveries` with failing endpoints, 100,000 claim UPDATEs (1.1 s of the event loop) and
 * about 6,000 of the run's 18,000 commits. Now a claiming pass only reads.
 *
 * A claimed message keeps its row as it was (pending, due), so the due index still lists it: a
 * claim reads the endpoint's pending entries from the index (seq and due time, no row) and skips
 * the claimed ones, at most the lane's attempts in flight.
 *
 * Every store the process opens on one file shares one set (`claimsFor`): the management API's
 * connection then sees the dispatcher's claims, and leaves a message being attempted to its attempt
 * when asked to replay it, as it did when claims were written.
 */
export class ClaimedMessages {
  /** Claimed message id → its endpoint and row. */
  private readonly byId = new Map<string, { endpointId: string; seq: number }>();
  /** Endpoint → the rows of its claimed messages. */
  private readonly byEndpoint = new Map<string, Set<number>>();

  get size(): number {
    return this.byId.size;
  }

  has(messageId: string): boolean {
    return this.byId.has(messageId);
  }

  /** How many of the endpoint's messages are claimed: the entries a due read skips at most. */
  countOf(endpointId: string): number {
    return this.byEndpoint.get(endpointId)?.size ?? 0;
  }

  /** Whether the endpoint's message in row `seq` is claimed. */
  holdsRow(endpointId: string, seq: number): boolean {
    return this.byEndpoint.get(endpointId)?.has(seq) ?? false;
  }

  add(messageId: string, endpointId: string, seq: number): void {
    this.byId.set(messageId, { endpointId, seq });
    let rows = this.byEndpoint.get(endpointId);
    if (!rows) {
      rows = new Set();
      this.byEndpoint.set(endpointId, rows);
    }
    rows.add(seq);
  }

  /** Forgets the claim, if there is one. */
  delete(messageId: string): void {
    const claim = this.byId.get(messageId);
    if (!claim) return;
    this.byId.delete(messageId);
    const rows = this.byEndpoint.get(claim.endpointId);
    rows?.delete(claim.seq);
    if (rows?.size === 0) this.byEndpoint.delete(claim.endpointId);
  }

  /** Every claimed message's id. */
  ids(): string[] {
    return [...this.byId.keys()];
  }
}

const shared = new Map<string, { claims: ClaimedMessages; users: number }>();

/**
 * The claims of the stores this process opened on the file at `path` (or `:memory:`, whose
 * every opening is a database of its own); `release` when the store closes.
 */
export function claimsFor(path: string): { claims: ClaimedMessages; release(): void } {
  if (path === ':memory:') return { claims: new ClaimedMessages(), release: () => undefined };
  const file = resolve(path);
  const entry = shared.get(file) ?? { claims: new ClaimedMessages(), users: 0 };
  entry.users += 1;
  shared.set(file, entry);
  let released = false;
  return {
    claims: entry.claims,
    release() {
      if (released) return;
      released = true;
      entry.users -= 1;
      if (entry.users === 0 && shared.get(file) === entry) shared.delete(file);
    },
  };
}
