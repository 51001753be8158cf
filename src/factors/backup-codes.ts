// Backup codes: 10 random codes shown once, stored as HMACs, each usable once.
import crypto from 'node:crypto';
import type { BackupCodesRepo } from '../db/repositories/backup-codes.ts';
import type { SecondFactorRow } from '../db/repositories/second-factors.ts';
import { hmac } from '../lib/crypto.ts';
import type { SecondFactor } from './second-factor.ts';

const BACKUP_CODE_COUNT = 10;
// No 0/o, 1/l/i: codes are copied by hand from paper. 10 characters of 31 ≈ 49.5 bits each.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

function randomCode(): string {
  let out = '';
  for (let i = 0; i < 10; i++) out += ALPHABET[crypto.randomInt(ALPHABET.length)];
  return `${out.slice(0, 5)}-${out.slice(5)}`;
}

export function createBackupCodesFactor(deps: { repo: BackupCodesRepo; config: { hashKey: Buffer } }) {
  const { repo } = deps;
  const { hashKey } = deps.config;
  const hashOf = (accountId: string, code: string) =>
    hmac(hashKey, `backup-code:${accountId}:${code.toLowerCase().replace(/[^a-z0-9]/g, '')}`);

  const factor = {
    id: 'backup_code',
    // RFC 8176 has no value for recovery codes; they are one-time passwords.
    amr: 'otp',
    async choices(accountId: string, rows: SecondFactorRow[]) {
      return rows.length && (await repo.hasSet(accountId))
        ? [{ method: 'backup_code' as const, isDefault: false }]
        : [];
    },
    async verify(ceremony, answer) {
      const code = answer.code ?? '';
      if (code.length < 10 || code.length > 40) return false;
      return repo.consume(ceremony.accountId, hashOf(ceremony.accountId, code));
    },
  } satisfies SecondFactor;

  return {
    ...factor,
    /** A new set; every earlier code stops working. Returns the codes, to be shown once. */
    async regenerate(accountId: string): Promise<string[]> {
      const codes = Array.from({ length: BACKUP_CODE_COUNT }, randomCode);
      await repo.replace(
        accountId,
        codes.map((c) => hashOf(accountId, c)),
      );
      return codes;
    },
    remaining: (accountId: string) => repo.remaining(accountId),
    hasSet: (accountId: string) => repo.hasSet(accountId),
    deleteAll: (accountId: string) => repo.deleteAll(accountId),
  };
}
export type BackupCodesFactor = ReturnType<typeof createBackupCodesFactor>;
