// Pages oidc-provider renders itself (logout confirmation, logout done, protocol errors), in the
// user's language and Sesame's look. Protocol errors go through the one error renderer.
import type { KoaContextWithOIDC } from 'oidc-provider';
import { renderPage } from '../http/render.ts';
import { renderProtocolError } from '../http/error-handler.ts';
import type { Ctx } from '../http/context.ts';
import { requestLocale, setLocale } from '../http/locale.ts';

function localize(ctx: KoaContextWithOIDC): Ctx {
  const c = ctx as unknown as Ctx;
  setLocale(c, requestLocale(c, ctx.oidc?.params?.ui_locales));
  return c;
}

export const providerPages = {
  async logoutSource(ctx: KoaContextWithOIDC, form: string) {
    renderPage(localize(ctx), 'logout', { form, app: ctx.oidc.client?.clientName });
  },
  async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
    renderPage(localize(ctx), 'logout-done', { app: ctx.oidc.client?.clientName });
  },
  async renderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }) {
    // Unknown client, bad redirect_uri, …: shown, never redirected to an unverified redirect_uri.
    renderProtocolError(localize(ctx), out.error, out.error_description, ctx.status);
  },
};
