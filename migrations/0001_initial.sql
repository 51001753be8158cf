-- Sesame initial schema. Runs unchanged on PostgreSQL and PGlite.
CREATE TABLE accounts (
  id uuid PRIMARY KEY,
  email text NOT NULL,
  email_verified boolean NOT NULL DEFAULT false,
  password_hash text NOT NULL,
  name text NOT NULL,
  given_name text,
  family_name text,
  locale text NOT NULL DEFAULT 'en',
  zoneinfo text NOT NULL DEFAULT 'UTC',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email));

CREATE TABLE applications (
  id uuid PRIMARY KEY,
  client_id text NOT NULL UNIQUE,
  owner_id uuid REFERENCES accounts (id) ON DELETE CASCADE,
  name text NOT NULL,
  type text NOT NULL CHECK (type IN ('web', 'spa', 'service')),
  redirect_uris jsonb NOT NULL DEFAULT '[]',
  post_logout_redirect_uris jsonb NOT NULL DEFAULT '[]',
  backchannel_logout_uri text,
  secret_hash text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX applications_owner_idx ON applications (owner_id);

-- oidc-provider's long-lived records (Session, Grant, RefreshToken): one table keyed by model and id.
CREATE TABLE oidc_payloads (
  model text NOT NULL,
  id text NOT NULL,
  payload jsonb NOT NULL,
  grant_id text,
  uid text,
  expires_at timestamptz,
  consumed_at timestamptz,
  PRIMARY KEY (model, id)
);
CREATE INDEX oidc_payloads_grant_idx ON oidc_payloads (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_payloads_uid_idx ON oidc_payloads (uid) WHERE uid IS NOT NULL;
CREATE INDEX oidc_payloads_expires_idx ON oidc_payloads (expires_at) WHERE expires_at IS NOT NULL;

-- Single-use links sent by email (verify email now; reset, unlock later). Only an HMAC of the token is kept.
CREATE TABLE one_time_tokens (
  token_hash text PRIMARY KEY,
  purpose text NOT NULL,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  data jsonb NOT NULL DEFAULT '{}',
  expires_at timestamptz NOT NULL,
  consumed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX one_time_tokens_expires_idx ON one_time_tokens (expires_at);
