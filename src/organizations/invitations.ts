// Invitations by email: the link carries a 256-bit random token kept only as an HMAC with the
// server's hash key (as every link in an email: account/email-verification.ts), valid 7 days,
// single use. Inviting answers the same whether or not the address has an account (only the email's
// language differs, and it leaves after the answer); accepting it needs the invited address,
// signed in, or a new account made from the link with that address already verified.
import type { Config } from '../config.ts';
import { hmac, isLinkToken, randomToken } from '../lib/crypto.ts';
import type { InvitationsRepo, OpenInvitation } from '../db/repositories/invitations.ts';
import type { AccountsRepo, Account } from '../db/repositories/accounts.ts';
import type { OrganizationsRepo, Organization } from '../db/repositories/organizations.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { Invitation } from '../db/schema.ts';
import type { Mailer } from '../notify/mailer.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { RequestInfo } from '../http/request-info.ts';
import { greetingName } from '../notify/emails.ts';
import { localeOf } from '../http/i18n.ts';
import { AppError } from '../errors.ts';
import { invitationEmail } from './invitation-emails.ts';
import type { Role } from './policy.ts';

const PURPOSE = 'org_invitation';
export const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;
/** Invitations one organization may send per hour: enough for onboarding a team, too few to turn
 *  Sesame into a mail cannon. */
export const INVITATIONS_PER_HOUR = 20;

export function createInvitations(deps: {
  config: Config;
  repos: {
    invitations: InvitationsRepo;
    accounts: AccountsRepo;
    organizations: OrganizationsRepo;
    activity: ActivityRepo;
  };
  /** Deferred: the answer's time does not depend on the address having an account. */
  mailer: Mailer;
  limiter: RateLimiter;
}) {
  const { config, limiter } = deps;
  const repo = deps.repos.invitations;
  const hashOf = (token: string) => hmac(config.hashKey, `${PURPOSE}:${token}`);

  /** org_joined in the new member's log and in the inviter's. */
  async function recordJoined(invitation: Invitation, member: Account, info: RequestInfo) {
    const org = await deps.repos.organizations.findById(invitation.organizationId);
    const inviter = invitation.invitedBy ? await deps.repos.accounts.findById(invitation.invitedBy) : undefined;
    const base = { organization: org?.name ?? '', organizationId: invitation.organizationId, to: invitation.role };
    const seen = { ip: info.ip, device: info.device };
    await deps.repos.activity.record({
      accountId: member.id,
      type: 'org_joined',
      ...seen,
      details: { ...base, ...(inviter ? { by: inviter.email } : {}) },
    });
    if (inviter)
      await deps.repos.activity.record({
        accountId: inviter.id,
        type: 'org_joined',
        ...seen,
        details: { ...base, member: member.email },
      });
  }

  /** The open invitation a link is for; every other link (unknown, spent, revoked, expired) is the
   *  same link_invalid. */
  async function openInvitation(token: string): Promise<OpenInvitation> {
    const found = isLinkToken(token) ? await repo.findOpen(hashOf(token)) : undefined;
    if (!found) throw new AppError('link_invalid');
    return found;
  }

  /** Whether `account` is the one invited: its confirmed address, in any case. */
  const isFor = (invitation: Pick<Invitation, 'email'>, account: Account) =>
    account.emailVerified && account.email.toLowerCase() === invitation.email.toLowerCase();

  return {
    async invite(org: Organization, inviter: Account, input: { email: string; role: Role }, info: RequestInfo) {
      const { email, role } = input;
      // Per organization, per inviter (who could make organizations to invite from) and per
      // recipient, counted with every other email sent to that address.
      const allowed =
        (await limiter.hit('org-invite', org.id, INVITATIONS_PER_HOUR, 3600)) &&
        (await limiter.hit('org-invite-by', inviter.id, INVITATIONS_PER_HOUR, 3600)) &&
        (await limiter.hit('email', email, config.rateLimits.emailPerRecipient, 3600));
      if (!allowed) throw new AppError('rate_limited');
      const existing = await deps.repos.accounts.findByEmail(email);
      // The admin sees the members anyway: saying so reveals nothing.
      if (existing && (await deps.repos.organizations.membership(org.id, existing.id)))
        throw new AppError('already_member', { fields: ['email'] });
      const token = randomToken(32);
      const invitation = await repo.create({
        organizationId: org.id,
        email,
        role,
        tokenHash: hashOf(token),
        invitedBy: inviter.id,
        expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
      });
      await deps.mailer.send(
        invitationEmail(localeOf(existing ?? inviter), invitation.email, {
          role,
          link: `${config.issuer}/invitation/${token}`,
          greet: existing ? greetingName(existing, invitation.email) : undefined,
        }),
      );
      await deps.repos.activity.record({
        accountId: inviter.id,
        type: 'org_invited',
        ip: info.ip,
        device: info.device,
        details: { organization: org.name, organizationId: org.id, member: invitation.email, to: role },
      });
      return invitation;
    },
    async revoke(org: Organization, actor: Account, id: string, info: RequestInfo) {
      const revoked = await repo.revoke(org.id, id);
      if (!revoked) throw new AppError('not_found');
      await deps.repos.activity.record({
        accountId: actor.id,
        type: 'org_invitation_revoked',
        ip: info.ip,
        device: info.device,
        details: { organization: org.name, organizationId: org.id, member: revoked.email, to: revoked.role },
      });
    },
    open: openInvitation,
    isFor,
    async accept(token: string, account: Account, info: RequestInfo): Promise<Invitation> {
      const invitation = await openInvitation(token);
      if (!isFor(invitation, account)) throw new AppError('invitation_other_email');
      const result = await repo.accept(hashOf(token), account.id);
      if (!result.ok) throw new AppError(result.reason === 'already_member' ? 'already_member' : 'link_invalid');
      await recordJoined(result.invitation, account, info);
      return result.invitation;
    },
    /** The new account with the invitation's address; 'email_taken' leaves nothing made. */
    async signUp(
      token: string,
      input: { passwordHash: string; name: string; givenName: string; familyName: string; locale: string },
      info: RequestInfo,
    ): Promise<'done' | 'email_taken'> {
      if (!isLinkToken(token)) throw new AppError('link_invalid');
      const result = await repo.signUp(hashOf(token), input);
      if (!result.ok) {
        if (result.reason === 'email_taken') return 'email_taken';
        throw new AppError('link_invalid');
      }
      await recordJoined(result.invitation, result.account, info);
      return 'done';
    },
  };
}
export type Invitations = ReturnType<typeof createInvitations>;
