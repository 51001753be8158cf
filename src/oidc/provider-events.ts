// What Sesame does when oidc-provider reports something: each authorization a session serves marks
// it active (the Sessions page), and the provider's own failures reach the log.
import type Provider from 'oidc-provider';
import type { Sessions } from '../account/sessions.ts';
import type { Logger } from '../lib/logger.ts';
import { describeBrowser } from '../lib/user-agent.ts';
import { isDependencyDown } from '../lib/dependency.ts';

export function watchProvider(provider: Provider, deps: { sessions: Sessions; logger: Logger }) {
  const { sessions, logger } = deps;
  provider.on('authorization.accepted', (ctx) => {
    const session = ctx.oidc.session;
    if (!session?.accountId || !session.uid) return;
    sessions
      .touch(session.uid, session.accountId, { ip: ctx.ip, device: describeBrowser(ctx.get('User-Agent')) })
      .catch((err: unknown) => logger.warn({ err }, 'session info not saved'));
  });
  provider.on('server_error', (ctx, err) => {
    // A dependency outage is not a bug: app.ts answers 503 with Retry-After instead.
    if (isDependencyDown(err)) {
      ctx.state.dependencyDown = err;
      return;
    }
    logger.error({ err }, 'oidc-provider server_error');
  });
  provider.on('backchannel.error', (_ctx, err, client) => {
    logger.warn({ err: String(err), client: client.clientId }, 'back-channel logout failed');
  });
}
