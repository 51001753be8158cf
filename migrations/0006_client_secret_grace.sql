-- A new client secret may leave the previous one working for a grace period the owner chooses
-- (0 to 24 h), so a site can be given the new secret without an outage: the previous secret's HMAC
-- and the moment it stops working. Both are NULL when there is no previous secret.
ALTER TABLE applications ADD COLUMN previous_secret_hash text;
ALTER TABLE applications ADD COLUMN previous_secret_expires_at timestamptz;
