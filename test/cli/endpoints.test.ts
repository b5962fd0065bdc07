import { spawn } from 'node:child_process';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointsCommand } from '../../cli/commands/endpoints.js';
import type { Stack } from '../../cli/stack.js';
import { DEMO_API_KEYS } from '../../gateway/auth/demo-keys.js';
import { startTestStack } from '../helpers/stack.js';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { postWebhook, shopifyOrder } from '../helpers/webhooks.js';

/** `cli/main.ts endpoints ...` as its own process, to its end. */
function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'endpoints', ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

function capture() {
  const lines: string[] = [];
  return { write: (text: string) => lines.push(text), text: () => lines.join('') };
}

describe('endpoints command (against the real stack over HTTP)', () => {
  let stack: Stack;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    stack = await startTestStack();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await stack.close();
  });

  const run = async (args: string[], apiKey: string | null = DEMO_API_KEYS.admin) => {
    const stdout = capture();
    const stderr = capture();
    const code = await endpointsCommand(args, {
      gatewayUrl: stack.gatewayUrl,
      apiKey: apiKey ?? undefined,
      stdout,
      stderr,
    });
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  };

  it('should create, list, rotate, replay, disable, enable and delete an endpoint, printing each secret once', async () => {
    const created = await run([
      'create',
      '--url',
      receiver.url,
      '--event-types',
      'order_placed',
      '--description',
      'cli test',
    ]);
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^whsec_/);
    const id = /^(ep_\w+)/.exec(created.stderr)?.[1] ?? '';
    expect(id).toMatch(/^ep_/);

    const customer = stack.world.customers.find((c) => c.shop)!;
    await postWebhook(
      stack.origins.gateway,
      shopifyOrder({ email: customer.person.email, totalPrice: '5.00' }),
    );
    await receiver.waitFor(1);
    expect(() =>
      new Webhook(secret).verify(
        receiver.received[0]?.body ?? '',
        receiver.received[0]?.headers as Record<string, string>,
      ),
    ).not.toThrow();

    const messageId = String(receiver.received[0]?.headers['webhook-id']);
    await expect.poll(async () => (await run(['list'])).stdout).toContain(`${messageId}  200`);
    const listed = await run(['list', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ id, url: receiver.url, eventTypes: ['ORDER_PLACED'] }),
    ]);

    const replayed = await run(['replay', '--message', messageId]);
    expect(replayed.stdout).toContain(`${messageId} pending`);
    await receiver.waitFor(2);

    const rotated = await run(['rotate', '--id', id, '--overlap-seconds', '0']);
    expect(rotated.stdout.trim()).toMatch(/^whsec_/);
    expect(rotated.stdout.trim()).not.toBe(secret);

    expect((await run(['disable', '--id', id])).stdout).toContain(`${id}  disabled (manual)`);
    expect((await run(['enable', '--id', id])).stdout).toContain(`${id}  enabled`);
    expect((await run(['recover', '--id', id, '--since', '2020-01-01T00:00:00Z'])).stdout).toBe(
      '0 message(s) put back to be sent\n',
    );
    expect((await run(['delete', '--id', id])).stdout).toBe(`deleted ${id}\n`);
    expect((await run(['list'])).stderr).toBe('No webhook endpoints.\n');
  });

  it('should say what the gateway refused, with its code and reason', async () => {
    await expect(run(['create', '--url', 'http://169.254.169.254/'])).rejects.toThrow(
      /^Refused, BAD_USER_INPUT \(url-blocked\): /,
    );
    await expect(run(['list'], DEMO_API_KEYS['reporting-dashboard'])).rejects.toThrow(
      /^Refused, FORBIDDEN: /,
    );
    await expect(run(['disable'])).rejects.toThrow('--id is required');
    await expect(run(['list'], null)).rejects.toThrow(/MARKETING_GRAPH_API_KEY is not set/);
  });

  it('should exit 1 with one line and no stack when the gateway refuses or cannot be reached', async () => {
    const refused = await cli(['create', '--url', 'http://10.0.0.1/hook'], {
      GATEWAY_URL: stack.origins.gateway,
      MARKETING_GRAPH_API_KEY: DEMO_API_KEYS.admin,
    });
    expect(refused).toEqual({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(/^Refused, BAD_USER_INPUT \(url-blocked\): [^\n]+\n$/),
    });
    const unreachable = await cli(['list'], {
      GATEWAY_URL: 'http://127.0.0.1:9',
      MARKETING_GRAPH_API_KEY: DEMO_API_KEYS.admin,
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(
      /^Cannot reach the gateway at http:\/\/127\.0\.0\.1:9\/graphql \(GATEWAY_URL\): [^\n]+\n$/,
    );
  });
});
