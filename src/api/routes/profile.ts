// /1/profile: the signed-in user as code written for Infomaniak's API reads it (data.id an integer,
// login, email, firstname, lastname, display_name…).
import { z } from 'zod';
import type { Account } from '../../db/repositories/accounts.ts';
import { nameClaims } from '../../oidc/account.ts';
import { defineRoute, type ApiRoute } from '../route.ts';

export const Profile = z.object({
  id: z.number().int().meta({ description: "The user's integer id (Infomaniak clients decode it as an int)." }),
  user_id: z.number().int().meta({ description: 'The same id, as Infomaniak names it elsewhere.' }),
  sub: z.string().meta({ description: 'The OpenID Connect subject (the `sub` of ID tokens and userinfo).' }),
  login: z.string(),
  email: z.string(),
  email_verified: z.boolean(),
  firstname: z.string(),
  lastname: z.string(),
  display_name: z.string(),
  avatar: z.string().nullable().meta({ description: 'Always null: Sesame keeps no pictures.' }),
  language: z.string().meta({ description: 'en, fr, de, it or es.' }),
  locale: z.string(),
  timezone: z.string().meta({ description: 'An IANA time zone, e.g. Europe/Zurich.' }),
  created_at: z.iso.datetime(),
});

export function profileOf(account: Account): z.input<typeof Profile> {
  const names = nameClaims(account);
  return {
    id: account.userId,
    user_id: account.userId,
    sub: account.id,
    login: account.email,
    email: account.email,
    email_verified: account.emailVerified,
    firstname: names.given_name,
    lastname: names.family_name,
    display_name: names.name,
    avatar: null,
    language: account.locale,
    locale: account.locale,
    timezone: account.zoneinfo,
    created_at: account.createdAt.toISOString(),
  };
}

export function profileRoutes(): ApiRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/profile',
      operationId: 'getProfile',
      summary: 'The signed-in user',
      tag: 'Profile',
      scopes: ['profile:read', 'profile:write'],
      // Infomaniak clients may ask for more (?with=…); nothing more is kept, and asking is no error.
      query: z.object({ with: z.string().max(200).optional() }),
      response: Profile,
      handler: async ({ principal }) => profileOf(principal.account),
    }),
  ];
}
