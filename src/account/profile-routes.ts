// The Profile pages: name, language, time zone, recovery email and mobile (password required),
// password, login email (confirmed by a link to the new address) and deleting the account.
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { z } from 'zod';
import type Provider from 'oidc-provider';
import type { SesameState, Ctx } from '../http/context.ts';
import type { Csrf } from '../http/csrf.ts';
import { renderPage } from '../http/render.ts';
import { parseForm, formValues, emailField, nameField } from '../http/forms.ts';
import { requestInfo } from '../http/request-info.ts';
import { LOCALES } from '../http/i18n.ts';
import type { Account } from '../db/repositories/accounts.ts';
import type { SessionGuard } from './session-guard.ts';
import type { Reauth } from './reauth.ts';
import type { ProfileService } from './profile-service.ts';
import { parseMobile, maskPhone, SMS_COUNTRIES } from '../factors/sms.ts';
import { decrypt } from '../lib/crypto.ts';
import { MAX_PASSWORD_LENGTH } from '../factors/password.ts';

const TIME_ZONES = Intl.supportedValuesOf('timeZone');
const password = z.string().min(1).max(1024);
const ProfileForm = z.object({
  given_name: nameField, family_name: nameField,
  locale: z.enum(LOCALES),
  zoneinfo: z.string().refine((v) => v === 'UTC' || TIME_ZONES.includes(v)),
});
const RecoveryEmailForm = z.object({ recovery_email: z.union([z.literal(''), emailField]), password });
const RecoveryPhoneForm = z.object({ country: z.string().max(2).optional(), phone: z.string().trim().max(40), password });
const PasswordForm = z.object({ current_password: password, new_password: z.string().min(1).max(MAX_PASSWORD_LENGTH), new_password_again: z.string().max(MAX_PASSWORD_LENGTH) });
const EmailForm = z.object({ email: emailField, email_again: z.string().trim().toLowerCase().max(254), password });
const DeleteForm = z.object({ password, confirm: z.literal('yes') });

export function createProfileRouter(deps: { csrf: Csrf; guard: SessionGuard; reauth: Reauth; profile: ProfileService; provider: Provider; encryptionKey: Buffer }) {
  const { csrf, guard, reauth, profile } = deps;
  const router = new Router<SesameState>({ prefix: '/account/profile' });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), guard.require);
  router.use(csrf.forChanges);
  const accountOf = (ctx: Ctx) => (ctx.state as { account?: Account }).account!;
  const seeOther = (ctx: Ctx, to: string) => { ctx.status = 303; ctx.redirect(to); };
  const body = (ctx: Ctx) => ctx.request.body as Record<string, unknown>;
  const passwordError = (r: string) => (r === 'rate_limited' ? 'rate_limited' : 'wrong_password');

  function page(ctx: Ctx, extra: { section?: string; error?: string; values?: Record<string, string> } = {}, status = 200) {
    const a = accountOf(ctx);
    const phone = a.recoveryPhone ? maskPhone(decrypt(deps.encryptionKey, a.recoveryPhone)) : undefined;
    renderPage(ctx, 'profile', {
      account: a, phone, zones: TIME_ZONES, countries: SMS_COUNTRIES, done: typeof ctx.query.done === 'string' ? ctx.query.done : undefined,
      ...extra,
      values: { given_name: a.givenName ?? '', family_name: a.familyName ?? '', locale: a.locale, zoneinfo: a.zoneinfo, recovery_email: a.recoveryEmail ?? '', country: 'CH', ...extra.values },
    }, status);
  }

  router.get('/', (ctx) => page(ctx));

  router.post('/', async (ctx) => {
    const form = parseForm(ProfileForm, body(ctx));
    if (!form.ok) return page(ctx, { section: 'profile', error: 'invalid_input', values: form.values }, 400);
    await profile.update(accountOf(ctx), { givenName: form.data.given_name, familyName: form.data.family_name, locale: form.data.locale, zoneinfo: form.data.zoneinfo }, requestInfo(ctx));
    seeOther(ctx, '/account/profile?done=profile');
  });

  router.post('/recovery-email', async (ctx) => {
    const values = formValues(body(ctx));
    const form = parseForm(RecoveryEmailForm, body(ctx));
    if (!form.ok) return page(ctx, { section: 'recovery_email', error: 'invalid_input', values: { recovery_email: values.recovery_email ?? '' } }, 400);
    const checked = await reauth.check(ctx, accountOf(ctx), form.data.password);
    if (checked !== 'ok') return page(ctx, { section: 'recovery_email', error: passwordError(checked), values: { recovery_email: form.data.recovery_email } }, checked === 'rate_limited' ? 429 : 401);
    const r = await profile.setRecoveryEmail(accountOf(ctx), form.data.recovery_email || null, requestInfo(ctx));
    if (r !== 'ok') return page(ctx, { section: 'recovery_email', error: 'recovery_same_as_login', values: { recovery_email: form.data.recovery_email } }, 400);
    seeOther(ctx, '/account/profile?done=recovery');
  });

  router.post('/recovery-phone', async (ctx) => {
    const values = formValues(body(ctx));
    const form = parseForm(RecoveryPhoneForm, body(ctx));
    const keep = { phone: values.phone ?? '', country: values.country ?? 'CH' };
    if (!form.ok) return page(ctx, { section: 'recovery_phone', error: 'invalid_input', values: keep }, 400);
    const parsed = form.data.phone ? parseMobile(form.data.phone, form.data.country) : undefined;
    if (parsed && !parsed.ok) return page(ctx, { section: 'recovery_phone', error: parsed.error, values: keep }, 400);
    const checked = await reauth.check(ctx, accountOf(ctx), form.data.password);
    if (checked !== 'ok') return page(ctx, { section: 'recovery_phone', error: passwordError(checked), values: keep }, checked === 'rate_limited' ? 429 : 401);
    await profile.setRecoveryPhone(accountOf(ctx), parsed?.ok ? parsed.e164 : null, requestInfo(ctx));
    seeOther(ctx, '/account/profile?done=recovery');
  });

  router.get('/password', (ctx) => renderPage(ctx, 'change-password', {}));
  router.post('/password', async (ctx) => {
    const form = parseForm(PasswordForm, body(ctx));
    if (!form.ok) return renderPage(ctx, 'change-password', { error: 'invalid_input' }, 400);
    if (form.data.new_password !== form.data.new_password_again) return renderPage(ctx, 'change-password', { error: 'passwords_differ' }, 400);
    const checked = await reauth.check(ctx, accountOf(ctx), form.data.current_password);
    if (checked !== 'ok') return renderPage(ctx, 'change-password', { error: passwordError(checked) }, checked === 'rate_limited' ? 429 : 401);
    const current = await deps.provider.Session.get(ctx as never);
    const problem = await profile.changePassword(accountOf(ctx), form.data.new_password, requestInfo(ctx), current.uid);
    if (problem) return renderPage(ctx, 'change-password', { error: problem }, 400);
    seeOther(ctx, '/account/profile?done=password');
  });

  router.get('/email', (ctx) => renderPage(ctx, 'change-email', { values: {} }));
  router.post('/email', async (ctx) => {
    const values = formValues(body(ctx));
    const keep = { email: values.email ?? '', email_again: values.email_again ?? '' };
    const form = parseForm(EmailForm, body(ctx));
    if (!form.ok) return renderPage(ctx, 'change-email', { values: keep, error: 'invalid_input' }, 400);
    if (form.data.email !== form.data.email_again) return renderPage(ctx, 'change-email', { values: keep, error: 'emails_differ' }, 400);
    const checked = await reauth.check(ctx, accountOf(ctx), form.data.password);
    if (checked !== 'ok') return renderPage(ctx, 'change-email', { values: keep, error: passwordError(checked) }, checked === 'rate_limited' ? 429 : 401);
    const r = await profile.requestEmailChange(accountOf(ctx), form.data.email, requestInfo(ctx));
    if (r === 'same' || r === 'recovery') return renderPage(ctx, 'change-email', { values: keep, error: r === 'same' ? 'email_same' : 'email_is_recovery' }, 400);
    if (r === 'rate_limited') return renderPage(ctx, 'change-email', { values: keep, error: 'rate_limited' }, 429);
    renderPage(ctx, 'change-email-sent', { email: form.data.email });
  });

  router.get('/delete', (ctx) => renderPage(ctx, 'delete-account', {}));
  router.post('/delete', async (ctx) => {
    const form = parseForm(DeleteForm, body(ctx));
    if (!form.ok) return renderPage(ctx, 'delete-account', { error: 'confirm_delete' }, 400);
    const checked = await reauth.check(ctx, accountOf(ctx), form.data.password);
    if (checked !== 'ok') return renderPage(ctx, 'delete-account', { error: passwordError(checked) }, checked === 'rate_limited' ? 429 : 401);
    await profile.deleteAccount(accountOf(ctx));
    seeOther(ctx, '/?deleted=1');
  });
  return router;
}

/** The link in the email to the new address: a page with a button (mail scanners must not spend it). */
export function createConfirmEmailRouter(deps: { csrf: Csrf; profile: ProfileService }) {
  const router = new Router<SesameState>();
  router.use('/confirm-email-change', bodyParser({ enableTypes: ['form'], formLimit: '4kb' }));
  router.get('/confirm-email-change', (ctx) => renderPage(ctx, 'confirm-email-change', { token: typeof ctx.query.token === 'string' ? ctx.query.token : '' }));
  router.post('/confirm-email-change', async (ctx) => {
    const v = formValues(ctx.request.body);
    deps.csrf.verify(ctx, v._csrf);
    const ok = await deps.profile.confirmEmailChange(v.token ?? '', requestInfo(ctx));
    renderPage(ctx, ok ? 'email-changed' : 'link-invalid', {}, ok ? 200 : 400);
  });
  return router;
}
