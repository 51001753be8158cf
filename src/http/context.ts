import type { ParameterizedContext, DefaultState } from 'koa';
import type { Locale, Translate } from './i18n.ts';

export interface SesameState extends DefaultState {
  locale: Locale;
  t: Translate;
  csrfToken: string;
  /** Set by the account pages' guard. */
  accountId?: string;
}

export type Ctx = ParameterizedContext<SesameState>;
