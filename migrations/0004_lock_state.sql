-- Lock state has one owner, the database (issue 9): failed-attempt counters move here from the
-- store, so `sesame user unlock` clears what the servers read, whatever store they use, and a
-- store restart does not forgive anyone's failed attempts.
ALTER TABLE accounts ADD COLUMN failed_passwords integer NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN failed_second_factors integer NOT NULL DEFAULT 0;
-- When the last failure was counted: counts older than 90 days start over.
ALTER TABLE accounts ADD COLUMN failed_at timestamptz;
