import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { freePorts } from '../helpers/ports.js';
import { startTestStack } from '../helpers/stack.js';
import { postWebhook, shopifyOrder } from '../helpers/webhooks.js';

/**
 * The README's "Webhooks out" section as a user would follow it: its curl commands, its receiver
 * (the `standardwebhooks` library verifying each delivery) and its CLI lines, run as written
 * against a running stack, with only the addresses and the ids it says to fill in replaced.
 */

const readme = readFileSync('README.md', 'utf8');
const start = readme.indexOf("\n## Webhooks out: signed events to subscribers' endpoints\n");
const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
const blocks = (language: string) =>
  [...section.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

/** Concatenated JSON documents (curl -s prints each answer without a newline), one by one. */
function jsonDocuments(text: string): unknown[] {
  const documents: unknown[] = [];
  let depth = 0;
  let inString = false;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth === 0) from = i;
      depth++;
    } else if (c === '}' && --depth === 0) documents.push(JSON.parse(text.slice(from, i + 1)));
  }
  return documents;
}

function bash(
  script: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('README: Webhooks out (run as written)', () => {
  let stack: Stack;
  let receiver: ChildProcess | undefined;
  const received: string[] = [];
  let port = 0;
  beforeAll(async () => {
    stack = await startTestStack();
    [port] = (await freePorts(1)) as [number];
  });
  afterAll(async () => {
    receiver?.kill();
    await stack.close();
  });

  const asWritten = (text: string) =>
    text
      .replaceAll('http://127.0.0.1:4000', stack.origins.gateway)
      .replaceAll('http://127.0.0.1:3333', `http://127.0.0.1:${port}`);

  it('should register an endpoint, receive a verified enriched delivery, list its attempts, replay it and use the CLI', async () => {
    const [register, listAndReplay, cli] = blocks('sh');
    const [receiverCode] = blocks('js');
    expect([register, listAndReplay, cli, receiverCode].every(Boolean)).toBe(true);

    const registered = await bash(asWritten(register!));
    expect(registered.code).toBe(0);
    const [created] = jsonDocuments(registered.stdout) as {
      data: { createWebhookEndpoint: { secret: string; endpoint: { id: string } } };
    }[];
    const { secret, endpoint } = created!.data.createWebhookEndpoint;
    // The later blocks run in the shell the first one left: its exported key.
    const key = /export KEY=(\S+)/.exec(register!)![1]!;
    expect(secret).toMatch(/^whsec_/);

    // The receiver as written (its imports resolve from this repository's node_modules).
    receiver = spawn(
      process.execPath,
      ['--input-type=module', '-e', receiverCode!.replace('listen(3333', `listen(${port}`)],
      { env: { PATH: process.env['PATH'] ?? '', WEBHOOK_SECRET: secret }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    receiver.stdout?.on('data', (chunk: Buffer) => received.push(...chunk.toString().trim().split('\n')));
    await expect
      .poll(
        async () =>
          (await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' }).catch(() => undefined))
            ?.status,
      )
      .toBe(400); // up, and refusing what is not signed

    const customer = stack.world.customers.find((c) => c.shop)!;
    await postWebhook(
      stack.origins.gateway,
      shopifyOrder({ email: customer.person.email, totalPrice: '88.00' }),
    );
    await expect.poll(() => received.length, { timeout: 10_000 }).toBeGreaterThan(0);
    const [messageId, type, enriched] = received[0]!.split(' ');
    expect(messageId).toMatch(/^msg_/);
    expect(type).toBe('ORDER_PLACED');
    expect(JSON.parse(enriched!)).toMatchObject({ customer: { email: customer.person.email.toLowerCase() } });

    await expect
      .poll(async () => {
        const run = await bash(asWritten(listAndReplay!).replace('msg_...', messageId!), { KEY: key });
        return { code: run.code, documents: jsonDocuments(run.stdout) };
      })
      .toMatchObject({
        code: 0,
        documents: [
          {
            data: {
              webhookEndpoints: [
                {
                  id: endpoint.id,
                  messages: {
                    nodes: [
                      {
                        id: messageId,
                        status: 'SUCCEEDED',
                        attempts: { nodes: [{ statusCode: 204, error: null }] },
                      },
                    ],
                  },
                },
              ],
            },
          },
          { data: { replayWebhookMessage: { id: messageId, status: 'PENDING' } } },
        ],
      });
    await expect.poll(() => received.length).toBeGreaterThan(1);
    expect(received.filter((line) => line.startsWith(`${messageId} ORDER_PLACED`)).length).toBeGreaterThan(1);

    const commands = await bash(
      asWritten(cli!).replace('ep_...', endpoint.id).replace('msg_...', messageId!),
      {
        KEY: key,
      },
    );
    expect(commands.stderr).toContain('The previous secrets keep signing until');
    expect(commands.code).toBe(0);
    expect(commands.stdout).toContain(`${endpoint.id}  enabled  http://127.0.0.1:${port}/hooks`);
    expect(commands.stdout).toMatch(/^whsec_/m);
    expect(commands.stdout).toContain(`${messageId} pending`);
  });
});
