-- One key set per deployment (issue 11): the private signing keys live in the database, each JWK
-- encrypted with ENCRYPTION_KEY (AES-GCM, its kid bound in as associated data), so every node reads
-- the same set and a rotation reaches running nodes without a restart. A key is published from its
-- insertion, signs from activates_at (a rotation leaves every node time to publish it first), stops
-- signing at retired_at and leaves the JWKS at remove_after, when what it signed has expired.
-- KEYS_DIR files are imported once by the first node that starts on an empty table.
CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  alg text NOT NULL,
  private_jwk text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  activates_at timestamptz NOT NULL,
  retired_at timestamptz,
  remove_after timestamptz
);
