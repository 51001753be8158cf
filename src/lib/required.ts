/** A value the data model guarantees (a TOTP row has a secret, a WebAuthn row a credential id): a
 *  broken row fails loudly here instead of somewhere later as `undefined`. */
export function required<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`missing ${what}`);
  return value;
}
