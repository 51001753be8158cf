// Registering applications (OAuth clients): validation, client IDs and secrets. Secrets are shown
// once and stored only as an HMAC.
import { z } from 'zod';
import type { Config } from '../config.ts';
import { randomToken } from '../lib/crypto.ts';
import { hashClientSecret } from '../oidc/provider.ts';
import type { ApplicationsRepo, AppInput, Application } from '../db/repositories/applications.ts';
import { APP_TYPES } from '../db/schema.ts';

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
      if (v.type === 'service') {
        if (v.redirectUris.length) ctx.addIssue({ code: 'custom', path: ['redirectUris'], message: 'not_for_service' });
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
  repos: { applications: ApplicationsRepo };
  clientCache: ClientCache;
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
    async create(ownerId: string | null, input: AppInput): Promise<{ app: Application; clientSecret?: string }> {
      const clientId = randomToken(18);
      const secret = input.type === 'spa' ? undefined : newSecret();
      const app = await repo.create(ownerId, input, clientId, secret?.hash ?? null);
      return { app, clientSecret: secret?.secret };
    },
    async rotateSecret(app: Application): Promise<string | undefined> {
      if (app.type === 'spa') return undefined;
      const { secret, hash } = newSecret();
      changed(await repo.setSecretHash(app.id, hash));
      return secret;
    },
    async update(app: Application, input: Omit<AppInput, 'type'>): Promise<void> {
      changed(await repo.update(app.id, input));
    },
    async delete(app: Application): Promise<void> {
      changed(await repo.delete(app.id));
    },
  };
}
export type ApplicationsService = ReturnType<typeof createApplicationsService>;
