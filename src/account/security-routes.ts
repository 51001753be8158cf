// The Security page: turn 2FA on by adding a first method, list methods with their last use, add
// and remove them, choose the default, backup codes. Changes need a recent sign-in or the password
// again (reauth.ts), and each one sends an email.
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { z } from 'zod';
import type { Next } from 'koa';
import type { SesameState, Ctx } from '../http/context.ts';
import type { Csrf } from '../http/csrf.ts';
import { renderPage } from '../http/render.ts';
import { parseForm, formValues } from '../http/forms.ts';
import { safeReturnPath } from '../http/return-path.ts';
import type { Account } from '../db/repositories/accounts.ts';
import type { SecondFactorRow } from '../db/repositories/second-factors.ts';
import type { SessionGuard } from './session-guard.ts';
import type { Reauth } from './reauth.ts';
import type { SecurityService } from './security-service.ts';
import type { TotpFactor } from '../factors/totp.ts';
import type { WebauthnFactor } from '../factors/webauthn.ts';
import { parseMobile, maskPhone, SMS_COUNTRIES, type SmsFactor } from '../factors/sms.ts';
import type { PushFactor } from '../factors/push.ts';
import QRCode from 'qrcode';
import { AppError } from '../errors.ts';
import { requestInfo } from '../http/request-info.ts';
import { LOCKOUT_MIN, LOCKOUT_MAX } from './lockout.ts';

const BASE = '/account/security';
const nameOf = z.string().trim().min(1).max(60);
const TotpForm = z.object({ name: nameOf, code: z.string().trim().min(1).max(20) });
const WebauthnForm = z.object({ name: nameOf, credential: z.string().min(1).max(65_536) });
const SmsForm = z.object({ name: nameOf, country: z.string().max(2).optional(), phone: z.string().trim().min(1).max(40) });
const CodeForm = z.object({ code: z.string().trim().min(1).max(20) });
const RenameForm = z.object({ name: nameOf });
const ProtectionForm = z.object({
  lockout_threshold: z.coerce.number().int().min(LOCKOUT_MIN).max(LOCKOUT_MAX),
  alert_every_sign_in: z.literal('yes').optional(),
  alert_failed_password: z.literal('yes').optional(),
});
const PasswordForm = z.object({ password: z.string().min(1).max(1024), return: z.string().max(200).optional() });

export interface SecurityDeps {
  csrf: Csrf;
  guard: SessionGuard;
  reauth: Reauth;
  security: SecurityService;
  totp: TotpFactor;
  webauthn: WebauthnFactor;
  sms: SmsFactor;
  push: PushFactor;
}

/** The country pre-selected for a national number, from the user's language. */
const COUNTRY_FOR_LOCALE: Record<string, string> = { fr: 'FR', de: 'DE', it: 'CH', es: 'CH', en: 'CH' };

export function createSecurityRouter(deps: SecurityDeps) {
  const { csrf, guard, reauth, security, totp, webauthn, sms, push } = deps;
  const router = new Router<SesameState>({ prefix: BASE });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '128kb' }), guard.require);
  router.use(csrf.forChanges);

  const accountOf = (ctx: Ctx) => (ctx.state as { account?: Account }).account!;
  const body = (ctx: Ctx) => ctx.request.body as Record<string, unknown>;
  const seeOther = (ctx: Ctx, to: string) => { ctx.status = 303; ctx.redirect(to); };

  /** Sensitive pages and actions: without a recent sign-in, ask for the password first. */
  async function fresh(ctx: Ctx, next: Next) {
    if (await reauth.isFresh(ctx)) return next();
    const back = ctx.method === 'GET' ? ctx.path : BASE;
    seeOther(ctx, `${BASE}/confirm-password?return=${encodeURIComponent(back)}`);
  }
  async function ownFactor(ctx: Ctx): Promise<SecondFactorRow> {
    const row = await security.findFactor(accountOf(ctx).id, String(ctx.params.id));
    if (!row) throw new AppError('not_found');
    return row;
  }
  async function showBackupCodes(ctx: Ctx, codes: string[], first: boolean) {
    const account = accountOf(ctx);
    const text = [ctx.state.t('backupCodes.fileTitle', { email: account.email }), '', ...codes, '', ctx.state.t('backupCodes.fileHint')].join('\n');
    renderPage(ctx, 'security-backup-codes', { codes, first, download: `data:text/plain;charset=utf-8,${encodeURIComponent(text)}` });
  }
  /** After an enrolment: the first method shows the new backup codes once; others go back to the list. */
  async function enrolled(ctx: Ctx, row: SecondFactorRow) {
    const codes = await security.added(accountOf(ctx), row, requestInfo(ctx));
    if (codes) return showBackupCodes(ctx, codes, true);
    seeOther(ctx, `${BASE}?done=added`);
  }

  const overviewPage = async (ctx: Ctx, extra: Record<string, unknown> = {}, status = 200) => {
    const account = accountOf(ctx);
    const overview = await security.overview(account.id);
    renderPage(ctx, 'security', {
      ...overview, done: typeof ctx.query.done === 'string' ? ctx.query.done : undefined, zone: account.zoneinfo,
      protection: { lockout_threshold: String(account.lockoutThreshold), alert_every_sign_in: account.alertEverySignIn, alert_failed_password: account.alertFailedPassword },
      lockoutRange: [LOCKOUT_MIN, LOCKOUT_MAX], ...extra,
    }, status);
  };
  router.get('/', (ctx) => overviewPage(ctx));

  // Lockout threshold and alerts: weakening protection asks for the password like any other change.
  router.post('/protection', fresh, async (ctx) => {
    const form = parseForm(ProtectionForm, body(ctx));
    if (!form.ok) return overviewPage(ctx, { error: 'invalid_input', protection: { ...form.values, alert_every_sign_in: form.values.alert_every_sign_in === 'yes', alert_failed_password: form.values.alert_failed_password === 'yes' } }, 400);
    await security.setProtection(accountOf(ctx), {
      lockoutThreshold: form.data.lockout_threshold, alertEverySignIn: form.data.alert_every_sign_in === 'yes', alertFailedPassword: form.data.alert_failed_password === 'yes',
    }, requestInfo(ctx));
    seeOther(ctx, `${BASE}?done=protection`);
  });

  router.get('/confirm-password', (ctx) => {
    renderPage(ctx, 'security-confirm-password', { values: { return: safeReturnPath(ctx.query.return) ?? BASE } });
  });
  router.post('/confirm-password', async (ctx) => {
    const form = parseForm(PasswordForm, body(ctx));
    const back = (form.ok ? safeReturnPath(form.data.return) : undefined) ?? BASE;
    if (!form.ok) return renderPage(ctx, 'security-confirm-password', { values: { return: back }, error: 'invalid_input' }, 400);
    const result = await reauth.confirm(ctx, accountOf(ctx), form.data.password);
    if (result !== 'ok') return renderPage(ctx, 'security-confirm-password', { values: { return: back }, error: result === 'rate_limited' ? 'rate_limited' : 'wrong_password' }, result === 'rate_limited' ? 429 : 401);
    seeOther(ctx, back);
  });

  // Authenticator app: QR code (SVG) and the key as text; confirmed by a first valid code.
  async function totpPage(ctx: Ctx, values: Record<string, string>, error?: string, status = 200) {
    const account = accountOf(ctx);
    const { secret, qrSvg } = await totp.beginEnrolment(account.id, account.email);
    renderPage(ctx, 'security-totp', { qrSvg, secret: secret.replace(/(.{4})/g, '$1 ').trim(), values, error }, status);
  }
  router.get('/totp/new', fresh, (ctx) => totpPage(ctx, { name: ctx.state.t('methods.totp') }));
  router.post('/totp', fresh, async (ctx) => {
    const form = parseForm(TotpForm, body(ctx));
    if (!form.ok) return totpPage(ctx, form.values, form.fields.includes('name') ? 'name_required' : 'invalid_code', 400);
    const row = await totp.confirmEnrolment(accountOf(ctx).id, form.data.name, form.data.code);
    if (!row) return totpPage(ctx, { name: form.data.name }, 'invalid_code', 400);
    await enrolled(ctx, row);
  });

  // Security key: the browser creates the credential (views/static/webauthn.js) and posts it.
  async function webauthnPage(ctx: Ctx, values: Record<string, string>, error?: string, status = 200) {
    const options = await webauthn.beginRegistration(accountOf(ctx));
    renderPage(ctx, 'security-webauthn', { options: JSON.stringify(options), values, error }, status);
  }
  router.get('/webauthn/new', fresh, (ctx) => webauthnPage(ctx, { name: ctx.state.t('methods.webauthn') }));
  router.post('/webauthn', fresh, async (ctx) => {
    const form = parseForm(WebauthnForm, body(ctx));
    if (!form.ok) return webauthnPage(ctx, { name: form.values.name ?? '' }, form.fields.includes('name') ? 'name_required' : 'webauthn_failed', 400);
    const row = await webauthn.finishRegistration(accountOf(ctx).id, form.data.name, form.data.credential);
    if (!row) return webauthnPage(ctx, { name: form.data.name }, 'webauthn_failed', 400);
    await enrolled(ctx, row);
  });

  // SMS: the number (CH, FR, BE, DE mobiles only), then the code sent to it.
  const smsForm = (ctx: Ctx, values: Record<string, string>, error?: string, status = 200) =>
    renderPage(ctx, 'security-sms', { values, countries: SMS_COUNTRIES, error }, status);
  router.get('/sms/new', fresh, (ctx) => smsForm(ctx, { name: ctx.state.t('methods.sms'), country: COUNTRY_FOR_LOCALE[ctx.state.locale] ?? 'CH' }));
  router.post('/sms', fresh, async (ctx) => {
    const raw = body(ctx);
    const form = parseForm(SmsForm, raw);
    if (!form.ok) return smsForm(ctx, form.values, form.fields.includes('name') ? 'name_required' : 'phone_invalid', 400);
    const phone = parseMobile(form.data.phone, form.data.country);
    if (!phone.ok) return smsForm(ctx, formValues(raw), phone.error, 400);
    const sent = await sms.beginEnrolment(accountOf(ctx).id, phone.e164, form.data.name, ctx.ip, ctx.state.locale);
    if (!sent.ok) return smsForm(ctx, formValues(raw), sent.reason === 'rate_limited' ? 'rate_limited' : 'sms_unavailable', sent.reason === 'rate_limited' ? 429 : 503);
    renderPage(ctx, 'security-sms-code', { masked: maskPhone(phone.e164), resend: { name: form.data.name, country: form.data.country ?? '', phone: form.data.phone } });
  });
  router.post('/sms/confirm', fresh, async (ctx) => {
    const form = parseForm(CodeForm, body(ctx));
    const account = accountOf(ctx);
    const pending = await sms.pendingEnrolment(account.id);
    if (!pending) return seeOther(ctx, `${BASE}/sms/new`);
    const row = form.ok ? await sms.confirmEnrolment(account.id, form.data.code) : undefined;
    if (!row) {
      const again = await sms.pendingEnrolment(account.id);
      if (!again) return smsForm(ctx, { name: pending.name }, 'code_expired', 400);
      return renderPage(ctx, 'security-sms-code', { masked: maskPhone(pending.e164), resend: { name: pending.name, country: '', phone: pending.e164 }, error: 'invalid_code' }, 400);
    }
    await enrolled(ctx, row);
  });

  // kAuth app: a QR code with a single-use enrolment link; the page watches for the device to link.
  router.get('/push/new', fresh, async (ctx) => {
    const { url, enrolmentId } = await push.beginEnrolment(accountOf(ctx).id);
    const qrSvg = await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
    renderPage(ctx, 'security-push', { url, enrolmentId, qrSvg });
  });
  router.get('/push/enrolments/:id', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await push.enrolmentStatus(accountOf(ctx).id, String(ctx.params.id));
  });
  router.get('/push/enrolments/:id/done', async (ctx) => {
    const codes = await push.takeEnrolmentCodes(accountOf(ctx).id, String(ctx.params.id));
    if (codes) return showBackupCodes(ctx, codes, true);
    seeOther(ctx, `${BASE}?done=added`);
  });

  router.get('/factors/:id/rename', fresh, async (ctx) => {
    const factor = await ownFactor(ctx);
    renderPage(ctx, 'security-rename', { factor, values: { name: factor.name } });
  });
  router.post('/factors/:id/rename', fresh, async (ctx) => {
    const factor = await ownFactor(ctx);
    const form = parseForm(RenameForm, body(ctx));
    if (!form.ok) return renderPage(ctx, 'security-rename', { factor, values: form.values, error: 'name_required' }, 400);
    await security.rename(accountOf(ctx), factor, form.data.name, requestInfo(ctx));
    seeOther(ctx, `${BASE}?done=renamed`);
  });

  router.post('/factors/:id/default', async (ctx) => {
    body(ctx);
    await security.setDefault(accountOf(ctx), await ownFactor(ctx), requestInfo(ctx));
    seeOther(ctx, `${BASE}?done=default`);
  });

  router.get('/factors/:id/remove', fresh, async (ctx) => {
    const factor = await ownFactor(ctx);
    const { factors } = await security.overview(accountOf(ctx).id);
    renderPage(ctx, 'security-remove', { factor, last: factors.length === 1 });
  });
  router.post('/factors/:id/remove', fresh, async (ctx) => {
    const v = formValues(body(ctx));
    const factor = await ownFactor(ctx);
    const { factors } = await security.overview(accountOf(ctx).id);
    // Removing the last method turns 2FA off: only after the warning was shown and confirmed.
    if (factors.length === 1 && v.confirm_disable !== 'yes') return renderPage(ctx, 'security-remove', { factor, last: true, error: 'confirm_disable' }, 400);
    const outcome = await security.remove(accountOf(ctx), factor, requestInfo(ctx));
    seeOther(ctx, `${BASE}?done=${outcome === 'disabled' ? 'disabled' : 'removed'}`);
  });

  router.get('/disable', fresh, (ctx) => renderPage(ctx, 'security-remove', { factor: undefined, last: true }));
  router.post('/disable', fresh, async (ctx) => {
    const v = formValues(body(ctx));
    if (v.confirm_disable !== 'yes') return renderPage(ctx, 'security-remove', { factor: undefined, last: true, error: 'confirm_disable' }, 400);
    await security.disable(accountOf(ctx), requestInfo(ctx));
    seeOther(ctx, `${BASE}?done=disabled`);
  });

  router.post('/backup-codes', fresh, async (ctx) => {
    body(ctx);
    const codes = await security.regenerateBackupCodes(accountOf(ctx), requestInfo(ctx));
    if (!codes) return seeOther(ctx, BASE);
    await showBackupCodes(ctx, codes, false);
  });

  return router;
}
