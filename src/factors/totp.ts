// Authenticator apps (TOTP, RFC 6238): SHA-1, 6 digits, 30 s — what every app understands.
// The seed is encrypted at rest (AES-256-GCM); each time step is accepted once.
import { generateSecret, generateURI, verify as verifyOtp } from 'otplib';
import QRCode from 'qrcode';
import type { SecondFactorsRepo, SecondFactorRow } from '../db/repositories/second-factors.ts';
import type { Store } from '../store/store.ts';
import { encrypt, decrypt } from '../lib/crypto.ts';
import type { Clock } from '../lib/clock.ts';
import { oneChoiceFor, type SecondFactor } from './second-factor.ts';
import { required } from '../lib/required.ts';

const PERIOD = 30;
const DIGITS = 6;
const ENROL_TTL = 15 * 60;

export function normalizeCode(code: string | undefined): string {
  return (code ?? '').replace(/[\s-]/g, '');
}

/** The RFC 6238 time step a code belongs to, within ±1 step of `nowMs` (§5.2 network delay), or
 *  undefined. SHA-1, 6 digits, 30 s: what every authenticator app (and the kAuth app) uses. */
export async function matchTotpStep(secret: string, code: string, nowMs: number): Promise<number | undefined> {
  if (!new RegExp(`^\\d{${DIGITS}}$`).test(code)) return undefined;
  const result = await verifyOtp({
    secret,
    token: code,
    period: PERIOD,
    digits: DIGITS,
    algorithm: 'sha1',
    epoch: Math.floor(nowMs / 1000),
    epochTolerance: PERIOD,
  });
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}

export function createTotpFactor(deps: {
  repo: SecondFactorsRepo;
  store: Store;
  config: { encryptionKey: Buffer; webauthnRpName: string };
  clock: Clock;
}) {
  const { repo, store } = deps;
  const { encryptionKey } = deps.config;
  const now = () => deps.clock.now();
  const enrolKey = (accountId: string) => `totp-enrol:${accountId}`;

  const matchStep = (secret: string, code: string) => matchTotpStep(secret, code, now());

  const factor = {
    id: 'totp',
    amr: 'otp', // RFC 8176 §2: one-time password
    async choices(_accountId: string, rows: SecondFactorRow[]) {
      return oneChoiceFor(rows, 'totp', 'totp');
    },
    async verify(ceremony, answer) {
      const code = normalizeCode(answer.code);
      for (const row of await repo.list(ceremony.accountId, 'totp')) {
        const step = await matchStep(decrypt(encryptionKey, required(row.secret, 'TOTP seed')), code);
        // A code is spent by moving last_step forward in one conditional UPDATE: a replayed code
        // (same or older step) and the loser of two parallel submissions both fail here.
        if (step !== undefined && (await repo.advanceTotpStep(row.id, step))) return true;
      }
      return false;
    },
  } satisfies SecondFactor;

  return {
    ...factor,
    /** Starts (or resumes, so a reload keeps the scanned QR code valid) an enrolment. */
    async beginEnrolment(accountId: string, label: string) {
      const boxed = await store.get(enrolKey(accountId));
      let secret = boxed ? safeDecrypt(encryptionKey, boxed) : undefined;
      if (!secret) {
        secret = generateSecret({ length: 20 }); // 160 bits, RFC 4226 §4 recommendation
        await store.set(enrolKey(accountId), encrypt(encryptionKey, secret), ENROL_TTL);
      }
      const uri = generateURI({
        issuer: deps.config.webauthnRpName,
        label,
        secret,
        algorithm: 'sha1',
        digits: DIGITS,
        period: PERIOD,
      });
      const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
      return { secret, uri, qrSvg };
    },
    /** Confirms the enrolment with a first valid code; that code's step is then spent. */
    async confirmEnrolment(accountId: string, name: string, code: string): Promise<SecondFactorRow | undefined> {
      const boxed = await store.get(enrolKey(accountId));
      const secret = boxed ? safeDecrypt(encryptionKey, boxed) : undefined;
      if (!secret) return undefined;
      const step = await matchStep(secret, normalizeCode(code));
      if (step === undefined) return undefined;
      // Only one of two parallel confirmations creates the factor.
      if ((await store.getDel(enrolKey(accountId))) !== boxed) return undefined;
      return repo.create({ accountId, type: 'totp', name, secret: encrypt(encryptionKey, secret), lastStep: step });
    },
  };
}

function safeDecrypt(key: Buffer, boxed: string): string | undefined {
  try {
    return decrypt(key, boxed);
  } catch {
    return undefined;
  }
}
export type TotpFactor = ReturnType<typeof createTotpFactor>;
