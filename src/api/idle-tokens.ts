// Personal API tokens nobody uses stop working after a year (IDLE_DAYS): a leaked token that was
// forgotten is less harm once it is dead. A periodic sweep, like the cleanup (maintenance/cleanup.ts):
// a week before, the owner is emailed once (idle_warned_at; a use clears it); at the year, the token
// is deactivated (deactivated_at, kept so its owner sees what happened), logged and emailed.
// `authenticate` refuses an idle token by itself: a sweep that runs late opens nothing. Rows are
// claimed atomically (UPDATE … RETURNING, SKIP LOCKED), so nodes sweeping at once email only once.
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { startPeriodic } from '../lib/periodic.ts';
import type { Mailer } from '../notify/mailer.ts';
import type { ApiTokensRepo, IdleTokenRow } from '../db/repositories/api-tokens.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import { compose, greetingName, when } from '../notify/emails.ts';
import { localeOf } from '../http/i18n.ts';
import { IDLE_DAYS, idleUntil } from './personal-tokens.ts';

/** The warning goes this long before the token stops working. */
const IDLE_WARNING_DAYS = 7;
const DAY_MS = 24 * 3600 * 1000;
const BATCH = 200;
/** A round stops after this many batches of each kind; the next round goes on. */
const MAX_BATCHES = 50;
export const API_TOKENS_PAGE = '/account/security/api-tokens';

export interface IdleSweepDeps {
  config: { issuer: string };
  clock: Clock;
  logger: Logger;
  repos: { apiTokens: ApiTokensRepo; activity: ActivityRepo };
  /** The deferred mailer (notify/deferred.ts): retried, never holding the sweep. */
  later: { mailer: Mailer };
}

function idleEmail(kind: 'warning' | 'deactivated', { token, owner }: IdleTokenRow, link: string) {
  const locale = localeOf(owner);
  const zone = owner.zoneinfo;
  const params = {
    name: token.name,
    since: when(token.lastUsedAt ?? token.createdAt, locale, zone),
    until: when(idleUntil(token), locale, zone),
    when: when(token.deactivatedAt ?? idleUntil(token), locale, zone),
  };
  const what =
    kind === 'warning'
      ? { kind: 'api_token_idle_warning', key: 'apiTokenIdleWarning' }
      : { kind: 'api_token_deactivated', key: 'apiTokenDeactivated' };
  return compose(what, { locale, to: owner.email, greet: greetingName(owner, owner.email) }, params, link);
}

export async function runIdleTokenSweep(deps: IdleSweepDeps): Promise<{ warned: number; deactivated: number }> {
  const { repos } = deps;
  const now = new Date(deps.clock.now());
  const link = `${deps.config.issuer}${API_TOKENS_PAGE}`;
  const idleSince = new Date(now.getTime() - IDLE_DAYS * DAY_MS);
  const warnSince = new Date(idleSince.getTime() + IDLE_WARNING_DAYS * DAY_MS);
  const send = (kind: 'warning' | 'deactivated', row: IdleTokenRow) =>
    deps.later.mailer.send(idleEmail(kind, row, link));
  let deactivated = 0;
  // Deactivation first: a token already past its year is deactivated, not warned.
  for (let i = 0; i < MAX_BATCHES; i++) {
    const rows = await repos.apiTokens.claimToDeactivate(idleSince, now, BATCH);
    for (const row of rows) {
      await repos.activity.record({
        accountId: row.token.accountId,
        type: 'api_token_deactivated',
        details: { name: row.token.name },
      });
      await send('deactivated', row);
    }
    deactivated += rows.length;
    if (rows.length < BATCH) break;
  }
  let warned = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const rows = await repos.apiTokens.claimToWarn(warnSince, now, BATCH);
    for (const row of rows) await send('warning', row);
    warned += rows.length;
    if (rows.length < BATCH) break;
  }
  if (warned || deactivated) deps.logger.info({ warned, deactivated }, 'idle api tokens');
  return { warned, deactivated };
}

/** A sweep every hour (with jitter, so nodes spread out), and one at start. */
export function startIdleTokenSweep(deps: IdleSweepDeps): () => void {
  return startPeriodic(() => runIdleTokenSweep(deps), 60 * 60_000, deps.logger, 'idle api token sweep');
}
