-- The order in which refresh tokens were issued and used, across the deployment, from one sequence
-- (not the nodes' clocks, which may differ): every consumption and every re-issue of a refresh
-- token takes the next number. Its successor carries it (issue_no), so a slow original request that
-- saves its successor after a retry's successor does not supersede the newer one; and the first
-- consumption keeps its own (consumed_no), so "was a newer token of the chain used?" compares
-- numbers (src/oidc/refresh-rotation.ts).
CREATE SEQUENCE refresh_issue_seq;
ALTER TABLE oidc_payloads ADD COLUMN issue_no bigint;
ALTER TABLE oidc_payloads ADD COLUMN consumed_no bigint;
-- Every rotation asks whether the chain holds a token issued or used after this one.
CREATE INDEX oidc_payloads_chain_issue_idx ON oidc_payloads (chain_id, issue_no) WHERE model = 'RefreshToken';
CREATE INDEX oidc_payloads_chain_consumed_idx ON oidc_payloads (chain_id, consumed_no) WHERE model = 'RefreshToken';
