// The Profile pages: name, language, time zone, recovery email and mobile (password required),
// password, login email (confirmed by a link to the new address) and deleting the account.
import Router from '@koa/router';
import { z } from 'zod';
import type Provider from 'oidc-provider';
import type { AccountState, AccountCtx, SesameState, Ctx } from '../http/context.ts';
import { renderPage, seeOther } from '../http/render.ts';
import { form, formData, emailField, passwordField, newPasswordField, type FormState } from '../http/form.ts';
import { requestInfo } from '../http/request-info.ts';
import { TIME_ZONES } from '../lib/time-zone.ts';
import { AppError } from '../errors.ts';
import type { Config } from '../config.ts';
import type { AccountSession } from '../http/require-account.ts';
import type { Reauth } from '../login/reauth.ts';
import { profileRules, type ProfileService } from './profile-service.ts';
import { parseMobileOrThrow, maskPhone, recoveryCountries } from '../factors/sms.ts';
import { decrypt } from '../lib/crypto.ts';
import type { AppPasswords } from '../app-passwords/service.ts';
import { MAX_PASSWORD_LENGTH } from '../factors/password.ts';
import { sessionOf } from '../oidc/session.ts';

const ProfileForm = z.object({
  given_name: profileRules.givenName,
  family_name: profileRules.familyName,
  locale: profileRules.locale,
  zoneinfo: profileRules.zoneinfo,
});
const RecoveryEmailForm = z.object({ recovery_email: z.union([z.literal(''), emailField]), password: passwordField });
const RecoveryPhoneForm = z.object({
  country: z.string().max(2).optional(),
  phone: z.string().trim().max(40),
  password: passwordField,
});
const PasswordForm = z.object({
  current_password: passwordField,
  new_password: newPasswordField,
  new_password_again: z.string().max(MAX_PASSWORD_LENGTH),
});
const EmailForm = z.object({
  email: emailField,
  email_again: z.string().trim().toLowerCase().max(254),
  password: passwordField,
});
const DeleteForm = z.object({ password: passwordField, confirm: z.literal('yes') });

export interface ProfileDeps {
  config: Config;
  accountSession: AccountSession;
  reauth: Reauth;
  profile: ProfileService;
  provider: Provider;
  /** A new password revokes every app password (the user is told how many). */
  appPasswords: Pick<AppPasswords, 'revokeAll'>;
}

export function createProfileRouter(deps: ProfileDeps) {
  const { reauth, profile } = deps;
  const router = new Router<AccountState>({ prefix: '/account/profile' });
  router.use(deps.accountSession.requireAccount);
  const opts = { limit: '16kb' };

  function profilePage(
    ctx: AccountCtx,
    extra: {
      section?: string;
      error?: string;
      values?: Record<string, string>;
      fields?: string[];
      errors?: Record<string, string>;
    } = {},
    status = 200,
  ) {
    const a = ctx.state.account;
    const phone = a.recoveryPhone ? maskPhone(decrypt(deps.config.encryptionKey, a.recoveryPhone)) : undefined;
    const defaults = {
      given_name: a.givenName ?? '',
      family_name: a.familyName ?? '',
      locale: a.locale,
      zoneinfo: a.zoneinfo,
      recovery_email: a.recoveryEmail ?? '',
      country: 'CH',
    };
    const done = typeof ctx.query.done === 'string' ? ctx.query.done : undefined;
    const revoked = Number(ctx.query.app_passwords_revoked);
    const data = {
      account: a,
      appPasswordsRevoked: done === 'password' && Number.isInteger(revoked) && revoked > 0 ? revoked : 0,
      phone,
      zones: TIME_ZONES,
      countries: recoveryCountries(ctx.state.locale),
      done,
      ...extra,
      values: { ...defaults, ...extra.values },
    };
    renderPage(ctx, 'profile', data, status);
  }
  /** The profile page again, the error shown at the section whose form was sent. */
  const section = (name: string) => (ctx: AccountCtx, f: FormState, status: number) =>
    profilePage(ctx, { section: name, ...formData(f) }, status);
  const pageView = (template: string) => (ctx: AccountCtx, f: FormState, status: number) =>
    renderPage(ctx, template, formData(f), status);

  router.get('/', (ctx) => profilePage(ctx));
  async function saveProfile(ctx: AccountCtx, input: z.output<typeof ProfileForm>) {
    const { given_name: givenName, family_name: familyName, locale, zoneinfo } = input;
    await profile.update(ctx.state.account, { givenName, familyName, locale, zoneinfo }, requestInfo(ctx));
    seeOther(ctx, '/account/profile?done=profile');
  }
  router.post('/', form(ProfileForm, saveProfile, section('profile'), opts));

  async function setRecoveryEmail(ctx: AccountCtx, input: z.output<typeof RecoveryEmailForm>) {
    await reauth.check(ctx, ctx.state.account, input.password);
    await profile.setRecoveryEmail(ctx.state.account, input.recovery_email || null, requestInfo(ctx));
    seeOther(ctx, '/account/profile?done=recovery');
  }
  router.post('/recovery-email', form(RecoveryEmailForm, setRecoveryEmail, section('recovery_email'), opts));

  async function setRecoveryPhone(ctx: AccountCtx, input: z.output<typeof RecoveryPhoneForm>) {
    const e164 = input.phone ? parseMobileOrThrow(input.phone, input.country, { anyCountry: true }) : null;
    await reauth.check(ctx, ctx.state.account, input.password);
    await profile.setRecoveryPhone(ctx.state.account, e164, requestInfo(ctx));
    seeOther(ctx, '/account/profile?done=recovery');
  }
  router.post('/recovery-phone', form(RecoveryPhoneForm, setRecoveryPhone, section('recovery_phone'), opts));

  router.get('/password', (ctx) => renderPage(ctx, 'change-password', {}));
  async function changePassword(ctx: AccountCtx, input: z.output<typeof PasswordForm>) {
    if (input.new_password !== input.new_password_again) throw new AppError('passwords_differ');
    await reauth.check(ctx, ctx.state.account, input.current_password);
    const current = await sessionOf(deps.provider, ctx);
    await profile.changePassword(ctx.state.account, input.new_password, requestInfo(ctx), current.uid);
    const revoked = await deps.appPasswords.revokeAll(ctx.state.account.id, requestInfo(ctx));
    seeOther(ctx, `/account/profile?done=password${revoked.length ? `&app_passwords_revoked=${revoked.length}` : ''}`);
  }
  router.post('/password', form(PasswordForm, changePassword, pageView('change-password'), opts));

  router.get('/email', (ctx) => renderPage(ctx, 'change-email', { values: {} }));
  async function changeEmail(ctx: AccountCtx, input: z.output<typeof EmailForm>) {
    if (input.email !== input.email_again) throw new AppError('emails_differ');
    await reauth.check(ctx, ctx.state.account, input.password);
    await profile.requestEmailChange(ctx.state.account, input.email, requestInfo(ctx));
    renderPage(ctx, 'change-email-sent', { email: input.email });
  }
  router.post('/email', form(EmailForm, changeEmail, pageView('change-email'), opts));

  /** The delete page, saying which organizations hold the deletion back and what to do. */
  const deletePage = async (ctx: AccountCtx, f?: FormState, status = 200) =>
    renderPage(
      ctx,
      'delete-account',
      { stranded: await profile.strandedBy(ctx.state.account), ...formData(f) },
      status,
    );
  router.get('/delete', (ctx) => deletePage(ctx));
  async function deleteAccount(ctx: AccountCtx, input: z.output<typeof DeleteForm>) {
    await reauth.check(ctx, ctx.state.account, input.password);
    await profile.deleteAccount(ctx.state.account);
    seeOther(ctx, '/?deleted=1');
  }
  const deleteOpts = { ...opts, invalid: () => new AppError('confirm_delete') };
  router.post('/delete', form(DeleteForm, deleteAccount, deletePage, deleteOpts));
  return router;
}

const ConfirmForm = z.object({ token: z.string().max(200).default('') });

/** The link in the email to the new address: a page with a button (mail scanners must not spend it). */
export function createConfirmEmailRouter(deps: { profile: ProfileService }) {
  const router = new Router<SesameState>();
  router.get('/confirm-email-change', (ctx) => {
    renderPage(ctx, 'confirm-email-change', { token: typeof ctx.query.token === 'string' ? ctx.query.token : '' });
  });
  async function confirmEmailChange(ctx: Ctx, input: z.output<typeof ConfirmForm>) {
    const outcome = await deps.profile.confirmEmailChange(input.token, requestInfo(ctx));
    if (outcome === 'invalid') throw new AppError('link_invalid');
    if (outcome === 'taken') throw new AppError('email_taken');
    renderPage(ctx, 'email-changed', {});
  }
  const confirmPage = (ctx: Ctx, f: FormState, status: number) =>
    renderPage(ctx, 'confirm-email-change', { token: f.values.token ?? '', error: f.error }, status);
  router.post('/confirm-email-change', form(ConfirmForm, confirmEmailChange, confirmPage, { limit: '4kb' }));
  return router;
}
