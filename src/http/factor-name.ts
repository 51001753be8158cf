// A second factor's name as the reader should see it. A method the user did not rename keeps the
// default name the enrolment form suggested, stored in the language of that day ("Authenticator
// app"); it is shown as the default of the reader's language instead ("Application
// d'authentification"), for rows stored before and after this rule alike.
import { LOCALES, translator, type Translate } from './i18n.ts';

const defaults = LOCALES.map((l) => translator(l));

/** True when `name` is the default name of method `type` in one of our languages. */
export function isDefaultFactorName(type: string, name: string): boolean {
  const trimmed = name.trim();
  return defaults.some((t) => {
    const key = `methods.${type}`;
    const value = t(key);
    return value !== key && value === trimmed;
  });
}

/** The name to show: the user's own, or the reader's translation of the default. */
export function factorName(t: Translate, type: string, name: string): string {
  return isDefaultFactorName(type, name) ? t(`methods.${type}`) : name;
}
