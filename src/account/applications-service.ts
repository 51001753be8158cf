// Registering applications (OAuth clients): validation, client IDs and secrets. Secrets are shown
// once and stored only as an HMAC.
import { z } from 'zod';
import type { Config } from '../config.ts';
import { randomToken } from '../lib/crypto.ts';
import { hashClientSecret } from '../oidc/provider.ts';
import type { ApplicationsRepo, AppInput, Application } from '../db/repositories/applications.ts';
import type { OrganizationsRepo } from '../db/repositories/organizations.ts';
import { APP_TYPES } from '../db/schema.ts';
import type { Clock } from '../lib/clock.ts';

/** How long the previous secret keeps working after a new one, in minutes: up to 24 h, so a site
 *  can be given the new secret without an outage. The default hour is time enough to paste it into
 *  a site's settings and deploy, and short enough that a secret replaced because it leaked does not
 *  stay useful for long (that case should choose 0: the old secret stops at once). */
export const SECRET_GRACE_MAX_MINUTES = 24 * 60;
export const SECRET_GRACE_DEFAULT_MINUTES = 60;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Redirect URL rules: absolute, no fragment (RFC 6749 §3.1.2); https, or http on loopback — and on
 *  any host outside production, for test sites; custom schemes only for single-page/mobile apps. */
export function redirectUriProblem(
  value: string,
  opts: { production: boolean; allowCustomScheme: boolean },
): string | undefined {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return 'not_absolute';
  }
  if (u.hash || value.includes('#')) return 'fragment';
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:') return !opts.production || LOOPBACK.has(u.hostname) ? undefined : 'https_required';
  if (opts.allowCustomScheme && /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/i.test(u.protocol)) return undefined;
  return 'scheme';
}

function appInputSchema(production: boolean) {
  const uri = (allowCustomScheme: boolean) =>
    z
      .string()
      .trim()
      .max(2000)
      .superRefine((v, ctx) => {
        const p = redirectUriProblem(v, { production, allowCustomScheme });
        if (p) ctx.addIssue({ code: 'custom', message: p });
      });
  return z
    .object({
      name: z.string().trim().min(1).max(100),
      type: z.enum(APP_TYPES),
      redirectUris: z.array(z.string()).max(20).default([]),
      postLogoutRedirectUris: z.array(z.string()).max(20).default([]),
      backchannelLogoutUri: z.string().trim().max(2000).optional().nullable(),
    })
    .superRefine((v, ctx) => {
      const custom = v.type === 'spa';
      if (v.type === 'service' || v.type === 'mail_server') {
        if (v.redirectUris.length)
          ctx.addIssue({ code: 'custom', path: ['redirectUris'], message: `not_for_${v.type}` });
      } else if (!v.redirectUris.length)
        ctx.addIssue({ code: 'custom', path: ['redirectUris'], message: 'redirect_required' });
      for (const [field, list] of [
        ['redirectUris', v.redirectUris],
        ['postLogoutRedirectUris', v.postLogoutRedirectUris],
      ] as const) {
        for (const u of list) {
          const r = uri(custom).safeParse(u);
          if (!r.success)
            ctx.addIssue({ code: 'custom', path: [field], message: r.error.issues[0]?.message ?? 'invalid' });
        }
      }
      if (v.backchannelLogoutUri) {
        const r = uri(false).safeParse(v.backchannelLogoutUri);
        if (!r.success)
          ctx.addIssue({
            code: 'custom',
            path: ['backchannelLogoutUri'],
            message: r.error.issues[0]?.message ?? 'invalid',
          });
      }
    });
}

/** The client metadata cache in front of the provider (oidc/client-cache.ts): told of every change. */
interface ClientCache {
  invalidate(clientId: string): void;
}

export function createApplicationsService(deps: {
  config: Config;
  repos: { applications: ApplicationsRepo; organizations: OrganizationsRepo };
  clientCache: ClientCache;
  clock: Clock;
}) {
  const { config } = deps;
  const repo = deps.repos.applications;
  const changed = (clientIds: string[]) => clientIds.forEach((id) => deps.clientCache.invalidate(id));
  const newSecret = () => {
    const secret = randomToken(32);
    return { secret, hash: hashClientSecret(config.hashKey, secret) };
  };
  return {
    schema: appInputSchema(config.env === 'production'),
    /** Registers an application in `organizationId` (the Applications pages: the current
     *  organization); without it, in its creator's personal organization, or in the operator's
     *  when there is no creator (the command line). */
    async create(
      ownerId: string | null,
      input: AppInput,
      organizationId?: string,
    ): Promise<{ app: Application; clientSecret?: string }> {
      const orgId =
        organizationId ??
        (ownerId
          ? (await deps.repos.organizations.personalOf(ownerId))?.id
          : await deps.repos.organizations.operatorOrganizationId());
      if (!orgId) throw new Error(`applications: account ${ownerId} has no personal organization`);
      const clientId = randomToken(18);
      const secret = input.type === 'spa' ? undefined : newSecret();
      const app = await repo.create({ ownerId, organizationId: orgId }, input, clientId, secret?.hash ?? null);
      return { app, clientSecret: secret?.secret };
    },
    /** A new secret; the current one keeps working for `graceMinutes` (0: it stops at once). */
    async rotateSecret(app: Application, graceMinutes: number): Promise<string | undefined> {
      if (app.type === 'spa') return undefined;
      const { secret, hash } = newSecret();
      const minutes = Math.min(Math.max(0, Math.floor(graceMinutes)), SECRET_GRACE_MAX_MINUTES);
      const until = minutes > 0 ? new Date(deps.clock.now() + minutes * 60_000) : null;
      changed(await repo.rotateSecret(app.id, hash, until));
      return secret;
    },
    /** When the previous secret stops working, if it still does. */
    previousSecretUntil(app: Application): Date | undefined {
      const until = app.previousSecretHash ? app.previousSecretExpiresAt : null;
      return until && until.getTime() > deps.clock.now() ? until : undefined;
    },
    async endPreviousSecret(app: Application): Promise<void> {
      changed(await repo.endPreviousSecret(app.id));
    },
    async update(app: Application, input: Omit<AppInput, 'type'>): Promise<void> {
      changed(await repo.update(app.id, input));
    },
    /** Members only (the access page). The sign-in check reads the column itself at every
     *  authorization; the client cache forgets the application all the same, so nothing cached
     *  outlives a change. True when it changed. */
    async setMembersOnly(app: Application, membersOnly: boolean): Promise<boolean> {
      const touched = await repo.setMembersOnly(app.id, membersOnly);
      changed(touched);
      return touched.length > 0;
    },
    async delete(app: Application): Promise<void> {
      changed(await repo.delete(app.id));
    },
  };
}
export type ApplicationsService = ReturnType<typeof createApplicationsService>;
