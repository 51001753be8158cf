// The API tokens pages (Security → API tokens, /account/security/api-tokens): the list with scopes in
// plain words, creation, and revoking one, several (checkboxes) or all. A new token is confirmed
// with a recent sign-in or the password again (requireFresh: what was typed is held meanwhile) and
// shown once, on the GET page the POST redirects to (shown-once.ts). Registered on the Security
// page's router so that the password confirmation there can apply a held creation (its replay
// dispatches within that router).
import Router from '@koa/router';
import { z } from 'zod';
import { uuidParam } from '../api/route.ts';
import type { AccountCtx, AccountState } from '../http/context.ts';
import { renderPage, seeOther } from '../http/render.ts';
import { form, formData, type FormState } from '../http/form.ts';
import { requestInfo } from '../http/request-info.ts';
import { addRevokeAllRoutes } from '../http/revoke-all-routes.ts';
import { AppError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import { zonedDayStart } from '../lib/time-zone.ts';
import type { RequireFresh } from '../login/require-fresh.ts';
import { TOKEN_NAME_MAX, tokenState, type PersonalTokens } from '../api/personal-tokens.ts';
import { API_SCOPES, isApiScope, type ApiScope } from '../api/scopes.ts';
import { API_DOCS_PATH } from '../api/docs-routes.ts';
import { API_TOKENS_PAGE } from '../api/idle-tokens.ts';
import type { ShownOnce } from './shown-once.ts';

const PATH = API_TOKENS_PAGE;
/** The same address within the Security router (prefix /account/security) these routes join. */
const HERE = '/api-tokens';
/** Several values of one field (checkboxes) reach a form joined by newlines (http/form.ts). */
const lines = (v: string) =>
  v
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

const NewTokenForm = z
  .object({
    name: z.string().trim().min(1).max(TOKEN_NAME_MAX),
    scopes: z.string().max(2000).default(''),
    validity: z.enum(['unlimited', 'until']).default('unlimited'),
    expires_at: z.string().trim().max(20).default(''),
  })
  .superRefine((f, ctx) => {
    const scopes = lines(f.scopes);
    if (!scopes.length) ctx.addIssue({ code: 'custom', path: ['scopes'], message: 'scopes_required' });
    else if (!scopes.every(isApiScope)) ctx.addIssue({ code: 'custom', path: ['scopes'], message: 'invalid_choice' });
    if (f.validity !== 'until') return;
    const m = DAY.exec(f.expires_at);
    const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
    const real = d && d.getUTCFullYear() <= 2999 && d.toISOString().slice(0, 10) === f.expires_at;
    if (!real)
      ctx.addIssue({ code: 'custom', path: ['expires_at'], message: f.expires_at ? 'invalid_date' : 'required' });
  });
const RevokeForm = z.object({
  /** The checked tokens ("revoke selected"). */
  ids: z.string().max(100_000).default(''),
  /** One row's own button: that token only. */
  one: z.string().max(100).optional(),
});

export interface ApiTokenPagesDeps {
  requireFresh: RequireFresh;
  personalTokens: PersonalTokens;
  shownOnce: ShownOnce;
  clock: Clock;
  config: { issuer: string };
}

/** The pages' routes, relative to the Security router they are mounted in (which signs the user in). */
export function createApiTokenPages(deps: ApiTokenPagesDeps) {
  const router = new Router<AccountState>();
  const { personalTokens, shownOnce, clock } = deps;
  const whenFresh = deps.requireFresh.action(PATH);
  const opts = { limit: '128kb' };

  async function listPage(ctx: AccountCtx, extra: Record<string, unknown> = {}, status = 200) {
    const { account } = ctx.state;
    const now = clock.now();
    const tokens = (await personalTokens.list(account.id)).map((row) => ({ ...row, state: tokenState(row, now) }));
    const done = typeof ctx.query.done === 'string' && /^[a-z_]{1,20}$/.test(ctx.query.done) ? ctx.query.done : '';
    const n = Number(ctx.query.n);
    renderPage(
      ctx,
      'api-tokens',
      { tokens, zone: account.zoneinfo, done, n: Number.isInteger(n) && n >= 0 ? n : 0, docs: API_DOCS_PATH, ...extra },
      status,
    );
  }
  router.get(HERE, (ctx) => listPage(ctx));

  const newPage = (ctx: AccountCtx, f?: FormState, status = 200) => {
    const values = f?.values ?? { validity: 'unlimited' };
    const checked = new Set(lines(values.scopes ?? ''));
    const scopes = API_SCOPES.map((s) => ({ scope: s, checked: checked.has(s) }));
    renderPage(ctx, 'api-token-new', { ...formData(f), values, scopes, docs: API_DOCS_PATH }, status);
  };
  router.get(`${HERE}/new`, (ctx) => newPage(ctx));

  async function create(ctx: AccountCtx, input: z.output<typeof NewTokenForm>) {
    const { account } = ctx.state;
    // "Until" a day: through that whole day in the user's time zone (it stops at the next midnight).
    const expiresAt = input.validity === 'until' ? zonedDayStart(input.expires_at, account.zoneinfo, 1) : null;
    // Said here in the form's own words; the service refuses it too (for the API).
    if (expiresAt && expiresAt.getTime() <= clock.now())
      throw new AppError('invalid_input', { fields: ['expires_at'], fieldErrors: { expires_at: 'date_past' } });
    const scopes = lines(input.scopes) as ApiScope[];
    const { token, row } = await personalTokens.create(
      account.id,
      { name: input.name, scopes: [...new Set(scopes)], expiresAt },
      requestInfo(ctx),
    );
    const id = await shownOnce.keep(ctx, 'api-token', { token, tokenId: row.id });
    seeOther(ctx, `${PATH}/created?shown=${id}`);
  }
  router.post(
    HERE,
    form(NewTokenForm, whenFresh(create), (ctx, f, status) => newPage(ctx, f, status), opts),
  );

  // The token the POST before made, the first time only; a reload says it was shown once.
  router.get(`${HERE}/created`, async (ctx) => {
    const shown = await shownOnce.take(ctx, 'api-token', ctx.query.shown);
    const row = shown && (await personalTokens.list(ctx.state.account.id)).find((r) => r.id === shown.tokenId);
    renderPage(ctx, 'api-token-created', {
      token: shown?.token,
      row,
      zone: ctx.state.account.zoneinfo,
      docs: API_DOCS_PATH,
      issuer: deps.config.issuer,
    });
  });

  async function revoke(ctx: AccountCtx, input: z.output<typeof RevokeForm>) {
    const ids = input.one ? [input.one] : lines(input.ids);
    if (!ids.length) throw new AppError('invalid_input', { fields: ['ids'], fieldErrors: { ids: 'none_selected' } });
    // Ids that are not uuids are no token of anyone's: not found, like another account's.
    const wellFormed = ids.filter((id) => uuidParam.safeParse(id).success);
    const { revoked } = await personalTokens.revoke(ctx.state.account.id, wellFormed, requestInfo(ctx));
    seeOther(ctx, `${PATH}?done=revoked&n=${revoked.length}`);
  }
  const revokeView = (ctx: AccountCtx, f: FormState, status: number) => listPage(ctx, formData(f), status);
  router.post(`${HERE}/revoke`, form(RevokeForm, revoke, revokeView, opts));

  addRevokeAllRoutes(router, {
    list: PATH,
    here: HERE,
    view: 'api-tokens-revoke-all',
    count: (accountId) => personalTokens.count(accountId),
    revokeAll: (accountId, by) => personalTokens.revokeAll(accountId, by),
    opts,
  });
  return router;
}
