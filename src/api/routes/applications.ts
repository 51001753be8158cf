// /1/applications: the applications (OAuth clients) of the caller's current organization, as the
// Applications pages show them: who sees and changes which one is decided by organizations/policy.ts
// alone (an administrator every one, a collaborator those granted to them, an external user those
// granted, read-only), with the pages' validation (account/applications-service.ts), the same
// activity entries, and a client secret shown once, in the 201 answer that made it (only its HMAC is
// kept). An application the caller may not see, another organization's included, is 404.
import { z } from 'zod';
import { APP_TYPES } from '../../db/schema.ts';
import type { Application } from '../../db/repositories/applications.ts';
import { AppError } from '../../errors.ts';
import { requestInfo } from '../../http/request-info.ts';
import type { Ctx } from '../../http/context.ts';
import { allow } from '../../organizations/context.ts';
import { canDeleteApplication, canManageApplication, canManageApplications } from '../../organizations/policy.ts';
import { visibleApplication } from '../../organizations/current-application.ts';
import { recordAppChange, type AppChange } from '../../account/application-activity.ts';
import { SECRET_GRACE_DEFAULT_MINUTES, SECRET_GRACE_MAX_MINUTES } from '../../account/applications-service.ts';
import type { Principal } from '../authenticate.ts';
import { apiFieldErrors } from '../router.ts';
import { defineRoute, NoContent, type ApiRoute, pageOf, IdParams } from '../route.ts';
import { callerOrganization, organizationIdField } from './caller-organization.ts';
import type { ApiRouteDeps } from './deps.ts';

const uris = (what: string) =>
  z
    .array(z.string().max(2000))
    .max(20)
    .meta({ description: `${what}: absolute, no fragment, https (http on loopback).` });

const ApplicationData = z.object({
  id: z.string(),
  client_id: z.string(),
  name: z.string(),
  type: z.enum(APP_TYPES).meta({
    description:
      'web (a server with a secret), spa (no secret), service (no user), mail_server (checks app passwords with the password grant).',
  }),
  organization_id: z.string(),
  redirect_uris: z.array(z.string()),
  post_logout_redirect_uris: z.array(z.string()),
  backchannel_logout_uri: z.string().nullable(),
  members_only: z.boolean().meta({ description: 'Only members of the organization may sign in to it.' }),
  has_secret: z.boolean(),
  previous_secret_expires_at: z.iso
    .datetime()
    .nullable()
    .meta({ description: 'After a new secret: when the previous one stops working (null: it does not).' }),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});
const WithSecret = ApplicationData.extend({
  client_secret: z
    .string()
    .nullable()
    .meta({ description: 'Shown this once and never again (only its HMAC is kept); null for a spa.' }),
});

const ChangeFields = {
  name: z.string().max(200),
  redirect_uris: uris('Where sign-ins may return'),
  post_logout_redirect_uris: uris('Where sign-outs may return'),
  backchannel_logout_uri: z.string().max(2000).nullable(),
};
const CreateBody = z.strictObject({
  ...ChangeFields,
  type: z.enum(APP_TYPES),
  redirect_uris: ChangeFields.redirect_uris.optional(),
  post_logout_redirect_uris: ChangeFields.post_logout_redirect_uris.optional(),
  backchannel_logout_uri: ChangeFields.backchannel_logout_uri.optional(),
  organization_id: organizationIdField,
});
const UpdateBody = z.strictObject(ChangeFields).partial();
const RotateBody = z.strictObject({
  grace_minutes: z
    .number()
    .int()
    .min(0)
    .max(SECRET_GRACE_MAX_MINUTES)
    .optional()
    .meta({
      description: `How long the current secret keeps working (default ${SECRET_GRACE_DEFAULT_MINUTES}; 0: it stops at once).`,
    }),
});
const InOrganization = z.object({ organization_id: organizationIdField });

/** The service's names of the fields, as the API calls them in validation errors. */
const API_NAMES: Record<string, string> = {
  redirectUris: 'redirect_uris',
  postLogoutRedirectUris: 'post_logout_redirect_uris',
  backchannelLogoutUri: 'backchannel_logout_uri',
};

function applicationOf(app: Application, previousUntil: Date | undefined): z.input<typeof ApplicationData> {
  return {
    id: app.id,
    client_id: app.clientId,
    name: app.name,
    type: app.type,
    organization_id: app.organizationId,
    redirect_uris: app.redirectUris,
    post_logout_redirect_uris: app.postLogoutRedirectUris,
    backchannel_logout_uri: app.backchannelLogoutUri ?? null,
    members_only: app.membersOnly,
    has_secret: app.secretHash !== null,
    previous_secret_expires_at: previousUntil?.toISOString() ?? null,
    created_at: app.createdAt.toISOString(),
    updated_at: app.updatedAt.toISOString(),
  };
}

export function applicationRoutes(deps: ApiRouteDeps): ApiRoute[] {
  const service = deps.applications;
  const repo = deps.repos.applications;
  const organizationOf = callerOrganization(deps.organizationContext);
  const view = (app: Application) => applicationOf(app, service.previousSecretUntil(app));

  /** The pages' own validation (the service's schema), its field names as the API's. */
  function validated(input: unknown) {
    const r = service.schema.safeParse(input);
    if (r.success) return r.data;
    const errors = apiFieldErrors(r.error.issues);
    const fieldErrors = Object.fromEntries(Object.entries(errors).map(([k, v]) => [API_NAMES[k] ?? k, v]));
    throw new AppError('validation_failed', { fieldErrors });
  }

  /** The application of the URL, in the organization the call works in, if the caller may see it. */
  async function load(principal: Principal, id: string, organizationId: string | undefined) {
    const { organization, role } = await organizationOf(principal.account, organizationId);
    const actor = { organizationId: organization.id, accountId: principal.account.id, role };
    const found = await visibleApplication(repo, actor, id);
    if (!found) throw new AppError('not_found');
    return { ...found, organization, role };
  }

  /** The row as the change left it. */
  const reread = async (app: Application, principal: Principal) =>
    (await repo.findInOrganization(app.organizationId, app.id, principal.account.id))?.app ?? app;

  const log =
    (input: { principal: Principal; ctx: Ctx }, where: { id: string; name: string }, change: AppChange) =>
    (app: Pick<Application, 'clientId' | 'name'>) =>
      recordAppChange(
        deps.repos.activity,
        { accountId: input.principal.account.id, organization: where, info: requestInfo(input.ctx) },
        change,
        app,
      );

  const tag = 'Applications';
  const read = ['applications:read', 'applications:write'] as const;
  const write = ['applications:write'] as const;
  return [
    defineRoute({
      method: 'get',
      path: '/applications',
      operationId: 'listApplications',
      summary: "The current organization's applications the caller may see",
      tag,
      scopes: read,
      query: InOrganization,
      list: true,
      response: ApplicationData,
      handler: async ({ principal, query, paging }) => {
        const { organization, role } = await organizationOf(principal.account, query.organization_id);
        // A blocked member sees none; a collaborator or an external user those granted to them.
        const apps = role
          ? await repo.listForMember(organization.id, principal.account.id, canManageApplications(role))
          : [];
        return pageOf(apps, paging, view);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/applications/{id}',
      operationId: 'getApplication',
      summary: 'One application (never its secret)',
      tag,
      scopes: read,
      params: IdParams,
      query: InOrganization,
      response: ApplicationData,
      handler: async ({ principal, params, query }) =>
        view((await load(principal, params.id, query.organization_id)).app),
    }),
    defineRoute({
      method: 'post',
      path: '/applications',
      operationId: 'createApplication',
      summary: 'Register an application; its client secret is in this answer only',
      description: 'Administrators and legal representatives of the organization (403 forbidden otherwise).',
      tag,
      scopes: write,
      query: InOrganization,
      body: CreateBody,
      status: 201,
      response: WithSecret,
      errors: ['forbidden'],
      handler: async (input) => {
        const { body, principal, query } = input;
        // In the body or the query string, as on every other applications call.
        const chosen = body.organization_id ?? query.organization_id;
        const { organization, role } = await organizationOf(principal.account, chosen);
        allow(canManageApplications(role));
        const checked = validated({
          name: body.name,
          type: body.type,
          redirectUris: body.redirect_uris ?? [],
          postLogoutRedirectUris: body.post_logout_redirect_uris ?? [],
          backchannelLogoutUri: body.backchannel_logout_uri?.trim() || null,
        });
        const { app, clientSecret } = await service.create(principal.account.id, checked, organization.id);
        await log(input, organization, 'app_created')(app);
        return { ...view(app), client_secret: clientSecret ?? null };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/applications/{id}',
      operationId: 'updateApplication',
      summary: "Change an application's name and addresses (its type stays)",
      description: 'Administrators any; a collaborator one granted to them (403 forbidden otherwise).',
      tag,
      scopes: write,
      params: IdParams,
      query: InOrganization,
      body: UpdateBody,
      response: ApplicationData,
      errors: ['forbidden'],
      handler: async (input) => {
        const { body, principal, params, query } = input;
        const { app, granted, role, organization } = await load(principal, params.id, query.organization_id);
        allow(canManageApplication(role, granted));
        const checked = validated({
          name: body.name ?? app.name,
          type: app.type,
          redirectUris: body.redirect_uris ?? app.redirectUris,
          postLogoutRedirectUris: body.post_logout_redirect_uris ?? app.postLogoutRedirectUris,
          backchannelLogoutUri:
            body.backchannel_logout_uri === undefined
              ? app.backchannelLogoutUri
              : body.backchannel_logout_uri?.trim() || null,
        });
        await service.update(app, checked);
        await log(input, organization, 'app_updated')({ ...app, name: checked.name });
        return view(await reread(app, principal));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/applications/{id}/secret',
      operationId: 'rotateApplicationSecret',
      summary: 'A new client secret, in this answer only; the current one works for the grace period',
      description:
        'Send `{}` for the default grace period. A spa has no secret (422 unprocessable). ' +
        'Administrators any; a collaborator one granted to them.',
      tag,
      scopes: write,
      params: IdParams,
      query: InOrganization,
      body: RotateBody,
      status: 201,
      response: WithSecret,
      errors: ['forbidden', 'unprocessable'],
      handler: async (input) => {
        const { body, principal, params, query } = input;
        const { app, granted, role, organization } = await load(principal, params.id, query.organization_id);
        allow(canManageApplication(role, granted));
        const clientSecret = await service.rotateSecret(app, body.grace_minutes ?? SECRET_GRACE_DEFAULT_MINUTES);
        if (!clientSecret) throw new AppError('unprocessable');
        await log(input, organization, 'app_secret_rotated')(app);
        return { ...view(await reread(app, principal)), client_secret: clientSecret };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/applications/{id}/previous-secret',
      operationId: 'endPreviousApplicationSecret',
      summary: 'End the grace period now: the previous client secret stops working',
      description:
        'As the page\'s "stop the previous secret now". Administrators any; a collaborator one granted to them.',
      tag,
      scopes: write,
      params: IdParams,
      query: InOrganization,
      response: ApplicationData,
      errors: ['forbidden'],
      handler: async ({ principal, params, query }) => {
        const { app, granted, role } = await load(principal, params.id, query.organization_id);
        allow(canManageApplication(role, granted));
        await service.endPreviousSecret(app);
        return view(await reread(app, principal));
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/applications/{id}',
      operationId: 'deleteApplication',
      summary: 'Delete an application: its sign-ins stop at once',
      description: 'Administrators and legal representatives only (403 forbidden otherwise).',
      tag,
      scopes: write,
      params: IdParams,
      query: InOrganization,
      status: 204,
      response: NoContent,
      errors: ['forbidden'],
      handler: async (input) => {
        const { principal, params, query } = input;
        const { app, role, organization } = await load(principal, params.id, query.organization_id);
        allow(canDeleteApplication(role));
        await service.delete(app);
        await log(input, organization, 'app_deleted')(app);
        return null;
      },
    }),
  ];
}
