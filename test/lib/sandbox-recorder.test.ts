import { describe, expect, it } from 'vitest';
import { RequestRecorder } from '../../sandboxes/kit/recorder.js';

const request = (path: string, body: string) => ({
  method: 'POST',
  path,
  endpoint: 'POST /things',
  query: new URLSearchParams('a=1&b=2&b=3'),
  rawBody: Buffer.from(body),
});

describe('the sandbox request recorder', () => {
  it('should keep what was received in order, narrowed by endpoint and by seq', () => {
    const recorder = new RequestRecorder();
    recorder.record(request('/things', '{"n":1}'), { n: 1 }, 200);
    recorder.record({ ...request('/other', 'plain text'), endpoint: 'POST /other' }, undefined, 400);
    recorder.record(request('/things', ''), undefined, 429);
    expect(recorder.list()).toMatchObject([
      { seq: 1, path: '/things', query: { a: '1', b: ['2', '3'] }, body: { n: 1 }, status: 200 },
      { seq: 2, path: '/other', body: 'plain text', status: 400 },
      { seq: 3, body: null, status: 429 },
    ]);
    expect(recorder.list({ endpoint: 'POST /things' }).map((r) => r.seq)).toEqual([1, 3]);
    expect(recorder.list({ after: 1 }).map((r) => r.seq)).toEqual([2, 3]);
  });

  it('should drop the oldest requests past its count and body-size limits, and say how many', async () => {
    const recorder = new RequestRecorder({ maxRequests: 3, maxBodyBytes: 25 });
    for (let i = 0; i < 4; i++) recorder.record(request('/things', `{"i":${i}}`), { i }, 200);
    expect(recorder.list().map((r) => r.seq)).toEqual([2, 3, 4]);
    recorder.record(request('/things', 'x'.repeat(20)), undefined, 200);
    expect(recorder.list().map((r) => r.seq)).toEqual([5]);
    const [list] = recorder.adminRoutes();
    const answer = await list!.handle({
      method: 'GET',
      path: '/__sandbox/requests',
      params: {},
      query: new URLSearchParams('after=4'),
      headers: {},
      rawBody: Buffer.alloc(0),
      json: undefined,
      endpoint: 'GET /__sandbox/requests',
    });
    expect(answer).toMatchObject({ status: 200, json: { total: 5, dropped: 4, requests: [{ seq: 5 }] } });
  });
});
