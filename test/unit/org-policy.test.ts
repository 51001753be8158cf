// The organization policy (src/organizations/policy.ts), per role and action. These are the rules
// every page, API route and command asks; the HTTP tests that the pages ask them come with the pages.
import { describe, it, expect } from 'vitest';
import {
  effectiveRole,
  canManageMembers,
  canListMembers,
  canManageApplications,
  canManageApplication,
  canViewApplication,
  canDeleteApplication,
  canSetPolicy,
  canEditOrganization,
  canGrantLegalRep,
  canChangeRole,
  canRemoveMember,
  canLeave,
  canDeleteOrganization,
  keepsALegalRep,
  canInvite,
  type Actor,
  type Role,
} from '../../src/organizations/policy.ts';

const LEGAL: Role = 'legal_representative';
const ROLES: Role[] = [LEGAL, 'administrator', 'collaborator', 'external'];
/** Every actor: the four roles, and nobody (not a member, or blocked). */
const ACTORS: Actor[] = [...ROLES, null, undefined];
const who = (actor: Actor) => actor ?? 'nobody';

/** Which actors an action allows, over every actor. */
const allowed = (f: (a: Actor) => boolean) => ACTORS.filter(f).map(who);

describe('org policy', () => {
  it('invitations: who manages members invites, with the legal-representative role a legal representative only', () => {
    for (const role of ROLES)
      expect(
        allowed((a) => canInvite(a, role)),
        role,
      ).toEqual(role === LEGAL ? [LEGAL] : [LEGAL, 'administrator']);
  });

  it('a blocked member or a non-member has no role; an unblocked member has theirs', () => {
    expect(effectiveRole({ role: 'administrator', blockedAt: null })).toBe('administrator');
    expect(effectiveRole({ role: LEGAL, blockedAt: new Date() })).toBeNull();
    expect(effectiveRole(undefined)).toBeNull();
  });

  it('org.collaborator-cannot-manage-members: only administrators and legal representatives manage members', () => {
    expect(canManageMembers('collaborator')).toBe(false);
    expect(allowed(canManageMembers)).toEqual([LEGAL, 'administrator']);
  });

  it('org.external-cannot-list-members: only administrators and legal representatives list members', () => {
    expect(canListMembers('external')).toBe(false);
    expect(canListMembers('collaborator')).toBe(false);
    expect(allowed(canListMembers)).toEqual([LEGAL, 'administrator']);
  });

  it('applications, policy and the organization itself: administrators and legal representatives', () => {
    for (const f of [canManageApplications, canSetPolicy, canEditOrganization])
      expect(allowed(f), f.name).toEqual([LEGAL, 'administrator']);
  });

  it('a collaborator manages only the applications granted to them; an external user none', () => {
    expect(allowed((a) => canManageApplication(a, true))).toEqual([LEGAL, 'administrator', 'collaborator']);
    expect(allowed((a) => canManageApplication(a, false))).toEqual([LEGAL, 'administrator']);
  });

  it('only an administrator or a legal representative deletes an application (a collaborator edits a granted one)', () => {
    expect(allowed(canDeleteApplication)).toEqual([LEGAL, 'administrator']);
  });

  it('a collaborator or an external user sees only the applications granted to them; nobody sees any', () => {
    expect(allowed((a) => canViewApplication(a, true))).toEqual([LEGAL, 'administrator', 'collaborator', 'external']);
    expect(allowed((a) => canViewApplication(a, false))).toEqual([LEGAL, 'administrator']);
  });

  it('org.admin-cannot-grant-legal-rep: only a legal representative grants or takes the role', () => {
    expect(canGrantLegalRep('administrator')).toBe(false);
    expect(allowed(canGrantLegalRep)).toEqual([LEGAL]);
    // An administrator can neither make someone legal representative nor demote one (with two
    // legal representatives, so that the last-one rule is not what refuses).
    expect(canChangeRole('administrator', 'collaborator', LEGAL, 2)).toBe(false);
    expect(canChangeRole('administrator', LEGAL, 'collaborator', 2)).toBe(false);
    expect(canChangeRole('administrator', 'administrator', LEGAL, 2)).toBe(false);
    expect(canRemoveMember('administrator', LEGAL, 2)).toBe(false);
    // A legal representative can do both.
    expect(canChangeRole(LEGAL, 'collaborator', LEGAL, 1)).toBe(true);
    expect(canChangeRole(LEGAL, LEGAL, 'administrator', 2)).toBe(true);
    expect(canRemoveMember(LEGAL, LEGAL, 2)).toBe(true);
  });

  it('role changes among the other roles: administrators and legal representatives, nobody else', () => {
    for (const from of ROLES.slice(1))
      for (const to of ROLES.slice(1))
        expect(
          allowed((a) => canChangeRole(a, from, to, 1)),
          `${from} → ${to}`,
        ).toEqual([LEGAL, 'administrator']);
  });

  it('the last legal representative can be neither demoted nor removed, by anyone', () => {
    for (const to of ROLES.slice(1)) {
      expect(canChangeRole(LEGAL, LEGAL, to, 1), to).toBe(false);
      expect(keepsALegalRep(LEGAL, to, 1)).toBe(false);
    }
    expect(canRemoveMember(LEGAL, LEGAL, 1)).toBe(false);
    expect(keepsALegalRep(LEGAL, null, 1)).toBe(false);
    // Staying legal representative is no demotion; other members' changes never concern the rule.
    expect(keepsALegalRep(LEGAL, LEGAL, 1)).toBe(true);
    expect(keepsALegalRep('administrator', null, 1)).toBe(true);
  });

  it('removing members other than legal representatives: administrators and legal representatives', () => {
    for (const target of ROLES.slice(1))
      expect(
        allowed((a) => canRemoveMember(a, target, 1)),
        target,
      ).toEqual([LEGAL, 'administrator']);
  });

  it('org.last-legal-rep-cannot-leave: the last legal representative stays; every other member may leave', () => {
    expect(canLeave(LEGAL, 1)).toBe(false);
    expect(canLeave(LEGAL, 2)).toBe(true);
    for (const role of ROLES.slice(1)) expect(canLeave(role, 1), role).toBe(true);
  });

  it('an organization is deleted by a legal representative once no other member and no application is left', () => {
    expect(allowed((a) => canDeleteOrganization(a, 1, 0))).toEqual([LEGAL]);
    expect(canDeleteOrganization(LEGAL, 2, 0)).toBe(false);
    expect(canDeleteOrganization(LEGAL, 1, 1)).toBe(false);
    expect(canDeleteOrganization(LEGAL, 0, 0)).toBe(true);
  });
});
