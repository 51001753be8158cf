// The security settings, without HTTP: what is enrolled, and every change, each followed by an
// email to the account's owner.
import type { AccountChanges } from '../store/account-changes.ts';
import type { Account, AccountsRepo } from '../db/repositories/accounts.ts';
import type { SecondFactorsRepo, SecondFactorRow } from '../db/repositories/second-factors.ts';
import type { BackupCodesFactor } from '../factors/backup-codes.ts';
import { maskPhone, type SmsFactor } from '../factors/sms.ts';
import type { Mailer } from '../notify/mailer.ts';
import { emails, greetingName } from '../notify/emails.ts';
import { localeOf } from '../http/i18n.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { RequestInfo } from '../http/request-info.ts';
import type { AppPasswords } from '../app-passwords/service.ts';
import { decrypt } from '../lib/crypto.ts';
import { maskEmail } from '../lib/mask-email.ts';

export type SecurityChange =
  | 'mfa_enabled'
  | 'factor_added'
  | 'factor_removed'
  | 'factor_renamed'
  | 'mfa_disabled'
  | 'default_changed'
  | 'backup_codes_regenerated'
  | 'protection_changed';

/** Turning 2FA off: the app passwords go too, unless the user was asked and chose to keep them
 *  (the Security page's confirmation); the command line and every other path never keep them. */
export interface TurnOffOptions {
  keepAppPasswords?: boolean;
}

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
  repos: { accounts: AccountsRepo; secondFactors: SecondFactorsRepo; activity: ActivityRepo };
  factors: {
    backupCodes: BackupCodesFactor;
    sms: SmsFactor;
    /** A linked device was removed: it is told, and its requests are refused from now on. */
    push: { removed(deviceId: string): Promise<void> };
  };
  mailer: Mailer;
  config: { issuer: string; encryptionKey: Buffer };
  /** Told of every change: 2FA on or off decides what the sync channel accepts (app-passwords/). */
  accountChanges: Pick<AccountChanges, 'announce'>;
  /** Revoked when 2FA goes off (each revocation logged and told to every node). */
  appPasswords: Pick<AppPasswords, 'revokeAll'>;
}) {
  const { mailer } = deps;
  const { secondFactors: repo, activity, accounts } = deps.repos;
  const { backupCodes, sms, push } = deps.factors;

  /** Every change: a line in the activity log and an email to the owner. */
  async function notify(
    account: Account,
    change: SecurityChange,
    info: RequestInfo,
    factor?: { type: string; name: string },
  ) {
    deps.accountChanges.announce(account.id);
    await activity.record({
      accountId: account.id,
      type: change,
      ip: info.ip,
      device: info.device,
      details: factor ? { method: factor.type, name: factor.name } : {},
    });
    await mailer.send(
      emails.securityChange(localeOf(account), account.zoneinfo, account.email, {
        change,
        method: factor?.type,
        name: factor?.name,
        when: new Date(),
        link: `${deps.config.issuer}/account/security`,
        greet: greetingName(account, account.email),
      }),
    );
  }

  /** 2FA went off: the app passwords are revoked unless kept; returns how many were revoked. */
  async function afterTurnedOff(account: Account, info: RequestInfo, opts: TurnOffOptions): Promise<number> {
    if (opts.keepAppPasswords) return 0;
    return (await deps.appPasswords.revokeAll(account.id, info)).length;
  }

  /** What the Security page lists: the methods (an SMS number masked), 2FA on, backup codes left. */
  async function overview(accountId: string) {
    const rows = await repo.list(accountId);
    const factors: FactorView[] = rows.map((r) => ({
      id: r.id,
      type: r.type,
      name: r.name,
      isDefault: r.isDefault,
      lastUsedAt: r.lastUsedAt,
      createdAt: r.createdAt,
      detail: r.type === 'sms' ? sms.maskedNumber(r) : undefined,
    }));
    return {
      factors,
      enabled: factors.length > 0,
      backupCodesLeft: factors.length ? await backupCodes.remaining(accountId) : 0,
    };
  }

  return {
    overview,
    /** Everything the Security page and the Profile page's recovery section show, for the API: no
     *  secret, seed or credential, recovery contacts and SMS numbers masked. */
    async summary(account: Account) {
      const o = await overview(account.id);
      const phone = account.recoveryPhone ? decrypt(deps.config.encryptionKey, account.recoveryPhone) : undefined;
      return {
        ...o,
        defaultFactor: o.factors.find((f) => f.isDefault),
        recovery: {
          email: account.recoveryEmail ? maskEmail(account.recoveryEmail) : null,
          phone: phone ? maskPhone(phone) : null,
        },
        protection: {
          lockoutThreshold: account.lockoutThreshold,
          alertEverySignIn: account.alertEverySignIn,
          alertFailedPassword: account.alertFailedPassword,
        },
      };
    },
    findFactor: (accountId: string, id: string) => repo.find(accountId, id),
    /** After a factor was enrolled. The first one turns 2FA on and brings a set of backup codes,
     *  returned to be shown once. */
    async added(account: Account, factor: SecondFactorRow, info: RequestInfo): Promise<string[] | undefined> {
      const first = (await repo.count(account.id)) === 1;
      const codes =
        first || !(await backupCodes.hasSet(account.id)) ? await backupCodes.regenerate(account.id) : undefined;
      await notify(account, first ? 'mfa_enabled' : 'factor_added', info, factor);
      return codes;
    },
    /** Removes one factor; removing the last turns 2FA off (and voids the backup codes, and the app
     *  passwords unless kept). */
    async remove(
      account: Account,
      factor: SecondFactorRow,
      info: RequestInfo,
      opts: TurnOffOptions = {},
    ): Promise<{ outcome: 'removed' | 'disabled' | 'gone'; appPasswordsRevoked: number }> {
      const left = await repo.delete(account.id, factor.id);
      if (left === undefined) return { outcome: 'gone', appPasswordsRevoked: 0 };
      if (factor.type === 'push') await push.removed(factor.id);
      if (left === 0) {
        await backupCodes.deleteAll(account.id);
        await notify(account, 'mfa_disabled', info, factor);
        return { outcome: 'disabled', appPasswordsRevoked: await afterTurnedOff(account, info, opts) };
      }
      await notify(account, 'factor_removed', info, factor);
      return { outcome: 'removed', appPasswordsRevoked: 0 };
    },
    /** Every factor and backup code goes (the Security page, `sesame user reset-2fa`, a fresh start),
     *  and the app passwords unless kept; linked devices are told. Returns how many of each went. */
    async disable(
      account: Account,
      info: RequestInfo,
      opts: TurnOffOptions = {},
    ): Promise<{ factors: number; appPasswordsRevoked: number }> {
      const removed = await repo.deleteAll(account.id);
      await backupCodes.deleteAll(account.id);
      for (const f of removed) if (f.type === 'push') await push.removed(f.id);
      if (removed.length) await notify(account, 'mfa_disabled', info);
      return { factors: removed.length, appPasswordsRevoked: await afterTurnedOff(account, info, opts) };
    },
    async setDefault(account: Account, factor: SecondFactorRow, info: RequestInfo): Promise<void> {
      if (factor.isDefault) return;
      if (await repo.setDefault(account.id, factor.id)) await notify(account, 'default_changed', info, factor);
    },
    async rename(account: Account, factor: SecondFactorRow, name: string, info: RequestInfo): Promise<void> {
      if (name === factor.name) return;
      if (await repo.rename(account.id, factor.id, name))
        await notify(account, 'factor_renamed', info, { type: factor.type, name });
    },
    /** Lockout threshold and optional alerts. */
    async setProtection(
      account: Account,
      p: { lockoutThreshold: number; alertEverySignIn: boolean; alertFailedPassword: boolean },
      info: RequestInfo,
    ): Promise<void> {
      if (
        p.lockoutThreshold === account.lockoutThreshold &&
        p.alertEverySignIn === account.alertEverySignIn &&
        p.alertFailedPassword === account.alertFailedPassword
      )
        return;
      await accounts.update(account.id, p);
      await notify(account, 'protection_changed', info);
    },
    async regenerateBackupCodes(account: Account, info: RequestInfo): Promise<string[] | undefined> {
      if ((await repo.count(account.id)) === 0) return undefined;
      const codes = await backupCodes.regenerate(account.id);
      await notify(account, 'backup_codes_regenerated', info);
      return codes;
    },
  };
}
export type SecurityService = ReturnType<typeof createSecurityService>;
