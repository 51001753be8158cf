// Calendar days in a user's time zone, without a date library: the UTC instant a local day starts.

/** Minutes the zone is ahead of UTC at `instant` (e.g. +60 for Europe/Zurich in winter). */
function offsetMinutes(instant: number, timeZone: string): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }).formatToParts(new Date(instant)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) : 0;
}

/** The instant local midnight starts `YYYY-MM-DD` (+ `plusDays`) in `timeZone`. */
export function zonedDayStart(date: string, timeZone: string, plusDays = 0): Date {
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, mo - 1, d + plusDays);
  let zone = timeZone;
  try { new Intl.DateTimeFormat('en-US', { timeZone }); } catch { zone = 'UTC'; }
  // Two passes settle the offset across a daylight-saving change.
  let instant = wall - offsetMinutes(wall, zone) * 60_000;
  instant = wall - offsetMinutes(instant, zone) * 60_000;
  return new Date(instant);
}
