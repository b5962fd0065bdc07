import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { as } from '../helpers/clients.js';
import { startTestStack } from '../helpers/stack.js';

/**
 * The answer's bytes on `/graphql`: Apollo's text plus the final newline Apollo Server writes,
 * which the gateway's HTTP transport now adds while encoding (gateway/transports/http.ts), for
 * answers under and over its large-body threshold (16,384 characters), encoded afresh or reused.
 */
describe('the HTTP body of an answer', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack({ customers: 200 });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const post = async (first: number) => {
    const response = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...as('admin') },
      body: JSON.stringify({
        query: `{ customers(first: ${first}) { edges { cursor node { id email primaryEmail: email contactEmail: email } } } }`,
      }),
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    return { status: response.status, length: response.headers.get('content-length'), bytes };
  };

  it.each([
    ['a small answer', 2, (size: number) => size < 16_384],
    ['a large answer', 150, (size: number) => size > 16_384],
  ])(
    'should send %s as JSON ending with one newline, its length the bytes sent',
    async (_name, first, sized) => {
      const answers = [await post(first), await post(first)];
      for (const { status, length, bytes } of answers) {
        expect(status, bytes.toString().slice(0, 300)).toBe(200);
        expect(sized(bytes.length), `${bytes.length} bytes: ${bytes.toString().slice(0, 300)}`).toBe(true);
        expect(Number(length)).toBe(bytes.length);
        const text = bytes.toString('utf8');
        expect(text.endsWith('}\n')).toBe(true);
        expect(text.endsWith('}\n\n')).toBe(false);
        const body = JSON.parse(text) as { data: { customers: { edges: unknown[] } } };
        expect(body.data.customers.edges).toHaveLength(first);
      }
      // The second, answered with the same text, reuses the first one's bytes: still identical.
      expect(answers[1]?.bytes.equals(answers[0]?.bytes ?? Buffer.alloc(0))).toBe(true);
    },
  );

  it('should answer each body as sent when bodies of one length alternate (a repeated body is parsed once)', async () => {
    // `first: 2` and `first: 3`: bodies of the same length that differ in one byte.
    for (const first of [2, 2, 3, 3, 2, 3]) {
      const { status, bytes } = await post(first);
      expect(status).toBe(200);
      const body = JSON.parse(bytes.toString('utf8')) as { data: { customers: { edges: unknown[] } } };
      expect(body.data.customers.edges).toHaveLength(first);
    }
  });
});
