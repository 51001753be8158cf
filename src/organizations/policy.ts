// What each role may do in an organization: the only place that decides it. Pages, the API and the
// command line ask these functions and never decide by hiding a button. Every function is pure: the
// caller passes the actor's role as read from its membership — or null when the actor is not a
// member or is blocked (effectiveRole), who may do nothing.
import type { Membership, Role } from '../db/schema.ts';

export type { Role };
/** The actor's role, or null: not a member, or a blocked one. */
export type Actor = Role | null | undefined;

/** A blocked member keeps the role (unblocking restores it) but may do nothing meanwhile. */
export function effectiveRole(membership: Pick<Membership, 'role' | 'blockedAt'> | undefined): Actor {
  return membership && !membership.blockedAt ? membership.role : null;
}

const isAdmin = (r: Actor) => r === 'legal_representative' || r === 'administrator';

/** Invite, add, block, unblock, unlock and alert members; create teams and grant access. */
export const canManageMembers = (actor: Actor) => isAdmin(actor);

/** See the member list and a member's page: administrators and legal representatives. A
 *  collaborator works on the applications granted to them and an external user only sees those:
 *  neither learns who else belongs to the organization. */
export const canListMembers = (actor: Actor) => isAdmin(actor);

/** Create applications and manage every application of the organization. */
export const canManageApplications = (actor: Actor) => isAdmin(actor);

/** Change one application: an administrator any, a collaborator one granted to them (directly or
 *  through a team); an external user none. */
export const canManageApplication = (actor: Actor, granted: boolean) =>
  isAdmin(actor) || (actor === 'collaborator' && granted);

/** Delete an application: only who manages every application of the organization. A collaborator
 *  keeps a granted one working (edit, new secret) but cannot take away a sign-in others rely on. */
export const canDeleteApplication = (actor: Actor) => isAdmin(actor);

/** See one application: an administrator any, a collaborator or an external user one granted to them. */
export const canViewApplication = (actor: Actor, granted: boolean) =>
  isAdmin(actor) || ((actor === 'collaborator' || actor === 'external') && granted);

/** The security console: require 2FA, members-only applications. */
export const canSetPolicy = (actor: Actor) => isAdmin(actor);

/** Name, type, address, phone. */
export const canEditOrganization = (actor: Actor) => isAdmin(actor);

/** Only a legal representative grants or takes the legal-representative role. */
export const canGrantLegalRep = (actor: Actor) => actor === 'legal_representative';

/** Whether a change leaves the organization with a legal representative: `to` null is the member
 *  going (removed or leaving). The one rule the command line, which has no role, obeys too. */
export function keepsALegalRep(from: Role, to: Role | null, legalRepCount: number): boolean {
  return from !== 'legal_representative' || to === 'legal_representative' || legalRepCount > 1;
}

/** Invite someone with `role`: who manages members; with the legal-representative role, only a
 *  legal representative (who alone grants it). */
export const canInvite = (actor: Actor, role: Role) =>
  canManageMembers(actor) && (role !== 'legal_representative' || canGrantLegalRep(actor));

/** Change a member's role (the actor's own too). */
export function canChangeRole(actor: Actor, from: Role, to: Role, legalRepCount: number): boolean {
  if (!isAdmin(actor)) return false;
  if ((from === 'legal_representative' || to === 'legal_representative') && !canGrantLegalRep(actor)) return false;
  return keepsALegalRep(from, to, legalRepCount);
}

/** Remove another member: taking a legal representative out takes their role, so only a legal
 *  representative may, and never the last one. */
export function canRemoveMember(actor: Actor, target: Role, legalRepCount: number): boolean {
  if (!isAdmin(actor)) return false;
  if (target === 'legal_representative' && !canGrantLegalRep(actor)) return false;
  return keepsALegalRep(target, null, legalRepCount);
}

/** Leave: any member (a blocked one too: leaving takes nothing from anyone), but not the last legal
 *  representative. */
export const canLeave = (role: Role, legalRepCount: number) => keepsALegalRep(role, null, legalRepCount);

/** Delete the organization: a legal representative, once nobody else is a member (memberCount
 *  counts the actor) and no application is left. It never deletes an account. */
export const canDeleteOrganization = (actor: Actor, memberCount: number, appCount: number) =>
  actor === 'legal_representative' && memberCount <= 1 && appCount === 0;

// Security console

/** Block or unblock another member (never oneself: an admin cannot lock themselves out, nor undo
 *  their own block). Blocking a legal representative takes what their role gives, so only a legal
 *  representative may, as for removing one. */
export function canBlockMember(actor: Actor, target: Role, self: boolean, legalRepCount?: number): boolean {
  if (!isAdmin(actor) || self) return false;
  if (target !== 'legal_representative') return true;
  // Blocking: the organization keeps a legal representative who can act (the count, when given,
  // is the target plus the unblocked others: organizations.ts legalRepCount).
  return canGrantLegalRep(actor) && (legalRepCount === undefined || legalRepCount > 1);
}

/** Unlock another member's locked account (one's own is unlocked by its link or a sign-in). */
export const canUnlockMember = (actor: Actor, self: boolean) => isAdmin(actor) && !self;

/** Send a member (or every member without 2FA) a security alert about their settings; `self`: the
 *  actor is that member (nobody is sent an alert about their own settings by themselves). */
export const canAlertMember = (actor: Actor, self = false) => isAdmin(actor) && !self;

/** A member an organization requires 2FA of may leave it instead only as an external user: the
 *  others work for the organization and enrol. */
export const canLeaveInsteadOf2fa = (role: Role) => role === 'external';
