// /1/security: the security overview the Security page shows — two-step verification on or off,
// each method by type and name, the default one, backup codes left, recovery contacts, lockout and
// alerts (account/security-service.ts). Never a secret, seed or credential id; SMS numbers and
// recovery contacts are masked.
import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../route.ts';
import type { ApiRouteDeps } from './deps.ts';

const MethodType = z.enum(['totp', 'webauthn', 'sms', 'push']).meta({
  description: 'totp: an authenticator app; webauthn: a security key or passkey; sms: text messages; push: the app.',
});

const Method = z.object({
  id: z.string().meta({ description: "The method's id (as on the Security page)." }),
  type: MethodType,
  name: z.string(),
  is_default: z.boolean(),
  phone: z.string().nullable().meta({ description: 'sms: the number, masked (+41 •••••••67); null for other types.' }),
  created_at: z.iso.datetime(),
  last_used_at: z.iso.datetime().nullable(),
});

const SecurityOverview = z.object({
  two_factor_enabled: z.boolean().meta({ description: 'On as soon as one method is added.' }),
  methods: z.array(Method),
  default_method: z
    .object({ id: z.string(), type: MethodType, name: z.string() })
    .nullable()
    .meta({ description: 'The method asked for first at sign-in; null when two-step verification is off.' }),
  backup_codes_left: z.number().int().min(0).meta({ description: 'Unused backup codes (0 when 2FA is off).' }),
  recovery: z.object({
    email: z.string().nullable().meta({ description: 'The recovery email, masked (a•••@e•••.com); null: none.' }),
    phone: z.string().nullable().meta({ description: 'The recovery mobile, masked; null: none.' }),
  }),
  lockout_threshold: z
    .number()
    .int()
    .meta({ description: 'Failed attempts in a row after which the account locks itself.' }),
  alerts: z.object({
    every_sign_in: z.boolean().meta({ description: 'An email at every sign-in.' }),
    failed_password: z.boolean().meta({ description: 'An email after a wrong password.' }),
  }),
});

export function securityRoutes(deps: Pick<ApiRouteDeps, 'security'>): ApiRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/security',
      operationId: 'getSecurity',
      summary: 'The security overview',
      description: 'What the Security page shows. Secrets, seeds and credentials are never part of it.',
      tag: 'Security',
      scopes: ['security:read'],
      response: SecurityOverview,
      handler: async ({ principal }) => {
        const s = await deps.security.summary(principal.account);
        const def = s.defaultFactor;
        return {
          two_factor_enabled: s.enabled,
          methods: s.factors.map((f) => ({
            id: f.id,
            type: f.type,
            name: f.name,
            is_default: f.isDefault,
            phone: f.type === 'sms' ? (f.detail ?? null) : null,
            created_at: f.createdAt.toISOString(),
            last_used_at: f.lastUsedAt?.toISOString() ?? null,
          })),
          default_method: def ? { id: def.id, type: def.type, name: def.name } : null,
          backup_codes_left: s.backupCodesLeft,
          recovery: s.recovery,
          lockout_threshold: s.protection.lockoutThreshold,
          alerts: {
            every_sign_in: s.protection.alertEverySignIn,
            failed_password: s.protection.alertFailedPassword,
          },
        };
      },
    }),
  ];
}
