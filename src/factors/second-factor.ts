// The one interface every second factor implements (architecture habit 2: factors are strategies).
// The login flow only knows this file: it never imports otplib or @simplewebauthn.
import type { SecondFactorRow } from '../db/repositories/second-factors.ts';
import type { Locale } from '../http/i18n.ts';

/** Every second-factor method, as forms, URLs and the login choices name them. */
export const METHOD_IDS = ['totp', 'webauthn', 'sms', 'backup_code', 'push'] as const;
export type MethodId = (typeof METHOD_IDS)[number];

/** The order methods are offered in, by what a user most likely has: an authenticator app (any
 *  phone), a security key, a mobile number, then the kAuth app; backup codes are the last resort. */
export const METHOD_ORDER: readonly MethodId[] = ['totp', 'webauthn', 'sms', 'push', 'backup_code'];

/** One login ceremony: challenges are bound to it (the interaction uid) and to the account. */
export interface Ceremony {
  accountId: string;
  key: string;
  locale: Locale;
  ip: string;
  /** The enrolled factor chosen, where a method has several that differ (SMS numbers). */
  factorId?: string;
  /** What the user is signing in to, and with what browser (shown on a push approval request). */
  app?: string;
  userAgent?: string;
}

/** What the user sent back: a typed code, or a WebAuthn assertion (JSON). */
export interface FactorAnswer {
  code?: string;
  credential?: unknown;
}

/** One entry of the "use another method" list. */
export interface MethodChoice {
  method: MethodId;
  factorId?: string;
  /** The user's own name for it (or a masked number), shown next to the method's label. */
  label?: string;
  isDefault: boolean;
}

export type ChallengeMode = 'open' | 'resend' | 'retry';

export type ChallengeResult =
  { ok: true; view: Record<string, unknown> } | { ok: false; reason: 'rate_limited' | 'unavailable' };

export interface SecondFactor {
  readonly id: MethodId;
  /** RFC 8176 Authentication Method Reference recorded when this factor succeeds. */
  readonly amr: string;
  /** The login choices this method offers, given the account's enrolled factors. */
  choices(accountId: string, rows: SecondFactorRow[]): Promise<MethodChoice[]>;
  /** Prepares the challenge for the second-factor page (SMS sends a code, WebAuthn makes options).
   *  `open`: the page is shown (send if nothing is outstanding); `resend`: the user asked for a new
   *  code; `retry`: re-shown after a wrong answer (never sends). */
  challenge?(ceremony: Ceremony, opts: { mode: ChallengeMode }): Promise<ChallengeResult>;
  /** True only for a valid, unused answer; single-use is enforced by one atomic write. */
  verify(ceremony: Ceremony, answer: FactorAnswer): Promise<boolean>;
  /** The amr values a successful answer adds, when they depend on the answer (default: [amr]). */
  amrFor?(answer: FactorAnswer): readonly string[];
  /** For factors answered elsewhere (push approval): where the challenge stands, for the waiting page. */
  poll?(ceremony: Ceremony): Promise<PollStatus>;
}

export type PollStatus = 'pending' | 'approved' | 'denied' | 'expired';

/** One login choice standing for every enrolled factor of a type (any of them can answer), with
 *  the factor's own name when there is just one. */
export function oneChoiceFor(rows: SecondFactorRow[], type: SecondFactorRow['type'], method: MethodId): MethodChoice[] {
  const mine = rows.filter((r) => r.type === type);
  return mine.length
    ? [{ method, label: mine.length === 1 ? mine[0]?.name : undefined, isDefault: mine.some((r) => r.isDefault) }]
    : [];
}

/** The amr values that count as a second factor: "2FA done" is derived from the amr list alone. */
export const SECOND_FACTOR_AMR = new Set(['otp', 'hwk', 'swk', 'sms', 'sc']);
