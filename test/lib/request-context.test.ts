import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/logger.js';
import { createRequestContext } from '../../lib/request-context.js';

describe('createRequestContext', () => {
  it('should log through one child logger bound to the request id, made when first used', () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    const logger = createLogger({ name: 'gateway', level: 'info', destination });
    const context = createRequestContext(logger, 'req-1', 1_000, 5_000);
    expect(context.deadline).toBe(6_000);
    expect(context.logger).toBe(context.logger);
    context.logger.info('first');
    context.logger.warn('second');
    expect(lines.map((line) => [line['msg'], line['requestId'], line['name']])).toEqual([
      ['first', 'req-1', 'gateway'],
      ['second', 'req-1', 'gateway'],
    ]);
  });
});
