// Who is signing in, in words a person recognises: "Chrome 156 on Linux", and where from. Sesame
// ships no GeoIP database, so the place is only what the address itself tells (this computer, a
// local network); a public address shows as the address alone.
import Bowser from 'bowser';
import net from 'node:net';

/** "Chrome 140 · Linux" — names only, no words, so it reads the same in every language; '' when
 *  nothing is recognised (pages then say "unknown browser" in the reader's language). */
export function describeBrowser(userAgent: string | undefined): string {
  if (!userAgent) return '';
  const { browser, os } = Bowser.parse(userAgent.slice(0, 512));
  const name = browser.name ? `${browser.name}${browser.version ? ` ${browser.version.split('.')[0]}` : ''}` : '';
  const version = os.versionName ?? os.version?.split('.')[0];
  const system = os.name ? `${os.name}${version ? ` ${version}` : ''}` : '';
  return [name, system].filter(Boolean).join(' · ');
}

export type Place = 'this_computer' | 'local_network' | 'unknown';

export function describePlace(ip: string): Place {
  const addr = ip.replace(/^::ffff:/, '');
  if (addr === '::1' || addr.startsWith('127.')) return 'this_computer';
  if (net.isIPv4(addr)) {
    const [a, b] = addr.split('.').map(Number) as [number, number];
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254))
      return 'local_network';
  } else if (/^f[cd]/i.test(addr) || /^fe80:/i.test(addr)) return 'local_network';
  return 'unknown';
}
