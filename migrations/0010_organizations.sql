-- Organizations own applications; accounts belong to them through memberships with a role
-- (src/organizations/policy.ts decides what each role may do).
CREATE TABLE organizations (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  type text NOT NULL CHECK (type IN ('personal', 'company', 'association')),
  address text,
  phone text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memberships (
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('legal_representative', 'administrator', 'collaborator', 'external')),
  blocked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, account_id)
);
CREATE INDEX memberships_account_idx ON memberships (account_id);

-- (id, organization_id) is unique so that team members and grants can name both, and the database
-- refuses a team of one organization holding a member or an application of another.
CREATE TABLE teams (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (id, organization_id)
);
CREATE UNIQUE INDEX teams_name_key ON teams (organization_id, lower(name));

-- A team member is a member of the team's organization: removing the membership removes them from
-- its teams (the foreign key on memberships cascades).
CREATE TABLE team_members (
  team_id uuid NOT NULL,
  organization_id uuid NOT NULL,
  account_id uuid NOT NULL,
  PRIMARY KEY (team_id, account_id),
  FOREIGN KEY (team_id, organization_id) REFERENCES teams (id, organization_id) ON DELETE CASCADE,
  FOREIGN KEY (organization_id, account_id) REFERENCES memberships (organization_id, account_id) ON DELETE CASCADE
);
CREATE INDEX team_members_member_idx ON team_members (organization_id, account_id);

ALTER TABLE applications ADD COLUMN organization_id uuid REFERENCES organizations (id);
CREATE UNIQUE INDEX applications_id_org_key ON applications (id, organization_id);

-- Access to one application for one member or one team, of the application's organization (the
-- composite keys check it; a NULL column leaves its key unchecked, so each grant checks one).
-- Removing the member or the team removes its grants.
CREATE TABLE application_grants (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL,
  application_id uuid NOT NULL,
  account_id uuid,
  team_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((account_id IS NULL) <> (team_id IS NULL)),
  FOREIGN KEY (application_id, organization_id) REFERENCES applications (id, organization_id) ON DELETE CASCADE,
  FOREIGN KEY (organization_id, account_id) REFERENCES memberships (organization_id, account_id) ON DELETE CASCADE,
  FOREIGN KEY (team_id, organization_id) REFERENCES teams (id, organization_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX application_grants_account_key ON application_grants (application_id, account_id) WHERE account_id IS NOT NULL;
CREATE UNIQUE INDEX application_grants_team_key ON application_grants (application_id, team_id) WHERE team_id IS NOT NULL;
CREATE INDEX application_grants_member_idx ON application_grants (organization_id, account_id) WHERE account_id IS NOT NULL;
CREATE INDEX application_grants_team_idx ON application_grants (team_id) WHERE team_id IS NOT NULL;

-- Every existing account gets its personal organization, named as sign-up names it
-- (src/db/repositories/organizations.ts personalOrganizationName), with the account as legal
-- representative. founder_id only links the two inserts and goes at the end.
ALTER TABLE organizations ADD COLUMN founder_id uuid;
INSERT INTO organizations (id, name, type, founder_id, created_at)
SELECT gen_random_uuid(),
       COALESCE(NULLIF(btrim(concat_ws(' ', btrim(given_name), btrim(family_name))), ''), NULLIF(btrim(name), ''), split_part(email, '@', 1)),
       'personal', id, created_at
FROM accounts;
INSERT INTO memberships (organization_id, account_id, role, created_at)
SELECT id, founder_id, 'legal_representative', created_at FROM organizations WHERE founder_id IS NOT NULL;
UPDATE applications SET organization_id = o.id FROM organizations o WHERE o.founder_id = applications.owner_id;
ALTER TABLE organizations DROP COLUMN founder_id;

-- Applications registered from the command line have no owner: they go to one organization of the
-- operator's, with no member (nobody manages them from the pages, as before; `sesame org add-member`
-- gives them a manager). Its id is fixed (OPERATOR_ORGANIZATION_ID) so that `client create` without
-- --org finds it.
INSERT INTO organizations (id, name, type)
SELECT '00000000-0000-4000-8000-000000000000', 'Operator', 'company'
WHERE EXISTS (SELECT 1 FROM applications WHERE owner_id IS NULL);
UPDATE applications SET organization_id = '00000000-0000-4000-8000-000000000000' WHERE owner_id IS NULL;
ALTER TABLE applications ALTER COLUMN organization_id SET NOT NULL;
CREATE INDEX applications_organization_idx ON applications (organization_id);
