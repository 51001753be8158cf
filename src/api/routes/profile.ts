// /1/profile: the signed-in user as code written for Infomaniak's API reads it (data.id an integer,
// login, email, firstname, lastname, display_name…), and PATCH to change names, language and time
// zone with the Profile page's own rules and service (account/profile-service.ts).
import { z } from 'zod';
import type { Account } from '../../db/repositories/accounts.ts';
import { profileRules } from '../../account/profile-service.ts';
import { requestInfo } from '../../http/request-info.ts';
import { nameClaims } from '../../oidc/account.ts';
import { defineRoute, type ApiRoute } from '../route.ts';
import type { ApiRouteDeps } from './deps.ts';

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

/** What PATCH /profile may change; a field left out stays as it is. */
const ProfileChanges = z.strictObject({
  firstname: profileRules.givenName.optional().meta({ description: 'Given name, 1 to 200 characters.' }),
  lastname: profileRules.familyName.optional().meta({ description: 'Family name, 1 to 200 characters.' }),
  language: profileRules.locale.optional(),
  timezone: profileRules.zoneinfo.optional().meta({ description: 'An IANA time zone (e.g. Europe/Zurich), or UTC.' }),
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

export function profileRoutes(deps: Pick<ApiRouteDeps, 'profile'>): ApiRoute[] {
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
    defineRoute({
      method: 'patch',
      path: '/profile',
      operationId: 'updateProfile',
      summary: 'Change names, language or time zone',
      description:
        'Only the fields sent change. The display name becomes "firstname lastname", as on the Profile page; ' +
        'the change is in the activity log (profile_changed). Answers the profile as it is now.',
      tag: 'Profile',
      scopes: ['profile:write'],
      body: ProfileChanges,
      response: Profile,
      handler: async ({ principal, body, ctx }) => {
        const changes = {
          givenName: body.firstname,
          familyName: body.lastname,
          locale: body.language,
          zoneinfo: body.timezone,
        };
        return profileOf(await deps.profile.change(principal.account, changes, requestInfo(ctx)));
      },
    }),
  ];
}
