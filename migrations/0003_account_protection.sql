-- Account protection (issue 5): lockout, alerts, recovery contacts, activity log, signed-in devices.
ALTER TABLE accounts ADD COLUMN lockout_threshold integer NOT NULL DEFAULT 10 CHECK (lockout_threshold BETWEEN 3 AND 50);
ALTER TABLE accounts ADD COLUMN locked_at timestamptz;
ALTER TABLE accounts ADD COLUMN alert_every_sign_in boolean NOT NULL DEFAULT false;
ALTER TABLE accounts ADD COLUMN alert_failed_password boolean NOT NULL DEFAULT false;
ALTER TABLE accounts ADD COLUMN recovery_email text;
-- The recovery mobile, encrypted (AES-256-GCM), and an HMAC of it to find the account by it.
ALTER TABLE accounts ADD COLUMN recovery_phone text;
ALTER TABLE accounts ADD COLUMN recovery_phone_hash text;
CREATE INDEX accounts_recovery_phone_idx ON accounts (recovery_phone_hash) WHERE recovery_phone_hash IS NOT NULL;

-- What happened to an account: sign-ins (success, failure, lockout) and every security change.
CREATE TABLE activity (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  at timestamptz NOT NULL DEFAULT now(),
  type text NOT NULL,
  ip text,
  device text,
  client_id text,
  application text,
  details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX activity_account_at_idx ON activity (account_id, at DESC, id DESC);
CREATE INDEX activity_at_idx ON activity (at);

-- Devices and networks an account signed in from, for "new device or location" alerts. Only an
-- HMAC of the device cookie is kept.
CREATE TABLE known_devices (
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  device_hash text NOT NULL,
  network text NOT NULL,
  first_seen timestamptz NOT NULL DEFAULT now(),
  last_seen timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, device_hash, network)
);

-- What Sesame knows about each signed-in browser session (oidc-provider's Session has no IP or
-- browser): shown on the Sessions page, keyed by the session's uid.
CREATE TABLE session_info (
  session_uid text PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  ip text,
  device text,
  signed_in_at timestamptz NOT NULL DEFAULT now(),
  last_active_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX session_info_account_idx ON session_info (account_id);

-- An account's live sessions are found by the account id inside oidc-provider's Session payload.
CREATE INDEX oidc_payloads_session_account_idx ON oidc_payloads ((payload->>'accountId')) WHERE model = 'Session';
