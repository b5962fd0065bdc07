import { describe, expect, it } from 'vitest';
import { Kind } from 'graphql';
import { addDays, daysBetween, isCalendarDate, toDateTime } from '../../lib/dates.js';
import { dateRange } from '../../lib/graphql/date-range.js';
import { DateScalar, DateTimeScalar, DecimalScalar } from '../../lib/graphql/scalars.js';

describe('dates', () => {
  it('should normalise every platform format to ISO UTC with milliseconds', () => {
    expect(toDateTime('2026-03-01T09:30:00-05:00')).toBe('2026-03-01T14:30:00.000Z');
    expect(toDateTime(1462216307945)).toBe('2016-05-02T19:11:47.945Z');
    expect(toDateTime('1462216307945')).toBe('2016-05-02T19:11:47.945Z');
    expect(toDateTime('2009-03-26 21:35:57')).toBe('2009-03-26T21:35:57.000Z');
    expect(() => toDateTime('yesterday')).toThrow(RangeError);
  });

  it('should know the calendar', () => {
    expect(isCalendarDate('2028-02-29')).toBe(true);
    expect(isCalendarDate('2026-02-29')).toBe(false);
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(daysBetween('2026-01-01', '2026-03-01')).toBe(59);
  });
});

describe('scalars', () => {
  it('should accept real days and reject impossible ones with BAD_USER_INPUT', () => {
    expect(DateScalar.parseValue('2026-11-28')).toBe('2026-11-28');
    expect(() => DateScalar.parseValue('2026-13-01')).toThrow(/YYYY-MM-DD/);
    expect(() => DateScalar.parseLiteral({ kind: Kind.INT, value: '20261128' })).toThrow(/string/);
  });

  it('should serialise DateTime in UTC and refuse offsets on input', () => {
    expect(DateTimeScalar.parseValue('2026-03-01T14:30:00Z')).toBe('2026-03-01T14:30:00.000Z');
    expect(() => DateTimeScalar.parseValue('2026-03-01T09:30:00-05:00')).toThrow(/UTC/);
  });

  it('should keep decimals as strings', () => {
    expect(DecimalScalar.serialize('199.00')).toBe('199.00');
    expect(() => DecimalScalar.serialize(199)).toThrow(/string/);
  });
});

describe('dateRange', () => {
  it('should bound a range by whole UTC days', () => {
    expect(dateRange('2026-11-01', '2026-11-30')).toEqual({
      since: '2026-11-01',
      until: '2026-11-30',
      startMs: Date.parse('2026-11-01T00:00:00.000Z'),
      endMs: Date.parse('2026-11-30T23:59:59.999Z'),
    });
  });

  it('should refuse reversed and too long ranges', () => {
    expect(() => dateRange('2026-11-30', '2026-11-01')).toThrow(/must not be before/);
    expect(() => dateRange('2025-01-01', '2026-11-01')).toThrow(/at most 366/);
  });
});
