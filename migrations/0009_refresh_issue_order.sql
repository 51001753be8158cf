-- The order in which refresh tokens were issued, across the deployment: every consumption and every
-- re-issue of a refresh token takes the next number, and its successor carries it. A slow original
-- request that saves its successor after a retry's successor (the client timed out and retried)
-- must not supersede the newer one (src/oidc/refresh-rotation.ts).
CREATE SEQUENCE refresh_issue_seq;
ALTER TABLE oidc_payloads ADD COLUMN issue_no bigint;
