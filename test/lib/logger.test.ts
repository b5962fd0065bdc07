import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, isCredentialHeader } from '../../lib/logger.js';
import { PLATFORMS } from '../../platforms/registry.js';

/** Every line a logger writes, parsed. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ name: 'test', level: 'info', destination }) };
}

describe('credential headers in log lines', () => {
  it("should censor each platform's credential header, by the rule that names none of them", () => {
    const headers = PLATFORMS.map((platform) => platform.credential.header);
    expect(headers.filter((header) => !isCredentialHeader(header))).toEqual([]);
    const { lines, logger } = capture();
    const request = {
      headers: Object.fromEntries([...headers.map((header) => [header, 'secret-value']), ['accept', 'json']]),
    };
    logger.info({ req: request }, 'upstream call');
    logger.info({ headers: request.headers }, 'upstream call');
    const written = JSON.stringify(lines);
    expect(written).not.toContain('secret-value');
    expect(
      lines.map((line) => (line['req'] as { headers?: unknown } | undefined)?.headers ?? line['headers']),
    ).toEqual([
      { ...Object.fromEntries(headers.map((header) => [header, '[redacted]'])), accept: 'json' },
      { ...Object.fromEntries(headers.map((header) => [header, '[redacted]'])), accept: 'json' },
    ]);
    // The caller's own headers are left as they were.
    expect(request.headers['accept']).toBe('json');
    expect(Object.values(request.headers).filter((value) => value === 'secret-value')).toHaveLength(
      new Set(headers).size,
    );
  });

  it('should take any access-token, api-key or secret header for a credential, and leave the others', () => {
    expect(
      ['x-example-access-token', 'X-Example-Api-Key', 'x-client-secret', 'cookie', 'x-api-key'].map(
        isCredentialHeader,
      ),
    ).toEqual([true, true, true, true, true]);
    expect(
      ['accept', 'x-request-id', 'x-hub-signature-count', 'content-type'].map(isCredentialHeader),
    ).toEqual([false, false, false, false]);
  });
});
