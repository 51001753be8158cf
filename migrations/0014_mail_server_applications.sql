-- Mail server applications (issue 14): a mail server (Dovecot's oauth2 passdb) checks its users' app
-- passwords with the password grant, authenticated by its client secret (app-passwords/password-grant.ts).
ALTER TABLE applications DROP CONSTRAINT applications_type_check;
ALTER TABLE applications ADD CONSTRAINT applications_type_check CHECK (type IN ('web', 'spa', 'service', 'mail_server'));
