// The security settings, without HTTP: what is enrolled, and every change, each followed by an
// email to the account's owner.
import type { Account } from '../db/repositories/accounts.ts';
import type { SecondFactorsRepo, SecondFactorRow } from '../db/repositories/second-factors.ts';
import type { BackupCodesFactor } from '../factors/backup-codes.ts';
import type { SmsFactor } from '../factors/sms.ts';
import type { Mailer } from '../notify/mailer.ts';
import { emails } from '../notify/emails.ts';
import { isLocale } from '../http/i18n.ts';

export type SecurityChange = 'mfa_enabled' | 'factor_added' | 'factor_removed' | 'factor_renamed' | 'mfa_disabled' | 'default_changed' | 'backup_codes_regenerated';

export interface FactorView {
  id: string;
  type: SecondFactorRow['type'];
  name: string;
  detail?: string;
  isDefault: boolean;
  lastUsedAt: Date | null;
  createdAt: Date;
}

export function createSecurityService(deps: {
  repo: SecondFactorsRepo; backupCodes: BackupCodesFactor; sms: SmsFactor; mailer: Mailer; issuer: string;
  /** A linked device was removed: it is told, and its requests are refused from now on. */
  onDeviceRemoved(deviceId: string): Promise<void>;
}) {
  const { repo, backupCodes, mailer } = deps;

  async function notify(account: Account, change: SecurityChange, factor?: { type: string; name: string }) {
    await mailer.send(emails.securityChange(isLocale(account.locale) ? account.locale : 'en', account.zoneinfo, account.email, {
      change, method: factor?.type, name: factor?.name, when: new Date(), link: `${deps.issuer}/account/security`,
    }));
  }

  return {
    async overview(accountId: string) {
      const rows = await repo.list(accountId);
      const factors: FactorView[] = rows.map((r) => ({
        id: r.id, type: r.type, name: r.name, isDefault: r.isDefault, lastUsedAt: r.lastUsedAt, createdAt: r.createdAt,
        detail: r.type === 'sms' ? deps.sms.maskedNumber(r) : undefined,
      }));
      return { factors, enabled: factors.length > 0, backupCodesLeft: factors.length ? await backupCodes.remaining(accountId) : 0 };
    },
    findFactor: (accountId: string, id: string) => repo.find(accountId, id),
    /** After a factor was enrolled. The first one turns 2FA on and brings a set of backup codes,
     *  returned to be shown once. */
    async added(account: Account, factor: SecondFactorRow): Promise<string[] | undefined> {
      const first = (await repo.count(account.id)) === 1;
      const codes = first || !(await backupCodes.hasSet(account.id)) ? await backupCodes.regenerate(account.id) : undefined;
      await notify(account, first ? 'mfa_enabled' : 'factor_added', factor);
      return codes;
    },
    /** Removes one factor; removing the last turns 2FA off (and voids the backup codes). */
    async remove(account: Account, factor: SecondFactorRow): Promise<'removed' | 'disabled' | 'gone'> {
      const left = await repo.delete(account.id, factor.id);
      if (left === undefined) return 'gone';
      if (factor.type === 'push') await deps.onDeviceRemoved(factor.id);
      if (left === 0) {
        await backupCodes.deleteAll(account.id);
        await notify(account, 'mfa_disabled', factor);
        return 'disabled';
      }
      await notify(account, 'factor_removed', factor);
      return 'removed';
    },
    async disable(account: Account): Promise<boolean> {
      const removed = await repo.deleteAll(account.id);
      await backupCodes.deleteAll(account.id);
      for (const f of removed) if (f.type === 'push') await deps.onDeviceRemoved(f.id);
      if (removed.length) await notify(account, 'mfa_disabled');
      return removed.length > 0;
    },
    async setDefault(account: Account, factor: SecondFactorRow): Promise<void> {
      if (factor.isDefault) return;
      if (await repo.setDefault(account.id, factor.id)) await notify(account, 'default_changed', factor);
    },
    async rename(account: Account, factor: SecondFactorRow, name: string): Promise<void> {
      if (name === factor.name) return;
      if (await repo.rename(account.id, factor.id, name)) await notify(account, 'factor_renamed', { type: factor.type, name });
    },
    async regenerateBackupCodes(account: Account): Promise<string[] | undefined> {
      if ((await repo.count(account.id)) === 0) return undefined;
      const codes = await backupCodes.regenerate(account.id);
      await notify(account, 'backup_codes_regenerated');
      return codes;
    },
  };
}
export type SecurityService = ReturnType<typeof createSecurityService>;
