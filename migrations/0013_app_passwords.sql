-- App passwords (src/app-passwords/): for the tools that cannot do two-step verification (IMAP and
-- SMTP mail clients, CalDAV/CardDAV, WebDAV sync), checked by Sesame's forward-auth endpoint (reverse
-- proxies) and its password grant (Dovecot's oauth2 passdb). Only the HMAC is kept (secret_hash,
-- looked up by its unique index); a revoked one is deleted (the activity log keeps the record).
-- networks: the networks (IPv4 /24, IPv6 /64) it has been used from, most recent last, so a use from
-- a new one is logged.
CREATE TABLE app_passwords (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name text NOT NULL,
  secret_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  last_used_ip text,
  last_used_service text,
  networks text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX app_passwords_account_idx ON app_passwords (account_id, created_at);

-- The sync channel's own lockout budget (forward auth and the password grant): its wrong passwords
-- never lock the web sign-in, and the account password can be guessed there no faster than on the
-- sign-in page (the same threshold; only a completed web sign-in or an unlock forgives).
ALTER TABLE accounts ADD COLUMN sync_failures integer NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN sync_failed_at timestamptz;
ALTER TABLE accounts ADD COLUMN sync_locked_at timestamptz;
