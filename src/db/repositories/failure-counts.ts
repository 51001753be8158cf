// Failed-attempt counters, shared by the two budgets the lockout keeps: an account's (for browsers
// it does not know) and each trusted browser's (trusted_devices). Both tables have the same columns.
import { sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';

/** Failed answers are counted per kind: a password-only attacker cannot spend the second-factor
 *  budget, and the other way round. */
export type FailureKind = 'password' | 'second_factor';
export const FAILURE_COLUMN = { password: 'failedPasswords', second_factor: 'failedSecondFactors' } as const;
/** Failures older than this are forgiven: a mistyped password in March does not add up with one in
 *  December. Only a completed sign-in or an unlock forgives sooner. */
const FAILURES_FORGOTTEN_AFTER = sql.raw(`interval '90 days'`);

export interface FailureColumns {
  failedPasswords: PgColumn;
  failedSecondFactors: PgColumn;
  failedAt: PgColumn;
}

const stale = (t: FailureColumns) =>
  sql`(${t.failedAt} IS NULL OR ${t.failedAt} < now() - ${FAILURES_FORGOTTEN_AFTER})`;

/** True for a row whose failures still count (some, and not yet forgotten). */
export function heldFailures(t: FailureColumns): SQL {
  return sql`(NOT ${stale(t)} AND (${t.failedPasswords} > 0 OR ${t.failedSecondFactors} > 0))`;
}

/** The SET of one more failure of `kind` (both counts start over when the last failure is too old). */
export function countedFailure(t: FailureColumns, kind: FailureKind): Record<string, SQL> {
  const old = stale(t);
  const other = kind === 'password' ? 'failedSecondFactors' : 'failedPasswords';
  return {
    [FAILURE_COLUMN[kind]]: sql`CASE WHEN ${old} THEN 1 ELSE ${t[FAILURE_COLUMN[kind]]} + 1 END`,
    [other]: sql`CASE WHEN ${old} THEN 0 ELSE ${t[other]} END`,
    failedAt: sql`now()`,
  };
}
