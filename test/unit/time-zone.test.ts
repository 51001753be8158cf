// The UTC instant a calendar day starts in a user's time zone (activity filters by day).
import { describe, it, expect } from 'vitest';
import { zonedDayStart } from '../../src/lib/time-zone.ts';

const start = (date: string, zone: string, plus = 0) => zonedDayStart(date, zone, plus).toISOString();

describe('zonedDayStart', () => {
  it('whole-hour zones on either side of UTC', () => {
    expect(start('2026-01-11', 'Pacific/Auckland')).toBe('2026-01-10T11:00:00.000Z'); // UTC+13 in summer
    expect(start('2026-01-11', 'America/New_York')).toBe('2026-01-11T05:00:00.000Z');
    expect(start('2026-01-11', 'UTC')).toBe('2026-01-11T00:00:00.000Z');
  });
  it('half- and quarter-hour offsets', () => {
    expect(start('2026-01-11', 'Asia/Kolkata')).toBe('2026-01-10T18:30:00.000Z');
    expect(start('2026-01-11', 'Asia/Kathmandu')).toBe('2026-01-10T18:15:00.000Z');
    expect(start('2026-01-11', 'America/St_Johns')).toBe('2026-01-11T03:30:00.000Z');
  });
  it('across daylight-saving changes that happen during the night', () => {
    expect(start('2026-03-29', 'Europe/Zurich')).toBe('2026-03-28T23:00:00.000Z'); // still CET at midnight
    expect(start('2026-03-30', 'Europe/Zurich')).toBe('2026-03-29T22:00:00.000Z'); // CEST from then on
    expect(start('2026-11-01', 'America/New_York')).toBe('2026-11-01T04:00:00.000Z'); // still EDT at midnight
    expect(start('2026-11-02', 'America/New_York')).toBe('2026-11-02T05:00:00.000Z');
  });
  it('plusDays moves by calendar days, across month and year ends (an exclusive end for "to")', () => {
    expect(start('2026-12-31', 'Europe/Zurich', 1)).toBe('2026-12-31T23:00:00.000Z');
    expect(start('2026-02-28', 'UTC', 1)).toBe('2026-03-01T00:00:00.000Z');
    expect(start('2028-02-28', 'UTC', 1)).toBe('2028-02-29T00:00:00.000Z');
    expect(start('2026-03-28', 'Europe/Zurich', 1)).toBe(start('2026-03-29', 'Europe/Zurich'));
  });
  it('a zone that does not exist is UTC', () => {
    expect(start('2026-01-11', 'Mars/Olympus')).toBe('2026-01-11T00:00:00.000Z');
  });
  // Where daylight saving starts at midnight (Chile, Cuba), 00:00 does not exist: the day starts at 01:00.
  it('a day whose midnight is skipped by daylight saving starts at its first instant', () => {
    expect(start('2026-09-06', 'America/Santiago')).toBe('2026-09-06T04:00:00.000Z'); // 01:00 -03
  });
});
