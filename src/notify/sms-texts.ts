// SMS texts from the locale catalogs. The last line follows the WebOTP format ("@host #code") so
// phones can offer to fill the code in.
import { translator, type Locale } from '../http/i18n.ts';

export const smsTexts = {
  code: (locale: Locale, code: string, host: string) =>
    `${translator(locale)('sms.code', { code })}\n\n@${host} #${code}`,
};
