// PostgreSQL advisory lock ids, one per job, all here so that two jobs never share one (a shared id
// made a node's start wait for another node's cleanup round).
export const ADVISORY_LOCKS = {
  migrations: 7_355_608,
  signingKeys: 7_355_609,
  cleanup: 7_355_610,
} as const;
