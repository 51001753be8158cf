/** A same-site path we may send the browser back to after a detour (sign-up, sign-in): only the
 *  login flow and the account pages, never an arbitrary URL (no open redirect). */
export function safeReturnPath(value: unknown): string | undefined {
  return typeof value === 'string' && /^\/(interaction\/[\w-]+|account)(\/[\w/-]*)?$/.test(value) ? value : undefined;
}
