import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSyncFile, parseSyncDefinitions, SyncDefinitionError } from '../../syncs/definition.js';
import { nextRunAt, parseSchedule } from '../../syncs/schedule.js';

/** Sync definitions are checked once, at the edge: every problem named by sync and field. */

const valid = {
  name: 'vip',
  source: {
    query:
      'query($first: Int!, $after: String) { customers(first: $first, after: $after) { edges { node { email } } pageInfo { hasNextPage endCursor } } }',
    connection: 'customers',
  },
  key: 'email',
  mapping: { email: 'email' },
  destination: { type: 'mailchimp-audience', options: { tags: ['VIP'] } },
  schedule: { every: '1h' },
};

const problemsOf = (raw: unknown): string[] => {
  try {
    parseSyncDefinitions(raw, 'syncs.yaml');
  } catch (error) {
    if (error instanceof SyncDefinitionError) return [...error.problems];
    throw error;
  }
  return [];
};

describe('sync definitions', () => {
  it('should load the demo file: three syncs with their destinations and schedules', () => {
    const syncs = loadSyncFile('syncs/demo.yaml');
    expect(syncs.map((s) => [s.name, s.destination.type, s.mode, s.schedule?.text])).toEqual([
      ['vip-customers', 'mailchimp-audience', 'upsert', 'every 1h'],
      ['lapsed-buyers', 'meta-custom-audience', 'mirror', 'cron 0 6 * * * (Europe/Paris)'],
      ['commerce-totals', 'hubspot-contacts', 'upsert', 'every 1h'],
    ]);
  });

  it('should name the sync and the field of each problem, the destination options included', () => {
    expect(
      problemsOf({
        syncs: [
          { ...valid, destination: { type: 'mailchimp-audience', options: { tags: [''], color: 'red' } } },
          {
            ...valid,
            name: 'lapsed',
            mode: 'update',
            destination: { type: 'meta-custom-audience', options: { audienceId: 'abc' } },
          },
          { ...valid, name: 'bad-key', key: 'id', rules: { phone: { email: true } } },
          { ...valid, name: 'bad-schedule', schedule: { cron: '61 * * * *', timeZone: 'Mars/Olympus' } },
          { ...valid, name: 'nowhere', destination: { type: 'fax-machine' } },
        ],
      }),
    ).toEqual([
      'sync "vip": destination.options.tags.0: Too small: expected string to have >=1 characters',
      'sync "vip": destination.options: Unrecognized key: "color"',
      'sync "lapsed": destination.options.audienceId: must be Meta\'s numeric audience id',
      'sync "lapsed": mode: Meta custom audience takes upsert, mirror, not update',
      'sync "bad-key": key: "id" is not a mapped field',
      'sync "bad-key": rules.phone: not a mapped field',
      'sync "bad-schedule": schedule.cron: timeZone: Mars/Olympus is not an IANA time zone',
      'sync "nowhere": destination.type: unknown destination "fax-machine"; expected one of hubspot-contacts, mailchimp-audience, meta-custom-audience',
    ]);
  });

  it('should refuse a repeated name, a query without paging variables and an unknown field', () => {
    expect(
      problemsOf({
        syncs: [
          valid,
          valid,
          {
            ...valid,
            name: 'unpaged',
            source: { ...valid.source, query: '{ customers(first: 10) { edges { node { email } } } }' },
          },
          { ...valid, name: 'typo', mappings: {} },
        ],
      }),
    ).toEqual([
      'sync "vip": name: declared twice',
      'sync "unpaged": source.query: must take $first and $after (the pages of the connection)',
      'sync "typo": Unrecognized key: "mappings"',
    ]);
  });

  it('should say what is wrong with a file that cannot be read or parsed, without a stack', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-defs-'));
    try {
      writeFileSync(join(dir, 'bad.yaml'), 'syncs: [\n');
      expect(() => loadSyncFile(join(dir, 'bad.yaml'))).toThrow(
        /bad\.yaml: a sync definition is invalid:\n {2}is not valid YAML/,
      );
      expect(() => loadSyncFile(join(dir, 'missing.json'))).toThrow(/missing\.json: [\s\S]*cannot be read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sync schedules', () => {
  it('should run an interval one interval after the last start, and at once when never run', () => {
    const hourly = parseSchedule({ every: '1h' });
    if (typeof hourly === 'string') throw new Error(hourly);
    expect(nextRunAt(hourly, undefined, 1_000)).toBe(1_000);
    expect(nextRunAt(hourly, 1_000, 2_000)).toBe(1_000 + 3_600_000);
    expect(parseSchedule({ every: '10s' })).toBe('must be at least 1m');
  });

  it('should place a cron schedule in its time zone, across a daylight-saving change', () => {
    const paris = parseSchedule({ cron: '0 6 * * *', timeZone: 'Europe/Paris' });
    if (typeof paris === 'string') throw new Error(paris);
    // Winter: 06:00 in Paris is 05:00 UTC; summer: 04:00 UTC.
    expect(new Date(nextRunAt(paris, Date.parse('2026-12-04T10:00:00Z'), 0)).toISOString()).toBe(
      '2026-12-05T05:00:00.000Z',
    );
    expect(new Date(nextRunAt(paris, Date.parse('2026-07-04T10:00:00Z'), 0)).toISOString()).toBe(
      '2026-07-05T04:00:00.000Z',
    );
  });
});
