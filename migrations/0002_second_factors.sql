-- Second factors (issue 3): authenticator apps (TOTP), security keys (WebAuthn), SMS numbers, and
-- backup codes. 2FA is "on" for an account exactly when it has at least one row in second_factors.
CREATE TABLE second_factors (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  type text NOT NULL CHECK (type IN ('totp', 'webauthn', 'sms', 'push')),
  name text NOT NULL,
  -- TOTP seed or SMS number, AES-256-GCM encrypted with ENCRYPTION_KEY (never stored readable).
  secret text,
  -- WebAuthn: credential ID (base64url, unique across accounts) and COSE public key (base64url).
  credential_id text UNIQUE,
  public_key text,
  -- WebAuthn signature counter; only ever moves forward (conditional UPDATE).
  sign_count bigint NOT NULL DEFAULT 0,
  -- TOTP: the last accepted time step; a code for this step or an earlier one is a replay.
  last_step bigint,
  data jsonb NOT NULL DEFAULT '{}',
  is_default boolean NOT NULL DEFAULT false,
  last_used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX second_factors_account_idx ON second_factors (account_id);
CREATE UNIQUE INDEX second_factors_one_default_idx ON second_factors (account_id) WHERE is_default;

-- Backup codes: only an HMAC of each code is kept; using one is a conditional UPDATE.
CREATE TABLE backup_codes (
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  code_hash text NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, code_hash)
);
