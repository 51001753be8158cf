// drizzle schema; the SQL in /migrations is the source of truth and must match this file.
import {
  pgTable,
  uuid,
  text,
  boolean,
  timestamp,
  jsonb,
  primaryKey,
  bigint,
  integer,
  smallint,
  type AnyPgColumn,
} from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

/** Failed attempts before an account locks, unless its owner chose otherwise (migration 0003). */
export const DEFAULT_LOCKOUT_THRESHOLD = 10;

export const accounts = pgTable('accounts', {
  id: uuid('id').primaryKey(),
  /** The account's integer id (migration 0012): `data.id` and `user_id` in the REST API. */
  userId: integer('user_id').notNull().generatedByDefaultAsIdentity(),
  email: text('email').notNull(),
  emailVerified: boolean('email_verified').notNull().default(false),
  passwordHash: text('password_hash').notNull(),
  name: text('name').notNull(),
  givenName: text('given_name'),
  familyName: text('family_name'),
  locale: text('locale').notNull().default('en'),
  zoneinfo: text('zoneinfo').notNull().default('UTC'),
  lockoutThreshold: integer('lockout_threshold').notNull().default(DEFAULT_LOCKOUT_THRESHOLD),
  lockedAt: timestamp('locked_at', { withTimezone: true }),
  failedPasswords: integer('failed_passwords').notNull().default(0),
  failedSecondFactors: integer('failed_second_factors').notNull().default(0),
  failedAt: timestamp('failed_at', { withTimezone: true }),
  alertEverySignIn: boolean('alert_every_sign_in').notNull().default(false),
  alertFailedPassword: boolean('alert_failed_password').notNull().default(false),
  /** The sync channel's own lockout budget (migration 0013; app-passwords/verify.ts). */
  syncFailures: integer('sync_failures').notNull().default(0),
  syncFailedAt: timestamp('sync_failed_at', { withTimezone: true }),
  syncLockedAt: timestamp('sync_locked_at', { withTimezone: true }),
  recoveryEmail: text('recovery_email'),
  recoveryPhone: text('recovery_phone'),
  recoveryPhoneHash: text('recovery_phone_hash'),
  /** The organization the account pages work in (migration 0011); null: the first one. */
  currentOrganizationId: uuid('current_organization_id').references((): AnyPgColumn => organizations.id, {
    onDelete: 'set null',
  }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** What an application is: a server-side site with a secret, a single-page or mobile app (PKCE, no
 *  secret), a back-end service (client credentials), or a mail server checking its users' app
 *  passwords (the password grant, with a secret: app-passwords/password-grant.ts). */
export const APP_TYPES = ['web', 'spa', 'service', 'mail_server'] as const;
export type AppType = (typeof APP_TYPES)[number];

/** Organization kinds and member roles (migration 0010; what each role may do: organizations/policy.ts). */
export const ORGANIZATION_TYPES = ['personal', 'company', 'association'] as const;
export type OrganizationType = (typeof ORGANIZATION_TYPES)[number];
export const ROLES = ['legal_representative', 'administrator', 'collaborator', 'external'] as const;
export type Role = (typeof ROLES)[number];

export const organizations = pgTable('organizations', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  type: text('type').$type<OrganizationType>().notNull(),
  address: text('address'),
  phone: text('phone'),
  /** The security console's "require 2FA" (migration 0011). */
  require2fa: boolean('require_2fa').notNull().default(false),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const memberships = pgTable(
  'memberships',
  {
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    role: text('role').$type<Role>().notNull(),
    blockedAt: timestamp('blocked_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.organizationId, t.accountId] })],
);

export const teams = pgTable('teams', {
  id: uuid('id').primaryKey(),
  organizationId: uuid('organization_id')
    .notNull()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** organization_id lets the database check that a team member is a member of the team's organization
 *  (the composite foreign keys are in migrations/0010, like application_grants'). */
export const teamMembers = pgTable(
  'team_members',
  {
    teamId: uuid('team_id').notNull(),
    organizationId: uuid('organization_id').notNull(),
    accountId: uuid('account_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.accountId] })],
);

export const applications = pgTable('applications', {
  id: uuid('id').primaryKey(),
  clientId: text('client_id').notNull().unique(),
  /** Who registered it (null: the command line); the organization owns it. */
  ownerId: uuid('owner_id').references(() => accounts.id, { onDelete: 'set null' }),
  organizationId: uuid('organization_id')
    .notNull()
    .references(() => organizations.id),
  name: text('name').notNull(),
  type: text('type').$type<AppType>().notNull(),
  redirectUris: jsonb('redirect_uris').$type<string[]>().notNull().default([]),
  postLogoutRedirectUris: jsonb('post_logout_redirect_uris').$type<string[]>().notNull().default([]),
  backchannelLogoutUri: text('backchannel_logout_uri'),
  /** Only unblocked members of its organization sign in to it (migration 0011). */
  membersOnly: boolean('members_only').notNull().default(false),
  secretHash: text('secret_hash'),
  /** After a new secret: the previous one's HMAC, valid until previousSecretExpiresAt (grace period). */
  previousSecretHash: text('previous_secret_hash'),
  previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Access to one application for a member or a team (exactly one of the two; migration 0010 checks it). */
export const applicationGrants = pgTable('application_grants', {
  id: uuid('id').primaryKey(),
  organizationId: uuid('organization_id').notNull(),
  applicationId: uuid('application_id').notNull(),
  accountId: uuid('account_id'),
  teamId: uuid('team_id'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** An invitation by email (migration 0011): the link's token only as an HMAC; single use. */
export const invitations = pgTable('invitations', {
  id: uuid('id').primaryKey(),
  organizationId: uuid('organization_id')
    .notNull()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  email: text('email').notNull(),
  role: text('role').$type<Role>().notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  invitedBy: uuid('invited_by').references(() => accounts.id, { onDelete: 'set null' }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  acceptedAt: timestamp('accepted_at', { withTimezone: true }),
  acceptedBy: uuid('accepted_by').references(() => accounts.id, { onDelete: 'set null' }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

export const oidcPayloads = pgTable(
  'oidc_payloads',
  {
    model: text('model').notNull(),
    id: text('id').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    grantId: text('grant_id'),
    uid: text('uid'),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    consumedAt: timestamp('consumed_at', { withTimezone: true }),
    /** RefreshToken: its rotation chain (the first token's id) and the re-issues a retried refresh
     *  got from it within the grace period (migration 0008, oidc/adapter.ts). */
    chainId: text('chain_id'),
    reissues: smallint('reissues').notNull().default(0),
    /** refresh_issue_seq's number taken by the consumption or re-issue that issued this token. */
    issueNo: bigint('issue_no', { mode: 'number' }),
    /** refresh_issue_seq's number taken by this token's first consumption (the chain's order of use). */
    consumedNo: bigint('consumed_no', { mode: 'number' }),
  },
  (t) => [primaryKey({ columns: [t.model, t.id] })],
);

export const oneTimeTokens = pgTable('one_time_tokens', {
  tokenHash: text('token_hash').primaryKey(),
  purpose: text('purpose').notNull(),
  accountId: uuid('account_id')
    .notNull()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  consumedAt: timestamp('consumed_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const secondFactors = pgTable('second_factors', {
  id: uuid('id').primaryKey(),
  accountId: uuid('account_id')
    .notNull()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  type: text('type').$type<FactorType>().notNull(),
  name: text('name').notNull(),
  secret: text('secret'),
  credentialId: text('credential_id').unique(),
  publicKey: text('public_key'),
  signCount: bigint('sign_count', { mode: 'number' }).notNull().default(0),
  lastStep: bigint('last_step', { mode: 'number' }),
  data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
  isDefault: boolean('is_default').notNull().default(false),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const backupCodes = pgTable(
  'backup_codes',
  {
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.codeHash] })],
);

export const activity = pgTable('activity', {
  id: uuid('id').primaryKey(),
  accountId: uuid('account_id')
    .notNull()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  type: text('type').notNull(),
  ip: text('ip'),
  device: text('device'),
  clientId: text('client_id'),
  application: text('application'),
  details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
});

export const knownDevices = pgTable(
  'known_devices',
  {
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    deviceHash: text('device_hash').notNull(),
    network: text('network').notNull(),
    firstSeen: timestamp('first_seen', { withTimezone: true }).notNull().defaultNow(),
    lastSeen: timestamp('last_seen', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.deviceHash, t.network] })],
);

/** Browsers that completed a sign-in to an account: each has its own lockout budget for it. */
export const trustedDevices = pgTable(
  'trusted_devices',
  {
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    deviceHash: text('device_hash').notNull(),
    failedPasswords: integer('failed_passwords').notNull().default(0),
    failedSecondFactors: integer('failed_second_factors').notNull().default(0),
    failedAt: timestamp('failed_at', { withTimezone: true }),
    lockedAt: timestamp('locked_at', { withTimezone: true }),
    firstSignIn: timestamp('first_sign_in', { withTimezone: true }).notNull().defaultNow(),
    lastSignIn: timestamp('last_sign_in', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.deviceHash] })],
);

export const sessionInfo = pgTable('session_info', {
  sessionUid: text('session_uid').primaryKey(),
  accountId: uuid('account_id')
    .notNull()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  ip: text('ip'),
  device: text('device'),
  signedInAt: timestamp('signed_in_at', { withTimezone: true }).notNull().defaultNow(),
  lastActiveAt: timestamp('last_active_at', { withTimezone: true }).notNull().defaultNow(),
});

export type ActivityRow = typeof activity.$inferSelect;
export type FactorType = 'totp' | 'webauthn' | 'sms' | 'push';
export type Account = typeof accounts.$inferSelect;
export type SecondFactorRow = typeof secondFactors.$inferSelect;
export type Application = typeof applications.$inferSelect;
export type Organization = typeof organizations.$inferSelect;
export type Membership = typeof memberships.$inferSelect;
export type Team = typeof teams.$inferSelect;
export type Invitation = typeof invitations.$inferSelect;

/** Private signing keys, each JWK encrypted with ENCRYPTION_KEY (oidc/signing-keys.ts). */
export const signingKeys = pgTable('signing_keys', {
  kid: text('kid').primaryKey(),
  alg: text('alg').notNull(),
  privateJwk: text('private_jwk').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  activatesAt: timestamp('activates_at', { withTimezone: true }).notNull(),
  retiredAt: timestamp('retired_at', { withTimezone: true }),
  removeAfter: timestamp('remove_after', { withTimezone: true }),
});
export type SigningKeyRow = typeof signingKeys.$inferSelect;

/** A personal API token (migration 0012): only its HMAC is stored. */
export const apiTokens = pgTable('api_tokens', {
  id: uuid('id').primaryKey(),
  accountId: uuid('account_id')
    .notNull()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  scopes: text('scopes').array().notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  lastUsedIp: text('last_used_ip'),
  idleWarnedAt: timestamp('idle_warned_at', { withTimezone: true }),
  deactivatedAt: timestamp('deactivated_at', { withTimezone: true }),
});
export type ApiTokenRow = typeof apiTokens.$inferSelect;

/** An app password (migration 0013): only its HMAC is stored. */
export const appPasswords = pgTable('app_passwords', {
  id: uuid('id').primaryKey(),
  accountId: uuid('account_id')
    .notNull()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  secretHash: text('secret_hash').notNull().unique(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  lastUsedIp: text('last_used_ip'),
  lastUsedService: text('last_used_service'),
  networks: text('networks')
    .array()
    .notNull()
    .default(sql`'{}'::text[]`),
});
export type AppPasswordRow = typeof appPasswords.$inferSelect;
