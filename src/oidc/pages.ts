// Pages oidc-provider renders itself (logout confirmation, logout done, protocol errors), in the
// user's language and Sesame's look.
import type { KoaContextWithOIDC } from 'oidc-provider';
import { renderPage } from '../http/render.ts';
import type { Ctx } from '../http/context.ts';
import { resolveLocale } from '../http/i18n.ts';
import { setLocale } from '../http/locale.ts';

function localize(ctx: KoaContextWithOIDC): Ctx {
  const c = ctx as unknown as Ctx;
  const ui = ctx.oidc?.params?.ui_locales;
  if (typeof ui === 'string') setLocale(c, resolveLocale({ uiLocales: ui, acceptLanguage: ctx.get('Accept-Language') }));
  return c;
}

export const providerPages = {
  async logoutSource(ctx: KoaContextWithOIDC, form: string) {
    const c = localize(ctx);
    renderPage(c, 'logout', { form, app: ctx.oidc.client?.clientName });
  },
  async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
    const c = localize(ctx);
    renderPage(c, 'logout-done', { app: ctx.oidc.client?.clientName });
  },
  async renderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }) {
    const c = localize(ctx);
    // Protocol errors (unknown client, bad redirect_uri, …) are shown, never redirected to an
    // unverified redirect_uri. The description is oidc-provider's, written for developers.
    renderPage(c, 'error', { code: out.error, description: out.error_description }, ctx.status >= 400 ? ctx.status : 400);
  },
};
