// Dates as pages and emails show them: French ordinals and the zone label, without a server.
import { describe, it, expect } from 'vitest';
import { formatDate } from '../../src/http/i18n.ts';

describe('formatDate', () => {
  const first = new Date('2025-12-01T13:05:00Z');
  it('i18n.french-first-of-month: French writes the first of the month "1er"', () => {
    expect(formatDate(first, 'fr', 'Europe/Zurich')).toBe('1er décembre 2025 à 14:05');
    expect(formatDate(new Date('2026-01-01T08:00:00Z'), 'fr', 'UTC')).toBe('1er janvier 2026 à 08:00');
    // Only the first: the 11th and the 21st stay cardinal, as do other languages.
    expect(formatDate(new Date('2025-12-11T13:05:00Z'), 'fr', 'Europe/Zurich')).toBe('11 décembre 2025 à 14:05');
    expect(formatDate(new Date('2025-12-21T13:05:00Z'), 'fr', 'Europe/Zurich')).toBe('21 décembre 2025 à 14:05');
    expect(formatDate(first, 'de', 'Europe/Zurich')).toBe('1. Dezember 2025 um 14:05');
  });
  it('emails.time-zone-label: the zone named on request, UTC when the stored zone is unknown', () => {
    expect(formatDate(first, 'en', 'Europe/Zurich', { zoneLabel: true })).toMatch(
      /^December 1, 2025 at 2:05\sPM \(Europe\/Zurich\)$/,
    );
    expect(formatDate(first, 'en', 'Mars/Olympus', { zoneLabel: true })).toMatch(/at 1:05\sPM \(UTC\)$/);
  });
});
