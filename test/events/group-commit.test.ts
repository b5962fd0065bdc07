import { describe, expect, it } from 'vitest';
import { AsyncGroupCommit } from '../../lib/events/log/async-group-commit.js';
import { GroupCommit } from '../../lib/events/log/group-commit.js';

describe('group commit', () => {
  it('should write everything submitted in one turn with one call, answering each caller', async () => {
    const groups: number[][] = [];
    const commit = new GroupCommit<number, number>(
      (inputs) => {
        groups.push(inputs);
        return inputs.map((n) => n * 10);
      },
      (n) => n * 10,
    );
    const first = await Promise.all([1, 2, 3].map((n) => commit.submit(n)));
    const second = await commit.submit(4);
    expect(first).toEqual([10, 20, 30]);
    expect(second).toBe(40);
    expect(groups).toEqual([[1, 2, 3], [4]]);
  });

  it('should retry a failed group one by one, so only the bad input fails its caller', async () => {
    const failures: number[] = [];
    const commit = new GroupCommit<number, number>(
      () => {
        throw new Error('constraint failed');
      },
      (n) => {
        if (n === 2) throw new Error(`cannot store ${n}`);
        return n;
      },
      (_error, size) => failures.push(size),
    );
    const results = await Promise.allSettled([1, 2, 3].map((n) => commit.submit(n)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      1,
      'cannot store 2',
      3,
    ]);
    expect(failures).toEqual([3]);
  });

  it('should write what is queued at once when drained', async () => {
    const groups: number[][] = [];
    const commit = new GroupCommit<number, number>(
      (inputs) => {
        groups.push(inputs);
        return inputs;
      },
      (n) => n,
    );
    const pending = commit.submit(7);
    commit.drain();
    expect(groups).toEqual([[7]]);
    expect(await pending).toBe(7);
  });

  it('should send what is submitted in one turn as one async write, in groups of at most the limit', async () => {
    const groups: number[][] = [];
    const commit = new AsyncGroupCommit<number, number>(
      async (inputs) => {
        groups.push(inputs);
        return inputs.map((n) => n * 10);
      },
      async (n) => {
        groups.push([n]);
        return n * 10;
      },
      2,
    );
    expect(await Promise.all([1, 2, 3].map((n) => commit.submit(n)))).toEqual([10, 20, 30]);
    expect(await commit.submit(4)).toBe(40);
    expect(groups).toEqual([[1, 2], [3], [4]]);
  });

  it('should retry a rejected async group one by one, so only the bad input fails its caller', async () => {
    const commit = new AsyncGroupCommit<number, number>(
      async () => {
        throw new Error('script failed');
      },
      async (n) => {
        if (n === 2) throw new Error(`cannot store ${n}`);
        return n;
      },
    );
    const results = await Promise.allSettled([1, 2, 3].map((n) => commit.submit(n)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      1,
      'cannot store 2',
      3,
    ]);
  });
});
