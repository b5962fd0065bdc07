import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { batchedDestination } from '../../lib/logger.js';

/**
 * The gateway's log lines go to pino's asynchronous destination through `batchedDestination`: one
 * string per turn of the event loop instead of one per line, because sonic-boom copies its pending
 * text again for every line appended while a write is in flight (issue 17, target 2).
 */

const root = join(import.meta.dirname, '..', '..');
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('batchedDestination', () => {
  it("should hand pino's destination one string per turn, every line in order", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'log-destination-')), 'out.log');
    const sonic = pino.destination({ dest: file, sync: false });
    await new Promise((resolve) => sonic.once('ready', resolve));
    const handed: string[] = [];
    const write = sonic.write.bind(sonic);
    sonic.write = (text: string) => {
      handed.push(text);
      return write(text);
    };
    const logger = pino({ base: null, timestamp: false }, batchedDestination(sonic));
    for (let i = 0; i < 50; i++) logger.info({ i }, 'burst');
    expect(handed).toEqual([]);
    await nextTurn();
    logger.info({ i: 50 }, 'later');
    await nextTurn();
    expect(handed).toHaveLength(2);
    // sonic-boom's flush does not wait for its writes (minLength 0): wait for the file instead.
    for (let tries = 0; readFileSync(file, 'utf8').split('\n').length < 52 && tries < 500; tries++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    const written = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(written.map((line) => (JSON.parse(line) as { i: number }).i)).toEqual(
      Array.from({ length: 51 }, (_, i) => i),
    );
    expect(handed.join('')).toBe(`${written.join('\n')}\n`);
  });

  it('should write the lines still waiting when the process exits at once', () => {
    const script = `
      import { createLogger } from './lib/logger.ts';
      const logger = createLogger({ name: 'exit-test', level: 'info' });
      logger.info('first');
      logger.info('last words');
      process.exit(3);
    `;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '' },
      timeout: 60_000,
    });
    expect(result.status).toBe(3);
    const lines = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(lines).toEqual(['first', 'last words']);
  });
});
