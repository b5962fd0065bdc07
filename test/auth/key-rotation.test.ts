import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  startGatewayProcess,
  typenameStatus,
  type GatewayProcess,
  type LogLine,
} from '../helpers/gateway-process.js';
import { writeTestRegistry } from '../helpers/registry.js';

/**
 * Key rotation on a running gateway: the real `clients` CLI edits the registry file a real gateway
 * process serves from, and the gateway follows without a restart.
 */

/** `cli/main.ts clients ...` against `clientsFile`, as an operator runs it. */
function clientsCli(
  clientsFile: string,
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'clients', ...args], {
    env: { ...process.env, CLIENTS_FILE: clientsFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

const keyIdOf = (key: string) => key.split('_')[1] ?? '';
const reloaded = (line: LogLine) => String(line.msg).startsWith('client registry reloaded');
const refused = (line: LogLine) => String(line.msg).startsWith('client registry not reloaded');

let registry: ReturnType<typeof writeTestRegistry>;
let gateway: GatewayProcess;

describe('key rotation on a running gateway', () => {
  // One gateway process for the file (starting one takes seconds on a shared machine); each test
  // rotates its own client's keys.
  beforeAll(async () => {
    registry = writeTestRegistry([
      { id: 'etl', scopes: ['crm:read'] },
      { id: 'dashboard', scopes: ['ads:read'] },
    ]);
    gateway = await startGatewayProcess({
      clientsFile: registry.clientsFile,
      readyKey: registry.keys['etl']?.[0] ?? '',
    });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it('should accept a key from `clients add-key` and refuse one from `clients revoke-key` without a restart', async () => {
    const [oldKey = ''] = registry.keys['etl'] ?? [];

    const added = await clientsCli(registry.clientsFile, 'add-key', '--id', 'etl', '--label', 'rotation');
    expect(added.code, added.stderr).toBe(0);
    const newKey = added.stdout.trim();
    expect(
      await eventually(
        () => typenameStatus(gateway.origin, newKey),
        (s) => s === 200,
      ),
    ).toBe(200);

    const revoked = await clientsCli(
      registry.clientsFile,
      'revoke-key',
      '--id',
      'etl',
      '--key',
      keyIdOf(oldKey),
    );
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(
      await eventually(
        () => typenameStatus(gateway.origin, oldKey),
        (s) => s === 401,
      ),
    ).toBe(401);
    expect(await typenameStatus(gateway.origin, newKey)).toBe(200);
    // The same process throughout: no restart did it.
    expect(gateway.child.exitCode).toBeNull();
  });

  it('should keep the registry in use when the file is edited into an invalid one, and log one error naming the problem', async () => {
    const [key = ''] = registry.keys['dashboard'] ?? [];
    const valid = readFileSync(registry.clientsFile, 'utf8');

    const reloads = gateway.logs().filter(reloaded).length;

    // A scope that does not exist: what the registry's zod schema must catch. Written in place
    // (not renamed), as an editor would.
    writeFileSync(registry.clientsFile, valid.replace('"ads:read"', '"ads:write"'));
    const error = await gateway.waitForLog(refused);
    expect(error['level']).toBe(50);
    expect(String(error.msg)).toContain('clients[1] (id "dashboard").scopes[0]: unknown scope "ads:write"');
    expect(await typenameStatus(gateway.origin, key)).toBe(200);

    // The valid file again; once it is in use, exactly one error was logged for the bad edit.
    writeFileSync(registry.clientsFile, valid);
    await gateway.waitForLog((line) => reloaded(line) && gateway.logs().filter(reloaded).length > reloads);
    expect(gateway.logs().filter(refused)).toHaveLength(1);
    expect(await typenameStatus(gateway.origin, key)).toBe(200);
  });

  it('should read the registry again on SIGHUP and keep serving', async () => {
    const [key = ''] = registry.keys['dashboard'] ?? [];
    gateway.child.kill('SIGHUP');
    const line = await gateway.waitForLog((l) => reloaded(l) && l['trigger'] === 'SIGHUP');
    expect(line).toMatchObject({ clients: 2, clientsFile: registry.clientsFile });
    expect(await typenameStatus(gateway.origin, key)).toBe(200);
    expect(gateway.child.exitCode).toBeNull();
  });
});

describe('stopping the gateway', () => {
  it('should stop watching the registry and leave nothing that keeps the process alive', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/stop-probe.ts'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // The probe never calls process.exit: it ends only when nothing is left to keep it alive.
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ before: 0, running: 1, after: 0 });
  });
});
