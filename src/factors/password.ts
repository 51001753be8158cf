// The password factor: argon2id (RFC 9106), rehashed on login when parameters change, with a
// minimum length and a common-password check. Unknown accounts cost the same as known ones.
import argon2 from 'argon2';
import { dictionary } from '@zxcvbn-ts/language-common';
import { AppError } from '../errors.ts';

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;

const COMMON = new Set<string>(
  ((dictionary as Record<string, string[]>)['passwords-common'] ?? []).map((p) => p.toLowerCase()),
);

export type PasswordProblem = 'weak_password' | 'common_password' | 'personal_password';

/** Words shorter than this are not looked for in a password: "li" or "al" would refuse half of all
 *  passphrases, while a three-letter name or mailbox ("zoe", "bob") is a guesser's first try. */
const MIN_CONTEXT_WORD = 3;

export function checkPasswordPolicy(password: string, context: string[] = []): PasswordProblem | undefined {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) return 'weak_password';
  const lower = password.toLowerCase();
  if (COMMON.has(lower)) return 'common_password';
  // A password that contains the user's own email or name is as good as common.
  const words = context.map((c) => c.trim().toLowerCase()).filter((c) => c.length >= MIN_CONTEXT_WORD);
  if (words.some((c) => lower.includes(c))) return 'personal_password';
  if (new Set(password).size < 4) return 'weak_password';
  return undefined;
}

/** The policy for a password someone chooses (sign-up, reset, change, the compromised-password flow,
 *  the CLI — every caller goes through here): an AppError naming the problem, about the password
 *  field. A password containing their whole email address, its local part or their first or last
 *  name (from three characters, whatever the case) counts as common. */
export function assertPasswordAllowed(
  password: string,
  who: { email: string; givenName?: string | null; familyName?: string | null },
  field = 'password',
): void {
  const context = [who.email, who.email.split('@')[0] ?? '', who.givenName ?? '', who.familyName ?? ''];
  const problem = checkPasswordPolicy(password, context);
  if (problem) throw new AppError(problem, { fields: [field], fieldErrors: { [field]: problem } });
}

export function createPasswordFactor(opts: { memoryCost: number; timeCost: number }) {
  const params = {
    type: argon2.argon2id,
    memoryCost: opts.memoryCost,
    timeCost: opts.timeCost,
    parallelism: 1,
  } as const;
  let dummyHash: Promise<string> | undefined;
  /** argon2 verifications run so far: against an account's hash, or the dummy one (no hash to
   *  check). Lets tests see that every refusal costs the same work. */
  const verifications = { real: 0, dummy: 0 };

  return {
    id: 'pwd' as const,
    amr: ['pwd'],
    verifications,
    hash(password: string): Promise<string> {
      return argon2.hash(password, params);
    },
    /** Verifies; when `hash` is undefined (no such account) a dummy hash is verified so timing matches. */
    async verify(hash: string | undefined, password: string): Promise<{ ok: boolean; rehash?: string }> {
      if (!hash) {
        dummyHash ??= argon2.hash('sesame-dummy-password-for-timing', params);
        await argon2.verify(await dummyHash, password).catch(() => false);
        verifications.dummy++;
        return { ok: false };
      }
      let ok = false;
      try {
        ok = await argon2.verify(hash, password);
        verifications.real++;
      } catch {
        ok = false;
      }
      if (!ok) return { ok };
      const rehash = argon2.needsRehash(hash, params) ? await argon2.hash(password, params) : undefined;
      return { ok, rehash };
    },
  };
}
export type PasswordFactor = ReturnType<typeof createPasswordFactor>;
