import { connectSharedRedis, type RedisClient } from '../lib/redis/shared-client.js';
import { z } from 'zod';
import type { SyncRecord } from '../platforms/kit/sync.js';
import type { BatchOutcome, StagingOp, SyncState } from './state-port.js';
import {
  ZERO_COUNTS,
  type Change,
  type PendingRow,
  type RowStatus,
  type RunCounts,
  type RunRecord,
  type RunRow,
  type RunStatus,
} from './state.js';

/**
 * The syncs' state in Redis, for worker processes that share the syncs (`WORKER_SYNCS=on`): what
 * SQLite keeps in tables, under `{prefix}:…` keys (one hash slot):
 * - `fp:<sync>` / `rec:<sync>`: hashes, key → fingerprint / record last acknowledged;
 * - `run:<id>`: a hash per run (status, counts, checkpoint…); ids from `run-seq`; `runs:<sync>` and
 *   `runs` sorted sets by id; `unfinished`: sync → the id of its run under way;
 * - `pending:<run>`: seq → staged row, seqs 1..n in write order; `keys:<run>`: keys seen;
 *   `sample:<run>:<change>`: the first seqs of each change (a dry run's samples);
 * - `rows:<run>`: rows quarantined or refused, in order.
 * A page's staging and a batch's outcome with its checkpoint are each one MULTI: a worker killed
 * mid-call leaves all of it or none.
 */

export interface RedisSyncStateOptions {
  url: string;
  /** @default 'mg:syncs' */
  prefix?: string;
}

/** Seqs kept per change kind for a dry run's samples. */
const SAMPLES_KEPT = 50;
const PAGE = 1_000;

const pendingSchema = z.object({
  change: z.enum(['insert', 'update', 'remove']),
  key: z.string(),
  record: z.record(z.string(), z.unknown()),
  fingerprint: z.string(),
});
const runRowSchema = z.object({
  run: z.number(),
  key: z.string(),
  status: z.enum(['QUARANTINED', 'FAILED']),
  code: z.string(),
  reason: z.string(),
  record: z.record(z.string(), z.unknown()).optional(),
});
const countsSchema = z.record(z.string(), z.unknown());

/** The counts of a stored run (the engine may hand the whole run record as its counts). */
function countsOf(text: string | undefined): RunCounts {
  const stored = countsSchema.parse(JSON.parse(text ?? '{}'));
  const counts = { ...ZERO_COUNTS };
  for (const name of Object.keys(counts) as (keyof RunCounts)[]) {
    const value = stored[name];
    if (typeof value === 'number') counts[name] = value;
  }
  return counts;
}

function toRun(hash: Record<string, string>): RunRecord | undefined {
  if (hash['id'] === undefined) return undefined;
  return {
    ...countsOf(hash['counts']),
    id: Number(hash['id']),
    sync: hash['sync'] ?? '',
    status: (hash['status'] ?? 'FAILED') as RunStatus,
    trigger: hash['trigger'] ?? '',
    full: hash['full'] === '1',
    startedAt: Number(hash['startedAt']),
    finishedAt: hash['finishedAt'] ? Number(hash['finishedAt']) : undefined,
    staged: hash['staged'] === '1',
    checkpoint: Number(hash['checkpoint'] ?? 0),
    resumes: Number(hash['resumes'] ?? 0),
    error: hash['error'] || undefined,
  };
}

const parsePending = (seq: number, text: string): PendingRow => {
  const row = pendingSchema.parse(JSON.parse(text));
  return {
    seq,
    change: row.change,
    key: row.key,
    record: row.record as SyncRecord,
    fingerprint: row.fingerprint,
  };
};

const parseRunRow = (text: string): RunRow => {
  const row = runRowSchema.parse(JSON.parse(text));
  return { ...row, record: row.record as SyncRecord | undefined };
};

export class RedisSyncState implements SyncState {
  private constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
  ) {}

  /** Connects (refusing to start on a Redis it cannot reach, as the other shared stores do). */
  static async open(options: RedisSyncStateOptions): Promise<RedisSyncState> {
    const client = await connectSharedRedis({ url: options.url });
    return new RedisSyncState(client, `{${options.prefix ?? 'mg:syncs'}}`);
  }

  private key(...parts: (string | number)[]): string {
    return [this.prefix, ...parts].join(':');
  }

  // ── runs ─────────────────────────────────────────────────────────────────────────────────
  async createRun(sync: string, trigger: string, full: boolean, at: number): Promise<RunRecord> {
    const id = await this.client.incr(this.key('run-seq'));
    const fields: Record<string, string> = {
      id: String(id),
      sync,
      status: 'RUNNING',
      trigger,
      full: full ? '1' : '0',
      startedAt: String(at),
      staged: '0',
      checkpoint: '0',
      resumes: '0',
      counts: JSON.stringify(ZERO_COUNTS),
    };
    await this.client
      .multi()
      .hSet(this.key('run', id), fields)
      .zAdd(this.key('runs', sync), { score: id, value: String(id) })
      .zAdd(this.key('runs'), { score: id, value: String(id) })
      .hSet(this.key('unfinished'), sync, String(id))
      .exec();
    return toRun(fields) as RunRecord;
  }

  async run(id: number): Promise<RunRecord | undefined> {
    return toRun(await this.client.hGetAll(this.key('run', id)));
  }

  async unfinishedRun(sync: string): Promise<RunRecord | undefined> {
    const id = await this.client.hGet(this.key('unfinished'), sync);
    if (!id) return undefined;
    const run = await this.run(Number(id));
    return run?.status === 'RUNNING' ? run : undefined;
  }

  async runs(options: { sync?: string; limit: number }): Promise<RunRecord[]> {
    const ids = await this.client.zRange(
      options.sync ? this.key('runs', options.sync) : this.key('runs'),
      0,
      options.limit - 1,
      { REV: true },
    );
    const runs = await Promise.all(ids.map((id) => this.run(Number(id))));
    return runs.filter((run): run is RunRecord => run !== undefined);
  }

  async lastRun(sync: string): Promise<RunRecord | undefined> {
    return (await this.runs({ sync, limit: 1 }))[0];
  }

  async updateRun(
    id: number,
    changes: { counts?: RunCounts; staged?: boolean; checkpoint?: number; resumes?: number },
  ): Promise<void> {
    const fields = this.runFields(changes);
    if (Object.keys(fields).length > 0) await this.client.hSet(this.key('run', id), fields);
  }

  private runFields(changes: {
    counts?: RunCounts;
    staged?: boolean;
    checkpoint?: number;
    resumes?: number;
  }): Record<string, string> {
    const fields: Record<string, string> = {};
    if (changes.counts) fields['counts'] = JSON.stringify(changes.counts);
    if (changes.staged !== undefined) fields['staged'] = changes.staged ? '1' : '0';
    if (changes.checkpoint !== undefined) fields['checkpoint'] = String(changes.checkpoint);
    if (changes.resumes !== undefined) fields['resumes'] = String(changes.resumes);
    return fields;
  }

  async finishRun(
    id: number,
    status: RunStatus,
    counts: RunCounts,
    at: number,
    error?: string,
  ): Promise<void> {
    const run = await this.run(id);
    const multi = this.client
      .multi()
      .hSet(this.key('run', id), {
        status,
        counts: JSON.stringify(counts),
        finishedAt: String(at),
        error: error ?? '',
      })
      // What only the run itself needed; the history and its rows stay.
      .del(this.stagingKeys(id));
    if (run) multi.hDel(this.key('unfinished'), run.sync);
    await multi.exec();
  }

  async discardRun(id: number): Promise<void> {
    const run = await this.run(id);
    const multi = this.client
      .multi()
      .del([...this.stagingKeys(id), this.key('rows', id), this.key('run', id)])
      .zRem(this.key('runs'), String(id));
    if (run) multi.zRem(this.key('runs', run.sync), String(id)).hDel(this.key('unfinished'), run.sync);
    await multi.exec();
  }

  private stagingKeys(id: number): string[] {
    return [
      this.key('pending', id),
      this.key('keys', id),
      ...(['insert', 'update', 'remove'] as const).map((change) => this.key('sample', id, change)),
    ];
  }

  async clearStaging(id: number): Promise<void> {
    // Refused rows of earlier batches stay; quarantined ones are found again by the new staging.
    // Read a page at a time, holding only the refused rows: a half-staged run can have quarantined
    // a large share of a large source, and none of those need to be in memory.
    const kept: string[] = [];
    for (let start = 0; ; start += PAGE) {
      const page = await this.client.lRange(this.key('rows', id), start, start + PAGE - 1);
      for (const text of page) if (parseRunRow(text).status !== 'QUARANTINED') kept.push(text);
      if (page.length < PAGE) break;
    }
    const multi = this.client.multi().del([...this.stagingKeys(id), this.key('rows', id)]);
    if (kept.length > 0) multi.rPush(this.key('rows', id), kept);
    await multi.exec();
  }

  // ── staging ──────────────────────────────────────────────────────────────────────────────
  async lookup(
    sync: string,
    run: number,
    keys: readonly string[],
  ): Promise<{ seen: string[]; fingerprints: Map<string, string> }> {
    const fingerprints = new Map<string, string>();
    if (keys.length === 0) return { seen: [], fingerprints };
    const [members, prints] = await Promise.all([
      this.client.smIsMember(this.key('keys', run), [...keys]),
      this.client.hmGet(this.key('fp', sync), [...keys]),
    ]);
    const seen = keys.filter((_, i) => Number(members[i]) === 1);
    keys.forEach((key, i) => {
      const print = prints[i];
      if (typeof print === 'string') fingerprints.set(key, print);
    });
    return { seen, fingerprints };
  }

  async applyStaging(run: number, ops: readonly StagingOp[]): Promise<void> {
    if (ops.length === 0) return;
    const multi = this.client.multi();
    const seen: string[] = [];
    const pending: Record<string, string> = {};
    const samples: Record<Change, string[]> = { insert: [], update: [], remove: [] };
    const rows: string[] = [];
    for (const op of ops) {
      if (op.kind === 'see') seen.push(op.key);
      else if (op.kind === 'stage') {
        const { seq, ...row } = op.row;
        pending[String(seq)] = JSON.stringify(row);
        samples[row.change].push(String(seq));
      } else rows.push(JSON.stringify(op.row));
    }
    if (seen.length > 0) multi.sAdd(this.key('keys', run), seen);
    if (Object.keys(pending).length > 0) multi.hSet(this.key('pending', run), pending);
    for (const change of ['insert', 'update', 'remove'] as const) {
      const seqs = samples[change].slice(0, SAMPLES_KEPT);
      if (seqs.length === 0) continue;
      multi
        .rPush(this.key('sample', run, change), seqs)
        .lTrim(this.key('sample', run, change), 0, SAMPLES_KEPT - 1);
    }
    if (rows.length > 0) multi.rPush(this.key('rows', run), rows);
    await multi.exec();
  }

  async *departed(sync: string, run: number): AsyncGenerator<{ key: string; record: SyncRecord }> {
    let cursor = '0';
    do {
      const reply = await this.client.hScan(this.key('rec', sync), cursor, { COUNT: PAGE });
      cursor = String(reply.cursor);
      const entries = reply.entries;
      if (entries.length === 0) continue;
      const members = await this.client.smIsMember(
        this.key('keys', run),
        entries.map((entry) => entry.field),
      );
      for (const [i, entry] of entries.entries())
        if (Number(members[i]) !== 1)
          yield { key: entry.field, record: JSON.parse(entry.value) as SyncRecord };
    } while (cursor !== '0');
  }

  async pending(run: number, afterSeq: number, limit: number): Promise<PendingRow[]> {
    if (limit <= 0) return [];
    const seqs = Array.from({ length: limit }, (_, i) => String(afterSeq + 1 + i));
    const values = await this.client.hmGet(this.key('pending', run), seqs);
    const rows: PendingRow[] = [];
    for (const [i, value] of values.entries()) {
      if (typeof value !== 'string') break;
      rows.push(parsePending(afterSeq + 1 + i, value));
    }
    return rows;
  }

  async samples(run: number, change: Change, limit: number): Promise<PendingRow[]> {
    const seqs = await this.client.lRange(this.key('sample', run, change), 0, limit - 1);
    if (seqs.length === 0) return [];
    const values = await this.client.hmGet(this.key('pending', run), seqs);
    return values.flatMap((value, i) =>
      typeof value === 'string' ? [parsePending(Number(seqs[i]), value)] : [],
    );
  }

  async runRows(run: number, status: RowStatus | undefined, limit: number): Promise<RunRow[]> {
    const found: RunRow[] = [];
    for (let start = 0; found.length < limit; start += PAGE) {
      const page = await this.client.lRange(this.key('rows', run), start, start + PAGE - 1);
      for (const text of page) {
        const row = parseRunRow(text);
        if (status === undefined || row.status === status) found.push(row);
        if (found.length >= limit) break;
      }
      if (page.length < PAGE) break;
    }
    return found;
  }

  // ── a batch's outcome ────────────────────────────────────────────────────────────────────
  async commitBatch(sync: string, run: number, outcome: BatchOutcome, at: number): Promise<void> {
    void at; // Redis keeps no sent-at per record; the run's times say when.
    const multi = this.client.multi();
    if (outcome.saved.length > 0) {
      multi.hSet(this.key('fp', sync), Object.fromEntries(outcome.saved.map((s) => [s.key, s.fingerprint])));
      multi.hSet(
        this.key('rec', sync),
        Object.fromEntries(outcome.saved.map((s) => [s.key, JSON.stringify(s.record)])),
      );
    }
    if (outcome.removed.length > 0) {
      multi.hDel(this.key('fp', sync), outcome.removed);
      multi.hDel(this.key('rec', sync), outcome.removed);
    }
    // Kept but sent again next run (only keys already recorded: an update).
    if (outcome.unsent.length > 0)
      multi.hSet(this.key('fp', sync), Object.fromEntries(outcome.unsent.map((key) => [key, ''])));
    if (outcome.rows.length > 0)
      multi.rPush(
        this.key('rows', run),
        outcome.rows.map((row) => JSON.stringify(row)),
      );
    multi.hSet(
      this.key('run', run),
      this.runFields({ checkpoint: outcome.checkpoint, counts: outcome.counts }),
    );
    await multi.exec();
  }

  async countRecords(sync: string): Promise<number> {
    return this.client.hLen(this.key('rec', sync));
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
