import crypto from 'node:crypto';
import { and, eq, desc, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { applications, type Application, type AppType } from '../schema.ts';

export type { Application, AppType };

export interface AppInput {
  name: string;
  type: AppType;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri?: string | null;
}

/** Every change returns the client_id it touched, for the provider's client cache to forget. */
export function createApplicationsRepo(db: Db) {
  return {
    async findByClientId(clientId: string): Promise<Application | undefined> {
      const [row] = await db.select().from(applications).where(eq(applications.clientId, clientId)).limit(1);
      return row;
    },
    async listByOwner(ownerId: string): Promise<Application[]> {
      return db
        .select()
        .from(applications)
        .where(eq(applications.ownerId, ownerId))
        .orderBy(desc(applications.createdAt));
    },
    async findOwned(ownerId: string, id: string): Promise<Application | undefined> {
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined;
      const [row] = await db
        .select()
        .from(applications)
        .where(and(eq(applications.id, id), eq(applications.ownerId, ownerId)))
        .limit(1);
      return row;
    },
    async create(
      owner: { ownerId: string | null; organizationId: string },
      input: AppInput,
      clientId: string,
      secretHash: string | null,
    ): Promise<Application> {
      const [row] = await db
        .insert(applications)
        .values({
          id: crypto.randomUUID(),
          clientId,
          ownerId: owner.ownerId,
          organizationId: owner.organizationId,
          name: input.name,
          type: input.type,
          redirectUris: input.redirectUris,
          postLogoutRedirectUris: input.postLogoutRedirectUris,
          backchannelLogoutUri: input.backchannelLogoutUri ?? null,
          secretHash,
        })
        .returning();
      if (!row) throw new Error('applications: insert returned no row');
      return row;
    },
    async update(id: string, input: Omit<AppInput, 'type'>): Promise<string[]> {
      const rows = await db
        .update(applications)
        .set({
          name: input.name,
          redirectUris: input.redirectUris,
          postLogoutRedirectUris: input.postLogoutRedirectUris,
          backchannelLogoutUri: input.backchannelLogoutUri ?? null,
          updatedAt: new Date(),
        })
        .where(eq(applications.id, id))
        .returning({ clientId: applications.clientId });
      return rows.map((r) => r.clientId);
    },
    /** A new secret in one statement: the current one becomes the previous one until `previousUntil`
     *  (SET reads the row as it was), or is dropped at once when there is no grace period. */
    async rotateSecret(id: string, secretHash: string, previousUntil: Date | null): Promise<string[]> {
      const rows = await db
        .update(applications)
        .set({
          secretHash,
          previousSecretHash: previousUntil ? sql`${applications.secretHash}` : null,
          previousSecretExpiresAt: previousUntil,
          updatedAt: new Date(),
        })
        .where(eq(applications.id, id))
        .returning({ clientId: applications.clientId });
      return rows.map((r) => r.clientId);
    },
    /** Ends the previous secret's grace period now. */
    async endPreviousSecret(id: string): Promise<string[]> {
      const rows = await db
        .update(applications)
        .set({ previousSecretHash: null, previousSecretExpiresAt: null, updatedAt: new Date() })
        .where(eq(applications.id, id))
        .returning({ clientId: applications.clientId });
      return rows.map((r) => r.clientId);
    },
    async delete(id: string): Promise<string[]> {
      const rows = await db
        .delete(applications)
        .where(eq(applications.id, id))
        .returning({ clientId: applications.clientId });
      return rows.map((r) => r.clientId);
    },
  };
}
export type ApplicationsRepo = ReturnType<typeof createApplicationsRepo>;
