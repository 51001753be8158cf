-- Organizations, step 2: the security console's policy, members-only applications, the current
-- organization of each account, and invitations by email.

-- "Require 2FA" (the security console): a member without a second factor enrols before anything else.
ALTER TABLE organizations ADD COLUMN require_2fa boolean NOT NULL DEFAULT false;

-- Members only: nobody but an unblocked member of the application's organization signs in to it.
ALTER TABLE applications ADD COLUMN members_only boolean NOT NULL DEFAULT false;

-- Applications belong to their organization, not to whoever registered them: deleting that account
-- keeps them (owner_id only records who registered one).
ALTER TABLE applications DROP CONSTRAINT applications_owner_id_fkey;
ALTER TABLE applications
  ADD CONSTRAINT applications_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES accounts (id) ON DELETE SET NULL;

-- The organization the account pages work in (the switcher remembers it). NULL, or one the account
-- has left: its first organization.
ALTER TABLE accounts ADD COLUMN current_organization_id uuid REFERENCES organizations (id) ON DELETE SET NULL;

-- An invitation by email: the link's token is kept only as an HMAC (token_hash); accepting it is one
-- conditional UPDATE (accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()).
CREATE TABLE invitations (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  email text NOT NULL,
  role text NOT NULL CHECK (role IN ('legal_representative', 'administrator', 'collaborator', 'external')),
  token_hash text NOT NULL UNIQUE,
  invited_by uuid REFERENCES accounts (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  accepted_at timestamptz,
  accepted_by uuid REFERENCES accounts (id) ON DELETE SET NULL,
  revoked_at timestamptz
);
CREATE INDEX invitations_organization_idx ON invitations (organization_id, created_at);
CREATE INDEX invitations_email_idx ON invitations (lower(email));
