// Invitations by email (migration 0011). The link's token is never stored: only its HMAC
// (organizations/invitations.ts computes it). An invitation is spent by one conditional UPDATE …
// RETURNING inside the transaction that adds the membership, so two accepts at once make one
// member and a spent, revoked or expired link adds nobody.
import crypto from 'node:crypto';
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import {
  accounts,
  invitations,
  memberships,
  organizations,
  type Account,
  type Invitation,
  type Role,
} from '../schema.ts';
import { insertAccount, normalizeEmail, type NewAccount } from './accounts.ts';

export type { Invitation };

const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);

/** Still usable: not accepted, not revoked, not expired (the database's clock decides, as it does
 *  in the consuming UPDATE). */
/** An invitation speaks for whoever sent it: it is good only while they still may invite to that
 *  role (a member, not blocked, administrator or legal representative — legal representative for
 *  that role). Blocking, removing or demoting the inviter voids what they sent. */
const inviterMayStill = sql`EXISTS (SELECT 1 FROM memberships i
  WHERE i.organization_id = ${invitations.organizationId} AND i.account_id = ${invitations.invitedBy}
    AND i.blocked_at IS NULL AND i.role IN ('legal_representative', 'administrator')
    AND (${invitations.role} <> 'legal_representative' OR i.role = 'legal_representative'))`;

const open = sql`${invitations.acceptedAt} IS NULL AND ${invitations.revokedAt} IS NULL AND ${invitations.expiresAt} > now()
  AND ${inviterMayStill}`;

/** An open invitation as its page shows it: the organization and who invited. */
export interface OpenInvitation extends Invitation {
  organizationName: string;
  inviterName: string | null;
  inviterEmail: string | null;
}

/** Rolls the transaction back, carrying why (the membership or the account must not be half made). */
class Abort extends Error {
  constructor(readonly reason: 'already_member' | 'email_taken') {
    super(reason);
  }
}

export type AcceptResult =
  { ok: true; invitation: Invitation } | { ok: false; reason: 'link_invalid' | 'already_member' | 'email_taken' };

export function createInvitationsRepo(db: Db) {
  /** Spends the invitation in one statement: only the first caller gets it back. */
  async function consume(tx: Db, tokenHash: string, accountId: string | null): Promise<Invitation | undefined> {
    const [row] = await tx
      .update(invitations)
      .set({ acceptedAt: sql`now()`, acceptedBy: accountId })
      .where(and(eq(invitations.tokenHash, tokenHash), open))
      .returning();
    return row;
  }

  /** The membership with the invited role, and the organization made the account's current one. */
  async function join(tx: Db, invitation: Invitation, accountId: string): Promise<void> {
    const added = await tx
      .insert(memberships)
      .values({ organizationId: invitation.organizationId, accountId, role: invitation.role })
      .onConflictDoNothing()
      .returning({ accountId: memberships.accountId });
    if (!added.length) throw new Abort('already_member');
    await tx
      .update(accounts)
      .set({ currentOrganizationId: invitation.organizationId })
      .where(eq(accounts.id, accountId));
  }

  /** Runs `work` in a transaction; an Abort rolls it back and becomes a refusal. */
  async function attempt(work: (tx: Db) => Promise<AcceptResult>): Promise<AcceptResult> {
    try {
      return await db.transaction((tx) => work(tx as unknown as Db));
    } catch (err) {
      if (err instanceof Abort) return { ok: false, reason: err.reason };
      throw err;
    }
  }

  return {
    /** A new invitation; the open ones for the same address in the organization are revoked (the
     *  newest link replaces them). */
    async create(input: {
      organizationId: string;
      email: string;
      role: Role;
      tokenHash: string;
      invitedBy: string;
      expiresAt: Date;
    }): Promise<Invitation> {
      return db.transaction(async (tx) => {
        await tx
          .update(invitations)
          .set({ revokedAt: sql`now()` })
          .where(
            and(
              eq(invitations.organizationId, input.organizationId),
              sql`lower(${invitations.email}) = ${normalizeEmail(input.email)}`,
              open,
            ),
          );
        const [row] = await tx
          .insert(invitations)
          .values({ id: crypto.randomUUID(), ...input, email: normalizeEmail(input.email) })
          .returning();
        if (!row) throw new Error('invitations: insert returned no row');
        return row;
      });
    },
    /** The open invitations of an organization, newest first, with who sent each. */
    async pending(organizationId: string): Promise<Array<Invitation & { inviterEmail: string | null }>> {
      const rows = await db
        .select({ invitation: invitations, inviterEmail: accounts.email })
        .from(invitations)
        .leftJoin(accounts, eq(accounts.id, invitations.invitedBy))
        .where(and(eq(invitations.organizationId, organizationId), open))
        .orderBy(desc(invitations.createdAt));
      return rows.map((r) => ({ ...r.invitation, inviterEmail: r.inviterEmail }));
    },
    /** Revokes an open invitation of this organization (an id of another one revokes nothing). */
    async revoke(organizationId: string, id: string): Promise<Invitation | undefined> {
      if (!isUuid(id)) return undefined;
      const [row] = await db
        .update(invitations)
        .set({ revokedAt: sql`now()` })
        .where(and(eq(invitations.id, id), eq(invitations.organizationId, organizationId), open))
        .returning();
      return row;
    },
    /** Looks at an open invitation without spending it (the page that shows it). */
    async findOpen(tokenHash: string): Promise<OpenInvitation | undefined> {
      const [row] = await db
        .select({
          invitation: invitations,
          organizationName: organizations.name,
          inviterName: accounts.name,
          inviterEmail: accounts.email,
        })
        .from(invitations)
        .innerJoin(organizations, eq(organizations.id, invitations.organizationId))
        .leftJoin(accounts, eq(accounts.id, invitations.invitedBy))
        .where(and(eq(invitations.tokenHash, tokenHash), open))
        .limit(1);
      if (!row) return undefined;
      const { invitation, ...about } = row;
      return { ...invitation, ...about };
    },
    /** An existing account accepts: the invitation spent and the membership added together. The
     *  caller has checked that the account's address is the invited one. */
    async accept(tokenHash: string, accountId: string): Promise<AcceptResult> {
      return attempt(async (tx) => {
        const invitation = await consume(tx, tokenHash, accountId);
        if (!invitation) return { ok: false, reason: 'link_invalid' };
        await join(tx, invitation, accountId);
        return { ok: true, invitation };
      });
    },
    /** Sign-up from the link: the account (its address the invited one, verified: the link proves
     *  the mailbox), its personal organization, the spent invitation and the membership, all or
     *  nothing. */
    async signUp(
      tokenHash: string,
      input: Omit<NewAccount, 'email' | 'emailVerified'>,
    ): Promise<{ ok: true; invitation: Invitation; account: Account } | Extract<AcceptResult, { ok: false }>> {
      let account: Account | undefined;
      const result = await attempt(async (tx) => {
        const invitation = await consume(tx, tokenHash, null);
        if (!invitation) return { ok: false, reason: 'link_invalid' };
        account = await insertAccount(tx, { ...input, email: invitation.email, emailVerified: true });
        if (!account) throw new Abort('email_taken');
        await tx.update(invitations).set({ acceptedBy: account.id }).where(eq(invitations.id, invitation.id));
        await join(tx, invitation, account.id);
        return { ok: true, invitation };
      });
      if (!result.ok) return result;
      if (!account) throw new Error('invitations: sign-up made no account');
      return { ...result, account };
    },
  };
}
export type InvitationsRepo = ReturnType<typeof createInvitationsRepo>;
