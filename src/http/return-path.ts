/** A same-site path we may send the browser back to after a detour (sign-up, sign-in): only the
 *  login flow, the account pages and an invitation's link (signing in to accept it), never an
 *  arbitrary URL (no open redirect). */
export function safeReturnPath(value: unknown): string | undefined {
  return typeof value === 'string' && /^\/(interaction\/[\w-]+|invitation\/[\w-]+|account)(\/[\w/-]*)?$/.test(value)
    ? value
    : undefined;
}

/** Any path of this site (with its query), for going back to the page the user was on — never
 *  another host (`//evil.example`, `/\evil.example`) and never a scheme. */
export function safeLocalPath(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2000 || !value.startsWith('/') || /[\\\s\p{Cc}]/u.test(value))
    return undefined;
  try {
    const u = new URL(value, 'http://sesame.invalid');
    const path = u.pathname + u.search;
    // Checked again after normalising: `/.//evil.example` becomes `//evil.example`, another host.
    return u.origin === 'http://sesame.invalid' && /^\/(?![/\\])/.test(path) ? path : undefined;
  } catch {
    return undefined;
  }
}
