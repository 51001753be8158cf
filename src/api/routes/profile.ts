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

const EMAIL_ONLY = 'Null for a sign-in token granted without the `email` scope.';
const PROFILE_ONLY = 'Null for a sign-in token granted without the `profile` scope.';

export const Profile = z.object({
  id: z.number().int().meta({ description: "The user's integer id (Infomaniak clients decode it as an int)." }),
  user_id: z.number().int().meta({ description: 'The same id, as Infomaniak names it elsewhere.' }),
  sub: z.string().meta({ description: 'The OpenID Connect subject (the `sub` of ID tokens and userinfo).' }),
  login: z.string().nullable().meta({ description: EMAIL_ONLY }),
  email: z.string().nullable().meta({ description: EMAIL_ONLY }),
  email_verified: z.boolean().nullable().meta({ description: EMAIL_ONLY }),
  firstname: z.string().nullable().meta({ description: PROFILE_ONLY }),
  lastname: z.string().nullable().meta({ description: PROFILE_ONLY }),
  display_name: z.string().nullable().meta({ description: PROFILE_ONLY }),
  avatar: z.string().nullable().meta({ description: 'Always null: Sesame keeps no pictures.' }),
  language: z
    .string()
    .nullable()
    .meta({ description: `en, fr, de, it or es. ${PROFILE_ONLY}` }),
  locale: z.string().nullable().meta({ description: PROFILE_ONLY }),
  timezone: z
    .string()
    .nullable()
    .meta({ description: `An IANA time zone, e.g. Europe/Zurich. ${PROFILE_ONLY}` }),
  created_at: z.iso.datetime(),
});

/** What PATCH /profile may change; a field left out stays as it is. */
const ProfileChanges = z.strictObject({
  firstname: profileRules.givenName.optional().meta({ description: 'Given name, 1 to 200 characters.' }),
  lastname: profileRules.familyName.optional().meta({ description: 'Family name, 1 to 200 characters.' }),
  language: profileRules.locale.optional(),
  timezone: profileRules.zoneinfo.optional().meta({ description: 'An IANA time zone (e.g. Europe/Zurich), or UTC.' }),
});

/** The profile as `claims` let it be seen: a sign-in token (Principal.claims) shows no more than
 *  userinfo would for its scopes — the address with `email`, names, language and time zone with
 *  `profile`; an API token or a personal token shows all of it. */
export function profileOf(account: Account, claims?: ReadonlySet<'profile' | 'email'>): z.input<typeof Profile> {
  const names = nameClaims(account);
  const email = !claims || claims.has('email');
  const profile = !claims || claims.has('profile');
  return {
    id: account.userId,
    user_id: account.userId,
    sub: account.id,
    login: email ? account.email : null,
    email: email ? account.email : null,
    email_verified: email ? account.emailVerified : null,
    firstname: profile ? names.given_name : null,
    lastname: profile ? names.family_name : null,
    display_name: profile ? names.name : null,
    avatar: null,
    language: profile ? account.locale : null,
    locale: profile ? account.locale : null,
    timezone: profile ? account.zoneinfo : null,
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
      handler: async ({ principal }) => profileOf(principal.account, principal.claims),
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
