// Time zones: which ones an account may choose, and calendar days in a user's time zone without a
// date library (the UTC instant a local day starts).

/** The IANA zones this runtime knows: what the profile offers (its list puts UTC first). */
export const TIME_ZONES: readonly string[] = Intl.supportedValuesOf('timeZone');
const KNOWN_ZONES = new Set(['UTC', ...TIME_ZONES]);

/** A zone an account may have: one of TIME_ZONES, or UTC (not listed by every runtime). */
export const isTimeZone = (zone: string): boolean => KNOWN_ZONES.has(zone);

/** Minutes the zone is ahead of UTC at `instant` (e.g. +60 for Europe/Zurich in winter). */
function offsetMinutes(instant: number, timeZone: string): number {
  const name =
    new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
      .formatToParts(new Date(instant))
      .find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) : 0;
}

function localDate(instant: number, timeZone: string): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    new Date(instant),
  );
}

/** The first instant of the local day `YYYY-MM-DD` (+ `plusDays`) in `timeZone`: local midnight, or
 *  where a daylight-saving change skips midnight (Chile, Cuba), the first minute that exists. */
export function zonedDayStart(date: string, timeZone: string, plusDays = 0): Date {
  const [y = 1970, mo = 1, d = 1] = date.split('-').map(Number);
  const wall = Date.UTC(y, mo - 1, d + plusDays);
  let zone = timeZone;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    zone = 'UTC';
  }
  const day = new Date(wall).toISOString().slice(0, 10);
  // The offsets in force just before and just after the day begins; the earliest candidate that
  // falls on the day itself is where it starts.
  const candidates = [offsetMinutes(wall - 12 * 3600_000, zone), offsetMinutes(wall + 12 * 3600_000, zone)]
    .map((offset) => wall - offset * 60_000)
    .filter((instant) => localDate(instant, zone) === day)
    .sort((a, b) => a - b);
  return new Date(candidates[0] ?? wall - offsetMinutes(wall, zone) * 60_000);
}
