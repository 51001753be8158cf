// The security console's actions on one member, without HTTP (the member page's buttons and the
// API call the same functions): block and unblock (a blocked member keeps the role but can sign in
// to none of the organization's applications, and loses what they held for them: revoke-access.ts),
// unlock a locked account (the lockout's own unlock, as `sesame user unlock`), and a security alert.
// The policy decides each one; block and unblock are decided again under the organization's lock.
import type { Deps } from '../deps.ts';
import type { Account } from '../db/repositories/accounts.ts';
import type { Membership, Organization } from '../db/repositories/organizations.ts';
import { AppError } from '../errors.ts';
import { allow } from './context.ts';
import { canBlockMember, canUnlockMember, canAlertMember, type Actor } from './policy.ts';
import { createConsoleQueries } from './console-queries.ts';
import { orgUnlockedEmail } from './console-emails.ts';
import { recordBoth, type ConsoleActor } from './console-activity.ts';
import { createMemberAlerts } from './member-alerts.ts';

/** The actor: who, from where, and their role in the organization (null while blocked). */
export interface SecurityActor extends ConsoleActor {
  account: Account;
  role: Actor;
}
/** The member acted on, of this organization (console-queries.ts member). */
export interface MemberTarget {
  membership: Membership;
  account: Account;
}

export function createMemberSecurity(
  deps: Pick<
    Deps,
    | 'database'
    | 'repos'
    | 'config'
    | 'limiter'
    | 'mailer'
    | 'clock'
    | 'lockout'
    | 'secondStep'
    | 'accessRevoker'
    | 'accountChanges'
  >,
) {
  const queries = createConsoleQueries(deps.database.db);
  const alerts = createMemberAlerts(deps);
  const isSelf = (actor: SecurityActor, t: MemberTarget) => t.account.id === actor.account.id;

  /** Blocks or unblocks: the policy asked first on what the request saw, then again under the
   *  organization's lock on what the memberships are (console-queries.ts setBlocked). True when
   *  it changed. */
  async function setBlocked(actor: SecurityActor, org: Organization, t: MemberTarget, blocked: boolean) {
    const self = isSelf(actor, t);
    allow(canBlockMember(actor.role, t.membership.role, self));
    const change = { organizationId: org.id, actorId: actor.account.id, accountId: t.account.id, blocked };
    // Refused under the lock: forbidden (the actor was blocked or demoted meanwhile), or the target
    // is the last legal representative who can act.
    let refusal: 'forbidden' | 'last_legal_rep' = 'forbidden';
    const result = await queries.setBlocked(change, (role, target, n) => {
      if (!canBlockMember(role, target, self)) return false;
      if (!blocked || canBlockMember(role, target, self, n)) return true;
      refusal = 'last_legal_rep';
      return false;
    });
    if (result === 'refused') throw new AppError(refusal);
    if (result === 'not_member') throw new AppError('not_found');
    return result === 'done';
  }

  return {
    /** One member of this organization with their account; undefined for anyone else (404). */
    member: (organizationId: string, accountId: string) => queries.member(organizationId, accountId),
    async block(actor: SecurityActor, org: Organization, t: MemberTarget): Promise<void> {
      if (!(await setBlocked(actor, org, t, true))) return;
      deps.accountChanges.announce(t.account.id);
      await deps.accessRevoker.revokeMemberAccess(t.account.id, org.id);
      await recordBoth(deps.repos.activity, actor, 'org_member_blocked', { organization: org, member: t.account });
    },
    async unblock(actor: SecurityActor, org: Organization, t: MemberTarget): Promise<void> {
      if (await setBlocked(actor, org, t, false))
        await recordBoth(deps.repos.activity, actor, 'org_member_unblocked', { organization: org, member: t.account });
    },
    /** Only a locked account (or one of its browsers, locked by the member's own wrong answers):
     *  otherwise there is nothing to do, and nobody is emailed ('not_locked'). */
    async unlock(actor: SecurityActor, org: Organization, t: MemberTarget): Promise<'unlocked' | 'not_locked'> {
      allow(canUnlockMember(actor.role, isSelf(actor, t)));
      const locked = t.account.lockedAt || (await deps.repos.trustedDevices.anyLocked(t.account.id));
      if (!locked) return 'not_locked';
      if (await deps.lockout.unlock(t.account.id, 'organization', actor.info)) {
        await recordBoth(deps.repos.activity, actor, 'org_member_unlocked', { organization: org, member: t.account });
        const mail = { organization: org.name, by: actor.account.email, at: new Date(deps.clock.now()) };
        await deps.mailer.send(orgUnlockedEmail(deps.config.issuer, t.account, mail));
      }
      return 'unlocked';
    },
    /** A security alert about what the member's settings lack; rate_limited past its hourly limit. */
    async alert(actor: SecurityActor, org: Organization, t: MemberTarget): Promise<void> {
      allow(canAlertMember(actor.role, isSelf(actor, t)));
      const has2fa = await deps.secondStep.required(t.account.id);
      if (!(await alerts.send(actor, org, t.account, has2fa))) throw new AppError('rate_limited');
    },
  };
}
export type MemberSecurity = ReturnType<typeof createMemberSecurity>;
