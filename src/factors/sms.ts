// SMS codes — as a second factor only to mobile numbers of Switzerland, France, Belgium and Germany
// (a recovery mobile may be from any country). Six digits, five minutes, stored as an HMAC in the
// store, five attempts each, single-use by an atomic GETDEL. Sends are limited per number, per
// account and per IP.
import crypto from 'node:crypto';
import {
  parsePhoneNumberFromString,
  getCountries,
  getCountryCallingCode,
  type CountryCode,
} from 'libphonenumber-js/max';
import type { SecondFactorsRepo, SecondFactorRow } from '../db/repositories/second-factors.ts';
import type { Store } from '../store/store.ts';
import { MESSAGE_WINDOW_SECONDS, type RateLimiter } from '../http/rate-limit.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../lib/logger.ts';
import type { SmsTransport } from '../notify/sms.ts';
import { smsTexts } from '../notify/sms-texts.ts';
import type { Locale } from '../http/i18n.ts';
import { encrypt, decrypt, hmac, constantTimeEqual } from '../lib/crypto.ts';
import type { SecondFactor, Ceremony } from './second-factor.ts';
import { AppError } from '../errors.ts';
import { normalizeCode } from './totp.ts';
import { required } from '../lib/required.ts';

export const SMS_COUNTRIES: readonly CountryCode[] = ['CH', 'FR', 'BE', 'DE'];
const CODE_TTL = 5 * 60;
const MAX_ATTEMPTS = 5;

export type PhoneResult =
  { ok: true; e164: string } | { ok: false; error: 'phone_invalid' | 'phone_country' | 'phone_not_mobile' };

const ALL_COUNTRIES = new Set<string>(getCountries());
/** Mobile numbers, and the numbers a country's plan does not tell from landlines (US, CA, …). */
const MOBILE_TYPES = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE']);

/** Parses what a user typed: international (+41…, 0041…) or national with the chosen country.
 *  `anyCountry` for a recovery mobile; a second factor must be from SMS_COUNTRIES. */
function parseMobile(input: string, country: string | undefined, anyCountry: boolean): PhoneResult {
  const cleaned = input.trim().replace(/^00/, '+');
  if (!cleaned || cleaned.length > 32) return { ok: false, error: 'phone_invalid' };
  const allowed = (c: string | undefined) =>
    !!c && (anyCountry ? ALL_COUNTRIES.has(c) : SMS_COUNTRIES.includes(c as CountryCode));
  const fallback = allowed(country) ? (country as CountryCode) : undefined;
  const phone = parsePhoneNumberFromString(cleaned, fallback ? { defaultCountry: fallback } : undefined);
  if (!phone || !phone.isValid()) return { ok: false, error: 'phone_invalid' };
  if (!allowed(phone.country)) return { ok: false, error: 'phone_country' };
  const type = phone.getType();
  if (anyCountry ? !MOBILE_TYPES.has(type ?? '') : type !== 'MOBILE') return { ok: false, error: 'phone_not_mobile' };
  return { ok: true, e164: phone.number };
}

/** parseMobile for forms: the E.164 number, or an AppError naming what is wrong with it. */
export function parseMobileOrThrow(
  input: string,
  country: string | undefined,
  opts: { anyCountry?: boolean } = {},
): string {
  const phone = parseMobile(input, country, opts.anyCountry === true);
  if (!phone.ok) throw new AppError(phone.error, { fields: ['phone'] });
  return phone.e164;
}

/** Every country a recovery mobile may be from, named in `locale` with its calling code, by name. */
export function recoveryCountries(locale: string): Array<{ code: string; label: string }> {
  const names = new Intl.DisplayNames([locale], { type: 'region' });
  return getCountries()
    .map((code) => ({ code, label: `${names.of(code) ?? code} (+${getCountryCallingCode(code)})` }))
    .sort((a, b) => a.label.localeCompare(b.label, locale));
}

/** +41 •• ••• •• 67: enough for the user to recognise their number, not enough to learn it. */
/** A number shown without giving it away: its own country code, then only its last two digits
 *  (+1 •••••••23, +41 •••••••67). */
export function maskPhone(e164: string): string {
  const cc = parsePhoneNumberFromString(e164)?.countryCallingCode ?? e164.slice(1, 3);
  const rest = e164.length - 1 - cc.length;
  return `+${cc} ${'•'.repeat(Math.max(0, rest - 2))}${e164.slice(-2)}`;
}

export type SendResult = { ok: true } | { ok: false; reason: 'rate_limited' | 'unavailable' };

/** Six-digit codes kept under a store key: a fresh one replaces the last; each has MAX_ATTEMPTS
 *  tries (counted before looking, so a missing code costs what a wrong one does) and only one caller
 *  can spend it. Used by the SMS factor and by the password reset to a recovery mobile. */
export function createSmsCodes(deps: { store: Store; hashKey: Buffer }) {
  const { store, hashKey } = deps;
  const codeHash = (key: string, code: string) => hmac(hashKey, `sms-code:${key}:${code}`);
  return {
    async issue(key: string): Promise<string> {
      const code = crypto.randomInt(0, 1_000_000).toString().padStart(6, '0');
      await store.del(`${key}:n`);
      await store.set(key, codeHash(key, code), CODE_TTL);
      return code;
    },
    async check(key: string, input: string | undefined): Promise<boolean> {
      const code = normalizeCode(input);
      const tries = await store.incr(`${key}:n`, CODE_TTL);
      const stored = await store.get(key);
      if (!stored) return false;
      if (tries > MAX_ATTEMPTS) {
        await store.del(key);
        return false;
      }
      if (!/^\d{6}$/.test(code) || !constantTimeEqual(stored, codeHash(key, code))) return false;
      return (await store.getDel(key)) === stored;
    },
    forget: (key: string) => store.del(key),
  };
}
export type SmsCodes = ReturnType<typeof createSmsCodes>;

export function createSmsFactor(deps: {
  repo: SecondFactorsRepo;
  store: Store;
  limiter: RateLimiter;
  transport: SmsTransport;
  config: Pick<Config, 'encryptionKey' | 'hashKey' | 'issuer'> & {
    rateLimits: Pick<Config['rateLimits'], 'smsPerNumber' | 'smsPerAccount' | 'smsPerIp'>;
  };
  logger: Logger;
}) {
  const { repo, store, limiter, transport } = deps;
  const { encryptionKey, hashKey } = deps.config;
  const limits = {
    perNumber: deps.config.rateLimits.smsPerNumber,
    perAccount: deps.config.rateLimits.smsPerAccount,
    perIp: deps.config.rateLimits.smsPerIp,
  };
  const issuerHost = new URL(deps.config.issuer).host;
  const codes = createSmsCodes({ store, hashKey });

  /** Rate limits, then a fresh code stored under `key` (replacing any earlier one), then the SMS. */
  async function sendCode(
    key: string,
    message: { to: string; kind: string; locale: Locale },
    who: { accountId: string; ip: string },
  ): Promise<SendResult> {
    const { to, kind, locale } = message;
    const { accountId, ip } = who;
    const numberKey = hmac(hashKey, `sms-number:${to}`);
    const allowed = await Promise.all([
      limiter.hit('sms-number', numberKey, limits.perNumber, MESSAGE_WINDOW_SECONDS),
      limiter.hit('sms-account', accountId, limits.perAccount, MESSAGE_WINDOW_SECONDS),
      limiter.hit('sms-ip', ip, limits.perIp, MESSAGE_WINDOW_SECONDS),
    ]);
    if (allowed.includes(false)) return { ok: false, reason: 'rate_limited' };
    const code = await codes.issue(key);
    try {
      await transport.send({ to, text: smsTexts.code(locale, code, issuerHost), kind });
    } catch (err) {
      deps.logger.error({ err: String(err) }, 'SMS could not be sent');
      await codes.forget(key);
      return { ok: false, reason: 'unavailable' };
    }
    return { ok: true };
  }

  const loginKey = (c: Ceremony, factorId: string) => `sms-login:${c.key}:${c.accountId}:${factorId}`;
  const phoneOf = (row: SecondFactorRow) => decrypt(encryptionKey, required(row.secret, 'SMS number'));

  async function chosenRow(c: Ceremony): Promise<SecondFactorRow | undefined> {
    const rows = await repo.list(c.accountId, 'sms');
    return (
      rows.find((r) => r.id === c.factorId) ?? (c.factorId ? undefined : (rows.find((r) => r.isDefault) ?? rows[0]))
    );
  }

  const factor = {
    id: 'sms',
    amr: 'sms', // RFC 8176 §2: confirmation using SMS
    async choices(_accountId: string, rows: SecondFactorRow[]) {
      return rows
        .filter((r) => r.type === 'sms')
        .map((r) => ({
          method: 'sms' as const,
          factorId: r.id,
          label: `${r.name} (${maskPhone(phoneOf(r))})`,
          isDefault: r.isDefault,
        }));
    },
    /** Sends a code when the page first opens for this number, and again only when asked. */
    async challenge(c, opts) {
      const row = await chosenRow(c);
      if (!row) return { ok: false, reason: 'unavailable' };
      const key = loginKey(c, row.id);
      const view = { masked: maskPhone(phoneOf(row)), factorId: row.id };
      if (opts.mode === 'retry' || (opts.mode === 'open' && (await store.get(key)) !== null)) return { ok: true, view };
      const sent = await sendCode(key, { to: phoneOf(row), kind: 'login_code', locale: c.locale }, c);
      return sent.ok ? { ok: true, view } : sent;
    },
    async verify(c, answer) {
      const row = await chosenRow(c);
      if (!row || !(await codes.check(loginKey(c, row.id), answer.code))) return false;
      await repo.touch(row.id);
      return true;
    },
  } satisfies SecondFactor;

  const enrolKey = (accountId: string) => `sms-enrol:${accountId}`;
  async function pendingEnrolment(accountId: string): Promise<{ e164: string; name: string } | undefined> {
    const boxed = await store.get(`${enrolKey(accountId)}:what`);
    return boxed ? (JSON.parse(decrypt(encryptionKey, boxed)) as { e164: string; name: string }) : undefined;
  }
  return {
    ...factor,
    /** Sends the first code to the number being enrolled (`name`: the user's name for it). */
    async beginEnrolment(
      accountId: string,
      number: { e164: string; name: string },
      from: { ip: string; locale: Locale },
    ): Promise<SendResult> {
      const { e164, name } = number;
      const sent = await sendCode(
        enrolKey(accountId),
        { to: e164, kind: 'enrol_code', locale: from.locale },
        { accountId, ip: from.ip },
      );
      if (sent.ok)
        await store.set(
          `${enrolKey(accountId)}:what`,
          encrypt(encryptionKey, JSON.stringify({ e164, name })),
          CODE_TTL,
        );
      return sent;
    },
    pendingEnrolment,
    async confirmEnrolment(accountId: string, code: string): Promise<SecondFactorRow | undefined> {
      const pending = await pendingEnrolment(accountId);
      if (!pending || !(await codes.check(enrolKey(accountId), code))) return undefined;
      await store.del(`${enrolKey(accountId)}:what`);
      return repo.create({ accountId, type: 'sms', name: pending.name, secret: encrypt(encryptionKey, pending.e164) });
    },
    maskedNumber: (row: SecondFactorRow) => maskPhone(phoneOf(row)),
  };
}
export type SmsFactor = ReturnType<typeof createSmsFactor>;
