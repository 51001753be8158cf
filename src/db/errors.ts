// What a failed query means, where the caller can answer it: pg and PGlite both put PostgreSQL's
// SQLSTATE on the driver's error, which drizzle wraps as the `cause` of a DrizzleQueryError.

/** SQLSTATE 23505 unique_violation (PostgreSQL, Appendix A): another row already has this value. */
const UNIQUE_VIOLATION = '23505';

function sqlState(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** True when the write failed because a unique index already holds the value ("already taken"). */
export function isUniqueViolation(err: unknown): boolean {
  return sqlState(err) === UNIQUE_VIOLATION;
}

/** SQLSTATE class 22 (data exception: a value the column cannot hold, e.g. 22P02 invalid text for a
 *  uuid): input the edge should have refused — bad input all the same, never a server error. */
export function isDataException(err: unknown): boolean {
  return sqlState(err)?.startsWith('22') ?? false;
}

/** SQLSTATE 23503 foreign_key_violation: the row names one that does not exist (or no longer), e.g.
 *  a team member who is not a member of the team's organization. */
export function isForeignKeyViolation(err: unknown): boolean {
  return sqlState(err) === '23503';
}
