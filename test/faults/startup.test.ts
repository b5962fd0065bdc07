import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts } from '../helpers/ports.js';
import { gatewayEnv, ownedByGateway, runCli } from './cli.js';

/** A stack trace line, which a refused start-up never prints. */
const STACK = /^\s+at /m;

describe('start-up refused, with the variable at fault named (the real command line)', () => {
  const base = mkdtempSync(join(tmpdir(), 'faults-startup-'));
  // Readable by the unprivileged user the "not writable" cases run the gateway as.
  chmodSync(base, 0o755);
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('should exit 2 naming REDIS_URL and the cause, without a stack or the password, when Redis does not answer', async () => {
    const [port] = await freePorts(1);
    const result = await runCli(
      ['gateway'],
      await gatewayEnv({ EVENT_LOG: 'redis', REDIS_URL: `redis://:hunter2-redis-pass@127.0.0.1:${port}` }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Cannot start:');
    expect(result.stderr).toContain(
      `REDIS_URL: the event log (EVENT_LOG=redis) cannot connect to Redis: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    expect(result.stderr).not.toMatch(STACK);
    expect(result.stderr + result.stdout).not.toContain('hunter2-redis-pass');
  });

  it('should exit 2 naming DATA_DIR when it is a file, not a directory', async () => {
    const file = join(base, 'a-file');
    writeFileSync(file, 'not a directory');
    const result = await runCli(['gateway'], await gatewayEnv({ DATA_DIR: file }));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Invalid configuration:\n  - DATA_DIR: ${file} is not a directory`);
    expect(result.stderr).not.toMatch(STACK);
  });

  it('should exit 2 naming DATA_DIR when it cannot be created because a parent is a file', async () => {
    const file = join(base, 'parent-file');
    writeFileSync(file, 'not a directory');
    const result = await runCli(['gateway'], await gatewayEnv({ DATA_DIR: join(file, 'events') }));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `DATA_DIR: cannot create ${join(file, 'events')}: ${file} is a file, not a directory`,
    );
    expect(result.stderr).not.toMatch(STACK);
  });

  it('should exit 2 naming DATA_DIR when the gateway may not write it', async () => {
    const dir = join(base, 'read-only');
    mkdirSync(dir);
    ownedByGateway(dir);
    chmodSync(dir, 0o555);
    const result = await runCli(['gateway'], await gatewayEnv({ DATA_DIR: dir }), { unprivileged: true });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `DATA_DIR: ${dir} is not writable by this process: permission denied (EACCES)`,
    );
    expect(result.stderr).not.toMatch(STACK);
  });

  it('should exit 2 naming DATA_DIR when the gateway may not create it', async () => {
    const parent = join(base, 'read-only-parent');
    mkdirSync(parent);
    ownedByGateway(parent);
    chmodSync(parent, 0o555);
    const dir = join(parent, 'events');
    const result = await runCli(['gateway'], await gatewayEnv({ DATA_DIR: dir }), { unprivileged: true });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `DATA_DIR: cannot create ${dir}: no permission to create directories in ${parent} (EACCES)`,
    );
    expect(result.stderr).not.toMatch(STACK);
  });

  it('should exit 2 naming DATA_DIR when its events.db is not an event log', async () => {
    const dir = join(base, 'not-a-database');
    mkdirSync(dir);
    writeFileSync(join(dir, 'events.db'), 'a text file that is not SQLite, long enough to have a header.');
    const result = await runCli(['gateway'], await gatewayEnv({ DATA_DIR: dir }));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `DATA_DIR: ${join(dir, 'events.db')} cannot be used as the event log: file is not a database (SQLITE_NOTADB)`,
    );
    expect(result.stderr).not.toMatch(STACK);
  });
});
