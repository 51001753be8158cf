// The security console's policy (the end of src/organizations/policy.ts): block, unblock, unlock,
// alert, and leaving instead of enrolling — per role, for oneself and for another member.
import { describe, it, expect } from 'vitest';
import {
  canBlockMember,
  canUnlockMember,
  canAlertMember,
  canLeaveInsteadOf2fa,
  type Actor,
  type Role,
} from '../../src/organizations/policy.ts';

const LEGAL: Role = 'legal_representative';
const ROLES: Role[] = [LEGAL, 'administrator', 'collaborator', 'external'];
const ACTORS: Actor[] = [...ROLES, null, undefined];
const who = (actor: Actor) => actor ?? 'nobody';
const allowed = (f: (a: Actor) => boolean) => ACTORS.filter(f).map(who);

describe('security console policy', () => {
  it('block and unblock: administrators and legal representatives, never themselves', () => {
    for (const target of ['administrator', 'collaborator', 'external'] as Role[])
      expect(allowed((a) => canBlockMember(a, target, false))).toEqual([LEGAL, 'administrator']);
    for (const target of ROLES) expect(allowed((a) => canBlockMember(a, target, true))).toEqual([]);
  });

  it('only a legal representative blocks a legal representative', () => {
    expect(allowed((a) => canBlockMember(a, LEGAL, false))).toEqual([LEGAL]);
  });

  it('unlock: administrators and legal representatives, for another member', () => {
    expect(allowed((a) => canUnlockMember(a, false))).toEqual([LEGAL, 'administrator']);
    expect(allowed((a) => canUnlockMember(a, true))).toEqual([]);
  });

  it('security alerts: administrators and legal representatives', () => {
    expect(allowed((a) => canAlertMember(a))).toEqual([LEGAL, 'administrator']);
    // Nobody alerts themselves about their own settings.
    expect(allowed((a) => canAlertMember(a, true))).toEqual([]);
  });

  it('only an external user may leave instead of enrolling', () => {
    expect(ROLES.filter(canLeaveInsteadOf2fa)).toEqual(['external']);
  });
});
