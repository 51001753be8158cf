-- Lockout without denial of service (issue 10): a browser that has completed a sign-in to an
-- account (its device cookie, only an HMAC kept) has its own failure budget for that account, so
-- strangers' wrong guesses, which lock the account for every other browser, cannot lock its owner
-- out of their usual one. The same threshold applies; a trusted browser that guesses wrong is
-- locked by itself.
CREATE TABLE trusted_devices (
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  device_hash text NOT NULL,
  failed_passwords integer NOT NULL DEFAULT 0,
  failed_second_factors integer NOT NULL DEFAULT 0,
  failed_at timestamptz,
  locked_at timestamptz,
  first_sign_in timestamptz NOT NULL DEFAULT now(),
  last_sign_in timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, device_hash)
);
-- Browsers that signed in before this migration are trusted already.
INSERT INTO trusted_devices (account_id, device_hash, first_sign_in, last_sign_in)
SELECT k.account_id, k.device_hash, min(k.first_seen), max(k.last_seen) FROM known_devices k
  JOIN accounts a ON a.id = k.account_id AND a.email_verified
  GROUP BY k.account_id, k.device_hash;
