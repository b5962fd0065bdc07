import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED_PATHS } from '../../lib/logger.js';

/** Every line a logger writes, parsed, without what differs between two loggers (time, pid...). */
function capture(): { destination: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n').filter(Boolean)) {
        const {
          time: _time,
          pid: _pid,
          hostname: _hostname,
          name: _name,
          ...line
        } = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
      }
      done();
    },
  });
  return { destination, lines };
}

/**
 * The logger applies REDACTED_PATHS itself (lib/logger.ts, redactLine), no longer through pino's
 * `redact` option: every line must come out as pino's redaction wrote it.
 */
describe('the logger redaction', () => {
  const corpus: Record<string, unknown>[] = [
    { requestId: 'r1', transport: 'http', client: 'c', operationName: null, status: 200, ms: 1.5 },
    { authorization: 'Bearer abc', token: 't', accessToken: 'a', apiKey: 'k', secret: 's', password: 'p' },
    {
      req: {
        authorization: 'x',
        token: 't',
        other: 1,
        headers: { authorization: 'h', cookie: 'c', 'x-api-key': 'k', 'x-gateway-token': 'g', accept: 'a' },
      },
    },
    { upstream: { apiKey: 'k', nested: { token: 'deep, not a redact path' } }, list: [{ token: 't' }], n: 3 },
    { token: undefined, secret: null, password: 0, headers: { accept: 'a' } },
    { err: { message: 'm', password: 'p' }, body: { secret: undefined } },
  ];

  it('should censor exactly what pino did with REDACTED_PATHS, on lines and on child bindings', () => {
    const ours = capture();
    const reference = capture();
    const logger = createLogger({ name: 'x', level: 'info', destination: ours.destination });
    const pinoRedacting = pino(
      { name: 'x', level: 'info', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
      reference.destination,
    );
    for (const object of corpus) {
      logger.info(object, 'line');
      pinoRedacting.info(object, 'line');
      logger.child(object).info('child');
      pinoRedacting.child(object).info('child');
    }
    logger
      .child({ component: 'a' })
      .child({ token: 't', req: { apiKey: 'k' } })
      .info('grandchild');
    pinoRedacting
      .child({ component: 'a' })
      .child({ token: 't', req: { apiKey: 'k' } })
      .info('grandchild');
    expect(ours.lines).toHaveLength(corpus.length * 2 + 1);
    expect(ours.lines).toEqual(reference.lines);
    // And the caller's objects are left as they were.
    expect(corpus[1]?.['password']).toBe('p');
    expect((corpus[2]?.['req'] as { headers: Record<string, string> }).headers['cookie']).toBe('c');
  });
});
