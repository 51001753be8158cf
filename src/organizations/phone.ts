// An organization's phone: any valid number of any country (a switchboard is a landline, unlike a
// recovery mobile), kept in E.164 and shown in the international format.
import { getCountries, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { AppError } from '../errors.ts';

const COUNTRIES = new Set<string>(getCountries());

/** What the user typed, international (+41…, 0041…) or national in `country`: E.164, or phone_invalid. */
export function parseOrganizationPhone(input: string, country: string | undefined): string {
  const cleaned = input.trim().replace(/^00/, '+');
  const defaultCountry = country && COUNTRIES.has(country) ? (country as CountryCode) : undefined;
  const phone =
    cleaned.length <= 32
      ? parsePhoneNumberFromString(cleaned, defaultCountry ? { defaultCountry } : undefined)
      : undefined;
  if (!phone?.isValid())
    throw new AppError('phone_invalid', { fields: ['phone'], fieldErrors: { phone: 'invalid_format' } });
  return phone.number;
}

/** +41 44 668 18 00 */
export function formatPhone(e164: string | null | undefined): string {
  if (!e164) return '';
  return parsePhoneNumberFromString(e164)?.formatInternational() ?? e164;
}
