// The Security page: turn 2FA on by adding a first method, list methods with their last use, add
// and remove them, choose the default, backup codes, lockout and alerts. Changes need a recent
// sign-in or the password again (login/reauth.ts; a change made without is applied once the password
// is confirmed), and each one sends an email. New backup codes are shown once, on the GET page the
// POST redirects to (shown-once.ts), and replacing them is confirmed on a page of its own first.
import Router from '@koa/router';
import type { Next } from 'koa';
import { z } from 'zod';
import QRCode from 'qrcode';
import type { AccountState, AccountCtx, Ctx } from '../http/context.ts';
import { renderPage, seeOther } from '../http/render.ts';
import { form, formData, NoFields, passwordField, type FormState } from '../http/form.ts';
import { safeReturnPath } from '../http/return-path.ts';
import { isLinkToken } from '../lib/crypto.ts';
import { requestInfo } from '../http/request-info.ts';
import { AppError } from '../errors.ts';
import type { SecondFactorRow } from '../db/repositories/second-factors.ts';
import type { AccountSession } from '../http/require-account.ts';
import type { Reauth } from '../login/reauth.ts';
import type { RequireFresh } from '../login/require-fresh.ts';
import { LOCKOUT_MIN, LOCKOUT_MAX } from '../login/lockout.ts';
import type { SecurityService } from './security-service.ts';
import type { TotpFactor } from '../factors/totp.ts';
import type { WebauthnFactor } from '../factors/webauthn.ts';
import { parseMobileOrThrow, maskPhone, SMS_COUNTRIES, type SmsFactor } from '../factors/sms.ts';
import type { PushFactor } from '../kauth/push-factor.ts';
import { factorName } from '../http/factor-name.ts';
import type { ShownOnce } from './shown-once.ts';
import { createApiTokenPages, type ApiTokenPagesDeps } from './api-tokens-routes.ts';
import { createAppPasswordPages, type AppPasswordPagesDeps } from '../app-passwords/routes.ts';

const BASE = '/account/security';
const nameOf = z.string().trim().min(1).max(60);
const TotpForm = z.object({ name: nameOf, code: z.string().trim().min(1).max(20) });
const WebauthnForm = z.object({ name: nameOf, credential: z.string().min(1).max(65_536) });
const SmsForm = z.object({
  name: nameOf,
  country: z.string().max(2).optional(),
  phone: z.string().trim().min(1).max(40),
});
const CodeForm = z.object({ code: z.string().trim().max(200).default('') });
const RenameForm = z.object({ name: nameOf });
const ConfirmDisableForm = z.object({
  confirm_disable: z.string().max(10).optional(),
  /** Turning 2FA off revokes the app passwords unless this is ticked. */
  keep_app_passwords: z.string().max(10).optional(),
});
const ProtectionForm = z.object({
  lockout_threshold: z.coerce.number().int().min(LOCKOUT_MIN).max(LOCKOUT_MAX),
  alert_every_sign_in: z.literal('yes').optional(),
  alert_failed_password: z.literal('yes').optional(),
});
const PasswordForm = z.object({
  password: passwordField,
  return: z.string().max(200).optional(),
  pending: z.string().max(100).optional(),
});
/** New backup codes: only from their confirmation page's button. */
const RegenerateForm = z.object({ confirm: z.literal('yes') });

/** The country pre-selected for a national number, from the user's language. */
const COUNTRY_FOR_LOCALE: Record<string, string> = { fr: 'FR', de: 'DE', it: 'CH', es: 'CH', en: 'CH' };

/** A bad name is its own message; any other problem in an enrolment form is the method's own. */
const enrolInvalid = (otherwise: 'invalid_code' | 'webauthn_failed' | 'phone_invalid') => (fields: string[]) =>
  new AppError(fields.includes('name') ? 'name_required' : otherwise, { status: 400 });
/** A wrong code while enrolling is bad input (400), not a refused sign-in. */
const enrolmentRefused = (code: 'invalid_code' | 'webauthn_failed') => new AppError(code, { status: 400 });

interface FactorState extends AccountState {
  factor: SecondFactorRow;
}
type FactorCtx = Ctx<FactorState>;

export interface SecurityDeps extends ApiTokenPagesDeps, AppPasswordPagesDeps {
  accountSession: AccountSession;
  reauth: Reauth;
  requireFresh: RequireFresh;
  security: SecurityService;
  shownOnce: ShownOnce;
  factors: { totp: TotpFactor; webauthn: WebauthnFactor; sms: SmsFactor; push: PushFactor };
}

export function createSecurityRouter(deps: SecurityDeps) {
  const { reauth, security, shownOnce } = deps;
  const { totp, webauthn, sms, push } = deps.factors;
  const router = new Router<FactorState>({ prefix: BASE });
  router.use(deps.accountSession.requireAccount);
  /** This router's routes, for the change held while the password was confirmed. */
  const dispatch = router.routes();
  const fresh = deps.requireFresh.page;
  const whenFresh = deps.requireFresh.action(BASE);
  const opts = { limit: '128kb' };

  /** The factor named in the URL, if it is this account's (`factor` is set on those routes only). */
  async function ownFactor(ctx: FactorCtx, next: Next) {
    const row = await security.findFactor(ctx.state.account.id, String(ctx.params.id));
    if (!row) throw new AppError('not_found');
    ctx.state.factor = row;
    await next();
  }
  function showBackupCodes(ctx: AccountCtx, codes: string[], first: boolean) {
    const { t } = ctx.state;
    const text = [
      t('backupCodes.fileTitle', { email: ctx.state.account.email }),
      '',
      ...codes,
      '',
      t('backupCodes.fileHint'),
    ].join('\n');
    renderPage(ctx, 'security-backup-codes', {
      codes,
      first,
      download: `data:text/plain;charset=utf-8,${encodeURIComponent(text)}`,
    });
  }
  /** Post/redirect/get: new codes go to the page that shows them, once. */
  async function toBackupCodes(ctx: AccountCtx, codes: string[], first: boolean) {
    const id = await shownOnce.keep(ctx, 'backup-codes', { codes, first });
    seeOther(ctx, `${BASE}/backup-codes?shown=${id}`);
  }
  /** After an enrolment: the first method shows the new backup codes once; others go back to the list. */
  async function enrolled(ctx: AccountCtx, row: SecondFactorRow) {
    const codes = await security.added(ctx.state.account, row, requestInfo(ctx));
    if (codes) return toBackupCodes(ctx, codes, true);
    seeOther(ctx, `${BASE}?done=added`);
  }

  async function overviewPage(ctx: AccountCtx, extra: Record<string, unknown> = {}, status = 200) {
    const { account } = ctx.state;
    const overview = await security.overview(account.id);
    const protection = {
      lockout_threshold: String(account.lockoutThreshold),
      alert_every_sign_in: account.alertEverySignIn,
      alert_failed_password: account.alertFailedPassword,
    };
    const done = typeof ctx.query.done === 'string' ? ctx.query.done : undefined;
    const revoked = Number(ctx.query.app_passwords_revoked);
    const data = {
      ...overview,
      done,
      appPasswordsRevoked: Number.isInteger(revoked) && revoked > 0 ? revoked : 0,
      zone: account.zoneinfo,
      protection,
      lockoutRange: [LOCKOUT_MIN, LOCKOUT_MAX],
      webauthnAvailable: webauthn.available,
      ...extra,
    };
    renderPage(ctx, 'security', data, status);
  }
  router.get('/', (ctx) => overviewPage(ctx));

  // Lockout threshold and alerts: weakening protection asks for the password like any other change.
  const protectionView = (ctx: AccountCtx, f: FormState, status: number) => {
    const v = f.values;
    const protection = {
      ...v,
      alert_every_sign_in: v.alert_every_sign_in === 'yes',
      alert_failed_password: v.alert_failed_password === 'yes',
    };
    return overviewPage(ctx, { ...formData(f), protection }, status);
  };
  async function saveProtection(ctx: AccountCtx, input: z.output<typeof ProtectionForm>) {
    const settings = {
      lockoutThreshold: input.lockout_threshold,
      alertEverySignIn: input.alert_every_sign_in === 'yes',
      alertFailedPassword: input.alert_failed_password === 'yes',
    };
    await security.setProtection(ctx.state.account, settings, requestInfo(ctx));
    seeOther(ctx, `${BASE}?done=protection`);
  }
  router.post('/protection', form(ProtectionForm, whenFresh(saveProtection), protectionView, opts));

  // The password again; a change that asked for it (`pending`) is then applied.
  const confirmPage = (
    ctx: AccountCtx,
    asked: { return?: unknown; pending?: unknown },
    error?: string,
    status = 200,
  ) => {
    const values = {
      return: safeReturnPath(asked.return) ?? BASE,
      pending: isLinkToken(asked.pending) ? asked.pending : '',
    };
    renderPage(ctx, 'security-confirm-password', { values, error }, status);
  };
  router.get('/confirm-password', (ctx) => confirmPage(ctx, ctx.query));
  async function confirmPassword(ctx: AccountCtx, input: z.output<typeof PasswordForm>) {
    await reauth.confirm(ctx, ctx.state.account, input.password);
    if (input.pending && (await deps.requireFresh.replay(ctx, input.pending, dispatch, BASE))) return;
    // A held change already applied or expired: the user is told to make it again.
    const back = safeReturnPath(input.return) ?? BASE;
    seeOther(ctx, input.pending && back === BASE ? `${BASE}?done=resubmit` : back);
  }
  const confirmPasswordView = (ctx: AccountCtx, f: FormState, status: number) =>
    confirmPage(ctx, f.values, f.error, status);
  router.post('/confirm-password', form(PasswordForm, confirmPassword, confirmPasswordView, opts));

  // Authenticator app: QR code (SVG) and the key as text; confirmed by a first valid code.
  async function totpPage(ctx: AccountCtx, values: Record<string, string>, error?: string, status = 200) {
    const { account } = ctx.state;
    const { secret, qrSvg } = await totp.beginEnrolment(account.id, account.email);
    renderPage(ctx, 'security-totp', { qrSvg, secret: secret.replace(/(.{4})/g, '$1 ').trim(), values, error }, status);
  }
  router.get('/totp/new', fresh, (ctx) => totpPage(ctx, { name: ctx.state.t('methods.totp') }));
  async function enrolTotp(ctx: AccountCtx, input: z.output<typeof TotpForm>) {
    const row = await totp.confirmEnrolment(ctx.state.account.id, input.name, input.code);
    if (!row) throw enrolmentRefused('invalid_code');
    await enrolled(ctx, row);
  }
  const enrolTotpView = (ctx: AccountCtx, f: FormState, status: number) => totpPage(ctx, f.values, f.error, status);
  const totpOpts = { ...opts, invalid: enrolInvalid('invalid_code') };
  router.post('/totp', form(TotpForm, whenFresh(enrolTotp), enrolTotpView, totpOpts));

  // Security key: the browser creates the credential (views/static/webauthn.js) and posts it.
  async function webauthnPage(ctx: AccountCtx, values: Record<string, string>, error?: string, status = 200) {
    const options = await webauthn.beginRegistration(ctx.state.account);
    renderPage(ctx, 'security-webauthn', { options: JSON.stringify(options), values, error }, status);
  }
  // Not offered with an IP-address issuer (factors/webauthn.ts): refused before any form is read.
  async function webauthnOffered(_ctx: AccountCtx, next: Next) {
    if (!webauthn.available) throw new AppError('webauthn_unavailable');
    await next();
  }
  router.get('/webauthn/new', webauthnOffered, fresh, (ctx) =>
    webauthnPage(ctx, { name: ctx.state.t('methods.webauthn') }),
  );
  async function enrolWebauthn(ctx: AccountCtx, input: z.output<typeof WebauthnForm>) {
    const row = await webauthn.finishRegistration(ctx.state.account.id, input.name, input.credential);
    if (!row) throw enrolmentRefused('webauthn_failed');
    await enrolled(ctx, row);
  }
  const enrolWebauthnView = (ctx: AccountCtx, f: FormState, status: number) =>
    webauthnPage(ctx, { name: f.values.name ?? '' }, f.error, status);
  const webauthnOpts = { ...opts, invalid: enrolInvalid('webauthn_failed') };
  router.post(
    '/webauthn',
    webauthnOffered,
    form(WebauthnForm, whenFresh(enrolWebauthn), enrolWebauthnView, webauthnOpts),
  );

  // SMS: the number (CH, FR, BE, DE mobiles only), then the code sent to it.
  const smsForm = (ctx: AccountCtx, values: Record<string, string>, error?: string, status = 200) =>
    renderPage(ctx, 'security-sms', { values, countries: SMS_COUNTRIES, error }, status);
  const codePage = (ctx: AccountCtx, pending: { e164: string; name: string }, error?: string, status = 200) =>
    renderPage(ctx, 'security-sms-code', { masked: maskPhone(pending.e164), error }, status);
  router.get('/sms/new', fresh, (ctx) => {
    smsForm(ctx, { name: ctx.state.t('methods.sms'), country: COUNTRY_FOR_LOCALE[ctx.state.locale] ?? 'CH' });
  });
  async function sendEnrolmentCode(ctx: AccountCtx, number: { e164: string; name: string }) {
    const sent = await sms.beginEnrolment(ctx.state.account.id, number, { ip: ctx.ip, locale: ctx.state.locale });
    if (!sent.ok) throw new AppError(sent.reason === 'rate_limited' ? 'rate_limited' : 'sms_unavailable');
    // Post/redirect/get: a reload of the code page sends no second SMS.
    seeOther(ctx, `${BASE}/sms/code`);
  }
  async function enrolSms(ctx: AccountCtx, input: z.output<typeof SmsForm>) {
    await sendEnrolmentCode(ctx, { e164: parseMobileOrThrow(input.phone, input.country), name: input.name });
  }
  router.get('/sms/code', async (ctx) => {
    const pending = await sms.pendingEnrolment(ctx.state.account.id);
    if (!pending) return seeOther(ctx, `${BASE}/sms/new`);
    codePage(ctx, pending);
  });
  // Another code to the number being enrolled (kept server-side: the page never holds the number).
  async function resendSms(ctx: AccountCtx) {
    const pending = await sms.pendingEnrolment(ctx.state.account.id);
    if (!pending) return seeOther(ctx, `${BASE}/sms/new`);
    await sendEnrolmentCode(ctx, pending);
  }
  const resendView = async (ctx: AccountCtx, f: FormState, status: number) => {
    const pending = await sms.pendingEnrolment(ctx.state.account.id);
    if (!pending) return smsForm(ctx, {}, f.error, status);
    codePage(ctx, pending, f.error, status);
  };
  router.post('/sms/resend', form(NoFields, whenFresh(resendSms), resendView, opts));
  const enrolSmsView = (ctx: AccountCtx, f: FormState, status: number) => smsForm(ctx, f.values, f.error, status);
  const smsOpts = { ...opts, invalid: enrolInvalid('phone_invalid') };
  router.post('/sms', form(SmsForm, whenFresh(enrolSms), enrolSmsView, smsOpts));
  async function confirmSms(ctx: AccountCtx, input: z.output<typeof CodeForm>) {
    const { id } = ctx.state.account;
    const pending = await sms.pendingEnrolment(id);
    if (!pending) return seeOther(ctx, `${BASE}/sms/new`);
    const row = input.code ? await sms.confirmEnrolment(id, input.code) : undefined;
    if (row) return enrolled(ctx, row);
    // Five wrong codes spend the code: start again with the number.
    if (!(await sms.pendingEnrolment(id))) return smsForm(ctx, { name: pending.name }, 'code_expired', 400);
    codePage(ctx, pending, 'invalid_code', 400);
  }
  router.post('/sms/confirm', form(CodeForm, whenFresh(confirmSms), undefined, opts));

  // kAuth app: a QR code with a single-use enrolment link; the page watches for the device to link.
  router.get('/push/new', fresh, async (ctx) => {
    const { url, enrolmentId } = await push.beginEnrolment(ctx.state.account.id);
    const qrSvg = await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
    renderPage(ctx, 'security-push', { url, enrolmentId, qrSvg });
  });
  router.get('/push/enrolments/:id', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await push.enrolmentStatus(ctx.state.account.id, String(ctx.params.id));
  });
  router.get('/push/enrolments/:id/done', async (ctx) => {
    const codes = await push.takeEnrolmentCodes(ctx.state.account.id, String(ctx.params.id));
    if (codes) return showBackupCodes(ctx, codes, true);
    seeOther(ctx, `${BASE}?done=added`);
  });

  router.get('/factors/:id/rename', fresh, ownFactor, (ctx) => {
    const { factor } = ctx.state;
    renderPage(ctx, 'security-rename', { factor, values: { name: factorName(ctx.state.t, factor.type, factor.name) } });
  });
  async function renameFactor(ctx: FactorCtx, input: z.output<typeof RenameForm>) {
    await security.rename(ctx.state.account, ctx.state.factor, input.name, requestInfo(ctx));
    seeOther(ctx, `${BASE}?done=renamed`);
  }
  const renameFactorView = (ctx: FactorCtx, f: FormState, status: number) => {
    renderPage(ctx, 'security-rename', { factor: ctx.state.factor, ...formData(f) }, status);
  };
  router.post('/factors/:id/rename', ownFactor, form(RenameForm, whenFresh(renameFactor), renameFactorView, opts));

  async function makeDefault(ctx: FactorCtx) {
    await security.setDefault(ctx.state.account, ctx.state.factor, requestInfo(ctx));
    seeOther(ctx, `${BASE}?done=default`);
  }
  router.post('/factors/:id/default', ownFactor, form(NoFields, makeDefault, undefined, opts));

  /** The confirmation of a removal; turning 2FA off also says what becomes of the app passwords. */
  const removePage = async (
    ctx: AccountCtx,
    factor: SecondFactorRow | undefined,
    last: boolean,
    f?: { state: FormState; status: number },
  ) => {
    const appPasswords = last ? await deps.appPasswords.count(ctx.state.account.id) : 0;
    const data = { factor, last, appPasswords, error: f?.state.error, values: f?.state.values ?? {} };
    renderPage(ctx, 'security-remove', data, f?.status ?? 200);
  };
  router.get('/factors/:id/remove', fresh, ownFactor, async (ctx) => {
    const { factors } = await security.overview(ctx.state.account.id);
    await removePage(ctx, ctx.state.factor, factors.length === 1);
  });
  /** 2FA was turned off: the app passwords went with it unless the user chose to keep them. */
  const turnOff = (input: z.output<typeof ConfirmDisableForm>) => ({
    keepAppPasswords: input.keep_app_passwords === 'yes',
  });
  const afterDisabled = (ctx: AccountCtx, revoked: number) =>
    seeOther(ctx, `${BASE}?done=disabled${revoked ? `&app_passwords_revoked=${revoked}` : ''}`);
  async function removeFactor(ctx: FactorCtx, input: z.output<typeof ConfirmDisableForm>) {
    const { factors } = await security.overview(ctx.state.account.id);
    // Removing the last method turns 2FA off: only after the warning was shown and confirmed.
    if (factors.length === 1 && input.confirm_disable !== 'yes') throw new AppError('confirm_disable');
    const removed = await security.remove(ctx.state.account, ctx.state.factor, requestInfo(ctx), turnOff(input));
    if (removed.outcome === 'disabled') return afterDisabled(ctx, removed.appPasswordsRevoked);
    seeOther(ctx, `${BASE}?done=removed`);
  }
  const removeFactorView = (ctx: FactorCtx, state: FormState, status: number) =>
    removePage(ctx, ctx.state.factor, true, { state, status });
  const remove = form(ConfirmDisableForm, whenFresh(removeFactor), removeFactorView, opts);
  router.post('/factors/:id/remove', ownFactor, remove);

  router.get('/disable', fresh, (ctx) => removePage(ctx, undefined, true));
  async function disable2fa(ctx: AccountCtx, input: z.output<typeof ConfirmDisableForm>) {
    if (input.confirm_disable !== 'yes') throw new AppError('confirm_disable');
    const { appPasswordsRevoked } = await security.disable(ctx.state.account, requestInfo(ctx), turnOff(input));
    afterDisabled(ctx, appPasswordsRevoked);
  }
  const disable2faView = (ctx: AccountCtx, state: FormState, status: number) =>
    removePage(ctx, undefined, true, { state, status });
  router.post('/disable', form(ConfirmDisableForm, whenFresh(disable2fa), disable2faView, opts));

  // New backup codes replace every old one: confirmed on their own page first.
  const regeneratePage = async (ctx: AccountCtx, error?: string, status = 200) => {
    const { enabled, backupCodesLeft } = await security.overview(ctx.state.account.id);
    if (!enabled) return seeOther(ctx, BASE);
    renderPage(ctx, 'security-backup-codes-new', { left: backupCodesLeft, error }, status);
  };
  router.get('/backup-codes/new', fresh, (ctx) => regeneratePage(ctx));
  async function newBackupCodes(ctx: AccountCtx) {
    const codes = await security.regenerateBackupCodes(ctx.state.account, requestInfo(ctx));
    if (!codes) return seeOther(ctx, BASE);
    await toBackupCodes(ctx, codes, false);
  }
  const regenerateView = (ctx: AccountCtx, f: FormState, status: number) => regeneratePage(ctx, f.error, status);
  const regenerateOpts = { ...opts, invalid: () => new AppError('confirm_required') };
  router.post('/backup-codes', form(RegenerateForm, whenFresh(newBackupCodes), regenerateView, regenerateOpts));
  // The codes the POST before made, the first time only; a reload says they were shown once.
  router.get('/backup-codes', async (ctx) => {
    const shown = await shownOnce.take(ctx, 'backup-codes', ctx.query.shown);
    if (shown) return showBackupCodes(ctx, shown.codes, shown.first);
    renderPage(ctx, 'security-backup-codes', { codes: [], spent: true });
  });

  // Security → API tokens: on this router, so a creation held for the password is applied here.
  router.use(createApiTokenPages(deps).routes() as unknown as Parameters<typeof router.use>[0]);
  // Security → App passwords: likewise.
  router.use(createAppPasswordPages(deps).routes() as unknown as Parameters<typeof router.use>[0]);

  return router;
}
