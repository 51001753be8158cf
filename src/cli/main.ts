// `sesame` — the command line. It uses the same configuration (DATA_DIR / DATABASE_URL / REDIS_URL)
// and the same services as the server (deps.ts createCoreDeps): an unlock here clears exactly what
// the servers read. JSON on stdout. runCli() is the whole command, so tests run it in-process.
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError, type Config } from '../config.ts';
import { openDatabase } from '../db/client.ts';
import { migrate } from '../db/migrate.ts';
import { keyState, publishedKeys } from '../oidc/keys.ts';
import { SigningKeysError } from '../oidc/signing-keys.ts';
import { assertPasswordAllowed } from '../factors/password.ts';
import { createLogger } from '../lib/logger.ts';
import { localeOf } from '../http/i18n.ts';
import { AppError } from '../errors.ts';
import { deviceCli, DEVICE_USAGE } from './device.ts';
import { runCleanup } from '../maintenance/cleanup.ts';
import type { CoreDeps } from '../deps.ts';
import { ORGANIZATION_TYPES, ROLES, type Role } from '../db/schema.ts';
import type { Organization } from '../db/repositories/organizations.ts';
import { keepsALegalRep } from '../organizations/policy.ts';

const USAGE = `Usage: sesame <command>

  serve                                   start the server (what npm start runs)
  migrate                                 apply database migrations
  cleanup                                 run the periodic cleanup once and print what it deleted
                                          ({"skipped": true} while another node runs it)
  keys generate                           create the signing keys if there are none (a first start does it too;
                                          imports KEYS_DIR into an empty database)
  keys rotate [--activate-in SECONDS]     publish new signing keys now; they sign from SECONDS on (default and
                                          least: 2 x KEYS_REFRESH_SECONDS), when the current ones retire
  keys list                               every signing key: kid, alg, state (pending/active/retired), dates
  user create --email E --password P (--given-name G --family-name F | --name "G F") [--locale L] [--zoneinfo Z]
                                          first and last name are both required, as at sign-up; --name is
                                          split at its first space (--given-name/--family-name override)
  user unlock --email E                   unlock an account locked after failed attempts
  user reset-2fa --email E                remove every second factor and backup code (lost phone and codes),
                                          and revoke the app passwords; the user is emailed, and signs in
                                          with the password alone
  client create --name N --type web|spa|service|mail_server [--redirect-uri U ...]
                [--post-logout-redirect-uri U ...] [--backchannel-logout-uri U] [--org ID]
                                          in organization ID (default: the operator's, which has no member)
  org create --name N [--type personal|company|association] --owner EMAIL
                                          a new organization (default type company), EMAIL its legal representative
  org list [--email E]                    every organization, or those E belongs to (with E's role)
  org add-member --org ID --email E --role R
                                          R: legal_representative, administrator, collaborator or external
  org set-role --org ID --email E --role R
                                          the last legal representative cannot be demoted
${DEVICE_USAGE}`;

class UsageError extends Error {}

export interface CliIo {
  env?: NodeJS.ProcessEnv;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

/** What the activity log records for changes made from the command line. */
const CLI_INFO = { ip: '', device: 'sesame command line' };

const PASSWORD_PROBLEM: Record<string, string> = {
  common_password: '--password is too common',
  personal_password: '--password contains the email or a name',
  weak_password: '--password must be 10 to 256 characters with some variety',
};

type Command = (
  args: string[],
  ctx: { config: Config; out: (v: unknown) => void; withDeps: WithDeps },
) => Promise<number>;
type WithDeps = <T>(fn: (deps: CoreDeps) => Promise<T>) => Promise<T>;

async function findAccount(deps: CoreDeps, email: string) {
  const account = await deps.repos.accounts.findByEmail(email);
  if (!account) throw new UsageError('no account with this email');
  return account;
}

/** First and last name as sign-up asks for them, both required (relying parties such as TYPO3
 *  read given_name and family_name with no fallback): from --given-name/--family-name, or from
 *  --name split at its first space ("Ludwig van Beethoven": Ludwig / van Beethoven). */
function namesOf(values: { name?: string; 'given-name'?: string; 'family-name'?: string }) {
  const [first = '', ...rest] = (values.name ?? '').trim().split(/\s+/);
  const givenName = (values['given-name'] ?? first).trim();
  const familyName = (values['family-name'] ?? rest.join(' ')).trim();
  if (!givenName || !familyName)
    throw new UsageError(
      'user create needs a first and a last name: --given-name G --family-name F, or --name "First Last"',
    );
  if (givenName.length > 200 || familyName.length > 200) throw new UsageError('names are limited to 200 characters');
  return { name: `${givenName} ${familyName}`, givenName, familyName };
}

const emailOnly = (args: string[], name: string) => {
  const { values } = parseArgs({ args, options: { email: { type: 'string' } }, strict: true });
  if (!values.email) throw new UsageError(`${name} needs --email`);
  return values.email;
};

function oneOf<T extends string>(list: readonly T[], value: string | undefined, flag: string): T {
  if (!list.includes(value as T)) throw new UsageError(`${flag} must be one of ${list.join(', ')}`);
  return value as T;
}

async function findOrganization(deps: CoreDeps, id: string | undefined) {
  const org = id ? await deps.repos.organizations.findById(id) : undefined;
  if (!org) throw new UsageError(id ? 'no organization with this id' : '--org is required');
  return org;
}

const organizationJson = (o: Organization) => ({
  id: o.id,
  name: o.name,
  type: o.type,
  address: o.address,
  phone: o.phone,
  created_at: o.createdAt.toISOString(),
});

/** --org ID --email E --role R, checked; the organization and the account looked up. */
async function memberArgs(args: string[], name: string, deps: CoreDeps) {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { org: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' } },
  });
  if (!values.org || !values.email || !values.role) throw new UsageError(`${name} needs --org, --email and --role`);
  const role: Role = oneOf(ROLES, values.role, '--role');
  const org = await findOrganization(deps, values.org);
  const account = await findAccount(deps, values.email);
  return { org, account, role };
}

const commands: Record<string, Command> = {
  async migrate(_args, { config, out }) {
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    try {
      out({ applied: await migrate(database) });
    } finally {
      await database.close();
    }
    return 0;
  },
  async cleanup(args, { out, withDeps }) {
    parseArgs({ args, options: {}, strict: true });
    return withDeps(async (deps) => {
      out(await runCleanup(deps));
      return 0;
    });
  },
  async 'keys generate'(_args, { out, withDeps }) {
    return withDeps(async (deps) => {
      const now = Date.now();
      const { keys, created, imported } = await deps.signingKeys.ensure(now);
      out({ created, imported, published: publishedKeys(keys, now).map((k) => k.kid) });
      return 0;
    });
  },
  async 'keys rotate'(args, { config, out, withDeps }) {
    const { values } = parseArgs({ args, strict: true, options: { 'activate-in': { type: 'string' } } });
    // Every node re-reads the keys at least once per interval: two intervals publish the new keys
    // everywhere before any node signs with them.
    const least = 2 * config.keysRefreshSeconds;
    const activateIn = values['activate-in'] === undefined ? least : Number(values['activate-in']);
    if (!Number.isInteger(activateIn) || activateIn < least || activateIn > 30 * 86_400)
      throw new UsageError(
        `--activate-in must be whole seconds, at least ${least} (2 x KEYS_REFRESH_SECONDS) and at most 30 days`,
      );
    return withDeps(async (deps) => {
      out({
        ...(await deps.signingKeys.rotate(activateIn)),
        note: `every node publishes the new keys within ${config.keysRefreshSeconds} s and signs with them from activates_at, without a restart`,
      });
      return 0;
    });
  },
  async 'keys list'(_args, { out, withDeps }) {
    return withDeps(async (deps) => {
      const now = Date.now();
      const keys = await deps.signingKeys.load();
      const iso = (d: Date | null) => d?.toISOString() ?? null;
      out(
        publishedKeys(keys, now).map((k) => ({
          kid: k.kid,
          alg: k.alg,
          state: keyState(k, keys, now),
          created_at: iso(k.createdAt),
          activates_at: iso(k.activatesAt),
          retired_at: iso(k.retiredAt),
          remove_after: iso(k.removeAfter),
        })),
      );
      return 0;
    });
  },
  async 'user create'(args, { out, withDeps }) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        email: { type: 'string' },
        password: { type: 'string' },
        name: { type: 'string' },
        'given-name': { type: 'string' },
        'family-name': { type: 'string' },
        locale: { type: 'string' },
        zoneinfo: { type: 'string' },
      },
    });
    const { email, password } = values;
    if (!email || !password) throw new UsageError('user create needs --email and --password');
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new UsageError('--email is not an email address');
    const { name, givenName, familyName } = namesOf(values);
    try {
      assertPasswordAllowed(password, { email, givenName, familyName });
    } catch (err) {
      if (err instanceof AppError) throw new UsageError(PASSWORD_PROBLEM[err.code] ?? err.code);
      throw err;
    }
    return withDeps(async (deps) => {
      const account = await deps.repos.accounts.create({
        email,
        passwordHash: await deps.password.hash(password),
        name,
        givenName,
        familyName,
        locale: localeOf({ locale: values.locale }),
        zoneinfo: values.zoneinfo ?? 'UTC',
        emailVerified: true,
      });
      if (!account) throw new UsageError('an account with this email already exists');
      const { id, emailVerified } = account;
      out({
        id,
        sub: id,
        email: account.email,
        email_verified: emailVerified,
        name: account.name,
        given_name: account.givenName,
        family_name: account.familyName,
      });
      return 0;
    });
  },
  async 'user unlock'(args, { out, withDeps }) {
    const email = emailOnly(args, 'user unlock');
    return withDeps(async (deps) => {
      const account = await findAccount(deps, email);
      const was = await deps.lockout.unlock(account.id, 'cli', CLI_INFO);
      out({ email: account.email, was_locked: was, locked: false });
      return 0;
    });
  },
  async 'user reset-2fa'(args, { out, withDeps }) {
    const email = emailOnly(args, 'user reset-2fa');
    return withDeps(async (deps) => {
      const account = await findAccount(deps, email);
      // Nobody confirmed keeping the app passwords: they are revoked with 2FA.
      const removed = await deps.security.disable(account, CLI_INFO);
      out({
        email: account.email,
        second_factors_removed: removed.factors,
        app_passwords_revoked: removed.appPasswordsRevoked,
        two_factor: 'off',
      });
      return 0;
    });
  },
  async 'client create'(args, { config, out, withDeps }) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        name: { type: 'string' },
        type: { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true },
        'post-logout-redirect-uri': { type: 'string', multiple: true },
        'backchannel-logout-uri': { type: 'string' },
        org: { type: 'string' },
      },
    });
    return withDeps(async (deps) => {
      const org = values.org === undefined ? undefined : await findOrganization(deps, values.org);
      const parsed = deps.applications.schema.safeParse({
        name: values.name ?? '',
        type: values.type,
        redirectUris: values['redirect-uri'] ?? [],
        postLogoutRedirectUris: values['post-logout-redirect-uri'] ?? [],
        backchannelLogoutUri: values['backchannel-logout-uri'] ?? null,
      });
      if (!parsed.success)
        throw new UsageError(parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '));
      const { app, clientSecret } = await deps.applications.create(null, parsed.data, org?.id);
      out({
        client_id: app.clientId,
        organization_id: app.organizationId,
        ...(clientSecret ? { client_secret: clientSecret } : {}),
        name: app.name,
        type: app.type,
        redirect_uris: app.redirectUris,
        post_logout_redirect_uris: app.postLogoutRedirectUris,
        token_endpoint_auth_method: app.type === 'spa' ? 'none' : 'client_secret_basic (client_secret_post accepted)',
        issuer: config.issuer,
        discovery: `${config.issuer}/.well-known/openid-configuration`,
      });
      return 0;
    });
  },
  async 'org create'(args, { out, withDeps }) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: { name: { type: 'string' }, type: { type: 'string' }, owner: { type: 'string' } },
    });
    const name = values.name?.trim();
    const ownerEmail = values.owner;
    if (!name || !ownerEmail) throw new UsageError('org create needs --name and --owner');
    if (name.length > 200) throw new UsageError('--name is limited to 200 characters');
    const type = oneOf(ORGANIZATION_TYPES, values.type ?? 'company', '--type');
    return withDeps(async (deps) => {
      const owner = await findAccount(deps, ownerEmail);
      const org = await deps.repos.organizations.create({ name, type }, owner.id);
      out({ ...organizationJson(org), legal_representative: owner.email });
      return 0;
    });
  },
  async 'org list'(args, { out, withDeps }) {
    const { values } = parseArgs({ args, strict: true, options: { email: { type: 'string' } } });
    return withDeps(async (deps) => {
      const orgs = deps.repos.organizations;
      if (values.email) {
        const account = await findAccount(deps, values.email);
        const list = await orgs.listForAccount(account.id);
        out(
          list.map(({ organization, membership }) => ({
            ...organizationJson(organization),
            role: membership.role,
            blocked: !!membership.blockedAt,
          })),
        );
        return 0;
      }
      out(
        (await orgs.list()).map((o) => ({ ...organizationJson(o), members: o.members, applications: o.applications })),
      );
      return 0;
    });
  },
  async 'org add-member'(args, { out, withDeps }) {
    return withDeps(async (deps) => {
      const { org, account, role } = await memberArgs(args, 'org add-member', deps);
      if (!(await deps.repos.organizations.addMember(org.id, account.id, role)))
        throw new UsageError('already a member of this organization (sesame org set-role changes the role)');
      out({ organization_id: org.id, email: account.email, role });
      return 0;
    });
  },
  async 'org set-role'(args, { out, withDeps }) {
    return withDeps(async (deps) => {
      const { org, account, role } = await memberArgs(args, 'org set-role', deps);
      // The operator has no role to check; the organization must still keep a legal representative.
      const change = await deps.repos.organizations.setRole(org.id, account.id, role, (from, count) =>
        keepsALegalRep(from, role, count),
      );
      if (!change.ok)
        throw new UsageError(
          change.reason === 'not_member'
            ? 'not a member of this organization (sesame org add-member adds one)'
            : 'this is the last legal representative of the organization: make another member legal representative first',
        );
      out({ organization_id: org.id, email: account.email, previous_role: change.from, role: change.to });
      return 0;
    });
  },
};

/** Runs one command; the exit code (-1: keep running, the server). */
export async function runCli(argv: string[], io: CliIo = {}): Promise<number> {
  const stdout = io.stdout ?? ((s) => process.stdout.write(s));
  const stderr = io.stderr ?? ((s) => process.stderr.write(s));
  const out = (value: unknown) => stdout(JSON.stringify(value, null, 2) + '\n');
  const [cmd, sub, ...rest] = argv;
  try {
    if (!cmd || cmd === 'help' || cmd === '--help') {
      stdout(USAGE);
      return cmd ? 0 : 1;
    }
    if (cmd === 'serve') {
      const { serve } = await import('../main.ts');
      await serve();
      return -1;
    }
    // The reference device is a client of the public API: no configuration, no database.
    if (cmd === 'device') {
      const args = [sub ?? '', ...rest].filter(Boolean);
      return await deviceCli(args, out, (m) => new UsageError(m), stderr);
    }
    const command = commands[`${cmd} ${sub ?? ''}`] ?? commands[cmd];
    if (!command) throw new UsageError(`unknown command: ${argv.join(' ')}`);
    const args = commands[`${cmd} ${sub ?? ''}`] ? rest : argv.slice(1);
    const env = io.env ?? process.env;
    const config = loadConfig(env);
    const logger = createLogger(env.LOG_LEVEL ?? 'warn');
    const withDeps: WithDeps = async (fn) => {
      // Loaded on demand: `sesame device …` and `sesame help` need none of it.
      const { createCoreDeps } = await import('../deps.ts');
      const deps = await createCoreDeps(config, { logger });
      try {
        return await fn(deps);
      } finally {
        await deps.close();
      }
    };
    return await command(args, { config, out, withDeps });
  } catch (err) {
    const parseError = (err as { code?: string }).code?.startsWith?.('ERR_PARSE_ARGS');
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof SigningKeysError || parseError) {
      stderr(`sesame: ${(err as Error).message}\n\n${err instanceof UsageError ? USAGE : ''}`);
      return 2;
    }
    throw err;
  }
}

export async function cli(argv: string[]) {
  const code = await runCli(argv);
  if (code >= 0) process.exitCode = code;
}
