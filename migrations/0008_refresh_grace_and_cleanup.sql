-- A refresh token's rotation chain (the first token's id, shared by every token rotated from it)
-- and how many times a retried refresh re-issued from it within REFRESH_TOKEN_REUSE_GRACE_SECONDS
-- (src/oidc/adapter.ts). A token issued before this migration gets its chain when it is consumed.
ALTER TABLE oidc_payloads ADD COLUMN chain_id text;
ALTER TABLE oidc_payloads ADD COLUMN reissues smallint NOT NULL DEFAULT 0;
-- At most one live refresh token per chain: two re-issues that race cannot both leave a token.
CREATE UNIQUE INDEX oidc_payloads_live_chain_idx ON oidc_payloads (chain_id) WHERE model = 'RefreshToken' AND consumed_at IS NULL;
-- Consumed refresh tokens of a grant, newest first: the reuse check ("was a newer one used?") and
-- the cleanup's per-grant cap read it in this order.
CREATE INDEX oidc_payloads_consumed_refresh_idx ON oidc_payloads (grant_id, consumed_at DESC) WHERE model = 'RefreshToken' AND consumed_at IS NOT NULL;
-- The cleanup keeps an account's most recently seen devices and networks.
CREATE INDEX known_devices_account_seen_idx ON known_devices (account_id, last_seen DESC);
